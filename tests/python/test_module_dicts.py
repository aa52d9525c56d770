"""A request dict is read natively, without JSON text in between (issue 17). Its answer must
be, byte for byte, the answer to its JSON text, and a dict that is not a valid body must raise
exactly what its JSON text raises: the same class, message, detail, SCIM type and location.

The reference is the path every dict took before: preflight._args.json_text (json.dumps with
ensure_ascii=False, allow_nan=False) and the engine's JSON reader."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

import pytest

import preflight
from preflight import _args

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo-snapshot"
JSON_TYPE = "application/sailpoint.object.ProvisioningPlan+json"
XML_TYPE = "application/xml"


@pytest.fixture(scope="module")
def engine() -> preflight.Engine:
    return preflight.Engine.load(DEMO)


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """What a call did: its answer, or everything its exception carries."""
    try:
        return ("answer", call())
    except preflight.PreflightError as e:
        return ("error", type(e), str(e), e.scim_type, e.detail, dict(e.location))


def via_text(request: Any, call: Callable[[Any], Any], name: str = "request") -> tuple[Any, ...]:
    """The outcome of `call` on the request's JSON text, as the module made it before."""
    try:
        text = _args.json_text(request, name)
    except preflight.PreflightError as e:
        return ("error", type(e), str(e), e.scim_type, e.detail, dict(e.location))
    return outcome(lambda: call(text))


def corpus_requests(engine: preflight.Engine) -> list[dict[str, Any]]:
    """Request bodies over the demo snapshot: the example request, every corpus and golden
    plan (XML and JSON) for several identities, with and without policies."""
    users = [u["userName"] for u in engine.query("Users", attributes=["userName"])["Resources"]][:4]
    plans: list[tuple[str, str]] = []
    for path in sorted((REPO / "tests" / "corpus" / "plans").glob("*.xml")):
        plans.append((path.read_text(), XML_TYPE))
    for path in sorted((REPO / "tests" / "golden").glob("*.plan.json")):
        plans.append((path.read_text(), JSON_TYPE))
    plans.append(((REPO / "examples" / "plan.xml").read_text(), XML_TYPE))
    plans.append(((REPO / "examples" / "plan.json").read_text(), JSON_TYPE))
    out = [json.loads((REPO / "examples" / "request.json").read_text())]
    for i, (value, kind) in enumerate(plans):
        for j, user in enumerate(users):
            body: dict[str, Any] = {"identity": user, "plan": {"value": value, "type": kind}}
            if (i + j) % 3 == 1:
                body["policies"] = ["SOD Policy", "Entitlement Policy"]
            elif (i + j) % 3 == 2:
                body["policies"] = "SOD Policy, Entitlement Policy"
            out.append(body)
    return out


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated workload (benchmarks/gen_workload.py): requests with violations."""
    out = tmp_path_factory.mktemp("dicts") / "w"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "gen_workload.py"), "--out", str(out),
                    "--identities", "300", "--allow-small", "--constraints", "60", "--requests", "300",
                    "--seed", "17"], check=True, capture_output=True, text=True)
    return out


def test_dicts_answer_as_their_json_text_on_the_corpus(engine: preflight.Engine) -> None:
    requests = corpus_requests(engine)
    assert len(requests) > 50
    answered, _ = same_answers(engine, requests)
    assert answered >= 20  # answers and errors both


def test_dicts_answer_as_their_json_text_on_a_workload(workload: Path) -> None:
    engine = preflight.Engine.load(str(workload / "xml"))
    requests = [json.loads(line) for line in (workload / "requests.jsonl").read_text().splitlines()]
    answered, violating = same_answers(engine, requests)
    assert answered == 2 * len(requests)  # with and without explain
    assert violating > 20  # the comparison covers answers with violations


def same_answers(engine: preflight.Engine, requests: list[dict[str, Any]]) -> tuple[int, int]:
    """Checks every request as a dict and as its text, alone and in a batch: the same
    outcomes. How many answers there were, and how many reported a violation."""
    answered = violating = 0
    for request in requests:
        for explain in (False, True):
            want_text = via_text(request, lambda t: engine.check_json(t, explain=explain))
            assert outcome(lambda: engine.check_json(request, explain=explain)) == want_text
            want = via_text(request, lambda t: engine.check(t, explain=explain))
            got = outcome(lambda: engine.check(request, explain=explain))
            assert got == want
            if got[0] == "answer":
                answered += 1
                # The dict built from the response's events is json.loads of its text, in order.
                assert json.dumps(got[1]) == json.dumps(json.loads(want_text[1]))
                violating += "violations" in got[1]
    batch = engine.check_batch(requests, return_exceptions=True)
    texts = engine.check_batch([json.dumps(r) for r in requests], return_exceptions=True)
    assert [outcome(lambda: b) if not isinstance(b, Exception) else type(b) for b in batch] == [
        outcome(lambda: t) if not isinstance(t, Exception) else type(t) for t in texts
    ]
    for b, t in zip(batch, texts):
        if isinstance(b, preflight.PreflightError):
            assert isinstance(t, preflight.PreflightError)
            assert (type(b), str(b), b.detail, b.location) == (type(t), str(t), t.detail, t.location)
    return answered, violating


GOOD = {"identity": "Ryan.Russell", "plan": {"value": "<ProvisioningPlan/>", "type": XML_TYPE}}


def with_(**changes: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(GOOD))
    body.update(changes)
    return body


class Hashy(str):
    """A str subclass: json.dumps writes its text."""


def bad_and_odd_requests() -> dict[str, Any]:
    nested: Any = "leaf"
    for _ in range(70):  # deeper than the default budget of 64
        nested = {"n": nested}
    deep_list: Any = []
    for _ in range(200):
        deep_list = [deep_list]
    cycle: dict[str, Any] = {"identity": "Ryan.Russell"}
    cycle["self"] = cycle
    return {
        "non-str key int": with_(extra={1: "one"}),
        "non-str keys colliding": with_(extra={1: "a", "1": "b"}),
        "top-level int key": {**GOOD, 7: "x"},
        "bool and None keys": with_(extra={True: 1, None: 2}),
        "tuple key": with_(extra={(1, 2): "x"}),
        "nested too deep": with_(extra=nested),
        "list nested too deep": with_(extra=deep_list),
        "cycle": cycle,
        "nan": with_(extra=math.nan),
        "infinity": with_(extra=[1.0, math.inf]),
        "finite floats": with_(extra=[0.1, -0.0, 1e300, 5e-324]),
        "huge int": with_(extra=2**70),
        "int beyond int64 within uint64": with_(extra=2**63),
        "negative huge int": with_(extra=-(2**63) - 1),
        "int64 edges": with_(extra=[2**63 - 1, -(2**63)]),
        "bytes value": with_(extra=b"abc"),
        "bytes identity": with_(identity=b"Ryan.Russell"),
        "set value": with_(extra={1, 2}),
        "object value": with_(extra=object()),
        "surrogate identity": with_(identity="Ryan\udcff"),
        "surrogate key": with_(extra={"k\udcff": 1}),
        "surrogate plan value": with_(plan={"value": "<P a='\ud800'/>", "type": XML_TYPE}),
        "str subclass value": with_(identity=Hashy("Ryan.Russell")),
        "str subclass key": {Hashy("identity"): "Ryan.Russell", "plan": GOOD["plan"]},
        "OrderedDict body": OrderedDict(GOOD),
        "OrderedDict plan": with_(plan=OrderedDict(GOOD["plan"])),
        "tuple policies": with_(policies=("SOD Policy",)),
        "policies str": with_(policies=" SOD Policy ,, Entitlement Policy "),
        "policies empty list": with_(policies=[]),
        "policies with int": with_(policies=["SOD Policy", 3]),
        "policies dict": with_(policies={"a": 1}),
        "policies None": with_(policies=None),
        "identity missing": {"plan": GOOD["plan"]},
        "identity None": with_(identity=None),
        "identity empty": with_(identity=""),
        "identity int": with_(identity=5),
        "identity unknown": with_(identity="Nobody.Here"),
        "plan missing": {"identity": "Ryan.Russell"},
        "plan None": with_(plan=None),
        "plan list": with_(plan=["x"]),
        "plan value missing": with_(plan={"type": XML_TYPE}),
        "plan value dict": with_(plan={"value": {"accounts": []}, "type": JSON_TYPE}),
        "plan type missing": with_(plan={"value": "<ProvisioningPlan/>"}),
        "plan type unknown": with_(plan={"value": "<ProvisioningPlan/>", "type": "xml"}),
        "plan type int": with_(plan={"value": "<ProvisioningPlan/>", "type": 1}),
        "plan xml broken": with_(plan={"value": "<ProvisioningPlan", "type": XML_TYPE}),
        "plan json broken": with_(plan={"value": '{"accounts": [', "type": JSON_TYPE}),
        "plan json duplicate key": with_(plan={"value": '{"identity": "a", "identity": "b"}', "type": JSON_TYPE}),
        "extra members": with_(extra={"deep": [{"a": [1, 2.5, None, True]}]}, more="x"),
        "control characters": with_(extra="tab\tnul\x00bell\x07 \u2028"),
        "non-ascii": with_(extra="Zoë 日本 😀", identity="Zoë.Nobody"),
        "non-ascii plan answered": with_(plan={"type": XML_TYPE, "value": (
            "<ProvisioningPlan><AccountRequest application='Active_Directory' op='Modify'>"
            "<AttributeRequest name='groups' op='Add' value='日本 😀 \u2028 \x7f'/></AccountRequest></ProvisioningPlan>")}),
        "list body": [GOOD],
        "tuple body": (GOOD,),
        "empty dict": {},
    }


@pytest.mark.parametrize("name", list(bad_and_odd_requests()))
def test_odd_and_bad_dicts_answer_and_fail_as_their_json_text(engine: preflight.Engine, name: str) -> None:
    request = bad_and_odd_requests()[name]
    got = outcome(lambda: engine.check(request))
    assert got == via_text(request, engine.check)
    if name.endswith("answered"):
        assert got[0] == "answer" and got[1]["plan"] == request["plan"]
    assert outcome(lambda: engine.check_json(request)) == via_text(request, engine.check_json)
    # In a batch the request is read under its index; a failed check stays in its place.
    got = outcome(lambda: engine.check_batch([GOOD, request], return_exceptions=True))
    want = via_text(request, lambda t: engine.check_batch([GOOD, t], return_exceptions=True), "requests[1]")
    assert summarize(got) == summarize(want)


def summarize(result: tuple[Any, ...]) -> tuple[Any, ...]:
    if result[0] != "answer":
        return result
    return ("answer", [r if not isinstance(r, preflight.PreflightError) else
                       (type(r), str(r), r.scim_type, r.detail, dict(r.location)) for r in result[1]])


@pytest.mark.parametrize("depth", [1, 2, 3, 15, 16, 17])
def test_the_nesting_budget_is_the_json_readers(depth: int) -> None:
    limited = preflight.Engine.load(DEMO, limits={"max_nesting_depth": 16})
    extra: Any = 1
    for _ in range(depth - 1):  # the body itself is the first level
        extra = [extra]
    request = with_(extra=extra) if depth > 1 else dict(GOOD)
    assert outcome(lambda: limited.check(request)) == via_text(request, limited.check)
    plan_deep: Any = "<ProvisioningPlan/>"
    request = with_(plan={"value": plan_deep, "type": XML_TYPE, "x": extra})
    assert outcome(lambda: limited.check(request)) == via_text(request, limited.check)


@pytest.mark.parametrize("budget", [150, 200, 400])
def test_the_size_budget_is_the_json_readers(budget: int) -> None:
    limited = preflight.Engine.load(DEMO, limits={"max_input_bytes": budget})
    for padding in range(0, 300, 7):
        request = with_(pad="é" * padding)
        assert outcome(lambda: limited.check(request)) == via_text(request, limited.check)


def test_a_batch_over_its_budget_raises_after_reading_every_request() -> None:
    limited = preflight.Engine.load(DEMO, limits={"max_batch_requests": 2})
    with pytest.raises(preflight.TooMany) as info:
        limited.check_batch([GOOD] * 3)
    assert info.value.detail == "batch of 3 requests exceeds the limit of 2"
    with pytest.raises(preflight.InvalidType) as bad:
        limited.check_batch([GOOD, GOOD, 5])  # type: ignore[list-item]
    assert bad.value.detail == "requests[2] must be a dict, str or bytes, not int"


def test_a_batch_reports_a_bad_request_before_a_bad_flag(engine: preflight.Engine) -> None:
    with pytest.raises(preflight.InvalidType) as info:
        engine.check_batch([GOOD, 5], explain="yes")  # type: ignore[list-item, arg-type]
    assert info.value.detail == "requests[1] must be a dict, str or bytes, not int"
    with pytest.raises(preflight.InvalidType) as flag:
        engine.check_batch([GOOD], explain="yes")  # type: ignore[arg-type]
    assert flag.value.detail == "explain must be True or False, not str"


def test_a_batch_takes_any_iterable_and_the_answers_are_fresh_objects(engine: preflight.Engine) -> None:
    answers = engine.check_batch(iter([GOOD, GOOD]))
    assert answers[0] == answers[1] == engine.check(json.dumps(GOOD))
    assert answers[0] is not answers[1]
    answers[0]["identity"] = "changed"
    assert engine.check(GOOD)["identity"] == "Ryan.Russell"


@pytest.mark.parametrize("indent", [False, True, 0.0, -1, 17, "2", None])
def test_a_bad_indent_or_flag_is_refused_as_before(engine: preflight.Engine, indent: Any) -> None:
    with pytest.raises(preflight.PreflightError):
        engine.check_json(GOOD, indent=indent)
    for flag in (0, 1, None, "yes"):
        with pytest.raises(preflight.InvalidType):
            engine.check(GOOD, explain=flag)
        with pytest.raises(preflight.InvalidType):
            engine.check_json(GOOD, explain=flag)


def test_a_plain_dict_never_becomes_json_text(engine: preflight.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The direct path is the one taken: with json_text out of order, dicts still answer
    (and what needs the text fails)."""
    want = engine.check(GOOD)
    want_text = engine.check_json(GOOD)

    def no_text(value: object, name: str) -> str:
        raise AssertionError(f"json_text({name}) called")

    monkeypatch.setattr(_args, "json_text", no_text)
    assert engine.check(GOOD) == want
    assert engine.check_json(GOOD) == want_text
    assert engine.check_batch([GOOD, GOOD]) == [want, want]
    assert engine.check(json.dumps(GOOD)) == want  # a str is text already
    with pytest.raises(AssertionError):
        engine.check(with_(extra=math.nan))
