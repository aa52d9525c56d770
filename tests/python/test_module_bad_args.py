"""Python's error contract (issue 14): every bad argument to every public function raises a
PreflightError subclass with scim_type, detail and location — never a pybind11 TypeError,
a UnicodeError or an OverflowError."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

import preflight

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-snapshot"
SURROGATE = "Ryan\udcff"          # a str Python allows but UTF-8 cannot encode
BAD_UTF8 = b'{"identity": "\xff"}'  # bytes that are not UTF-8
HUGE = 2**70                       # beyond any int64


@pytest.fixture(scope="module")
def engine() -> preflight.Engine:
    return preflight.Engine.load(DEMO)


def calls(engine: preflight.Engine) -> dict[str, Callable[[], Any]]:
    shared = preflight.SharedEngine(engine)
    plan = "<ProvisioningPlan/>"
    return {
        "load paths int": lambda: preflight.Engine.load(42),  # type: ignore[arg-type]
        "load paths surrogate": lambda: preflight.Engine.load(SURROGATE),
        "load limits not a dict": lambda: preflight.Engine.load(DEMO, limits=[1]),  # type: ignore[arg-type]
        "load limits huge": lambda: preflight.Engine.load(DEMO, limits={"max_nesting_depth": HUGE}),
        "load limits str value": lambda: preflight.Engine.load(DEMO, limits={"max_nesting_depth": "8"}),  # type: ignore[dict-item]
        "load allow_partial not bool": lambda: preflight.Engine.load(DEMO, allow_partial="yes"),  # type: ignore[arg-type]
        "check int body": lambda: engine.check(42),  # type: ignore[arg-type]
        "check bad utf8": lambda: engine.check(BAD_UTF8),
        "check surrogate body": lambda: engine.check('{"identity": "' + SURROGATE + '"}'),
        "check surrogate identity": lambda: engine.check(identity=SURROGATE, plan=plan),
        "check identity int": lambda: engine.check(identity=7, plan=plan),  # type: ignore[arg-type]
        "check plan int": lambda: engine.check(identity="Ryan.Russell", plan=7),  # type: ignore[arg-type]
        "check plan dict not serializable": lambda: engine.check(identity="Ryan.Russell", plan={"x": object()}),
        "check policies int": lambda: engine.check(identity="Ryan.Russell", plan=plan, policies=5),  # type: ignore[arg-type]
        "check policies of ints": lambda: engine.check(identity="Ryan.Russell", plan=plan, policies=[1]),  # type: ignore[list-item]
        "check explain not bool": lambda: engine.check(identity="Ryan.Russell", plan=plan, explain=1),  # type: ignore[arg-type]
        "check both forms": lambda: engine.check({"identity": "x"}, identity="x", plan=plan),
        "check neither form": lambda: engine.check(),
        "check_json indent huge": lambda: engine.check_json(identity="Ryan.Russell", plan=plan, indent=HUGE),
        "check_batch not a list": lambda: engine.check_batch(3),  # type: ignore[arg-type]
        "check_batch a dict": lambda: engine.check_batch({"identity": "x"}),  # type: ignore[arg-type]
        "check_batch item int": lambda: engine.check_batch([1]),  # type: ignore[list-item]
        "check_batch item bad utf8": lambda: engine.check_batch([BAD_UTF8]),
        "compile identity int": lambda: engine.compile(1, plan),  # type: ignore[arg-type]
        "compile plan surrogate": lambda: engine.compile("Ryan.Russell", SURROGATE),
        "query type int": lambda: engine.query(5),  # type: ignore[arg-type]
        "query filter int": lambda: engine.query("Users", 5),  # type: ignore[arg-type]
        "query attributes int": lambda: engine.query("Users", attributes=5),  # type: ignore[arg-type]
        "query count huge": lambda: engine.query("Users", count=HUGE),
        "query count str": lambda: engine.query("Users", count="10"),  # type: ignore[arg-type]
        "query start_index bool": lambda: engine.query("Users", start_index=True),
        "query sort_order bad": lambda: engine.query("Users", sort_order="up"),  # type: ignore[arg-type]
        "resource id int": lambda: engine.resource("Users", 5),  # type: ignore[arg-type]
        "resource missing": lambda: engine.resource("Users", "no-such-id"),
        "shared of a str": lambda: preflight.SharedEngine("x"),  # type: ignore[arg-type]
        "shared swap int": lambda: shared.swap(5),  # type: ignore[arg-type]
        "decode_plan int": lambda: preflight.decode_plan(5),  # type: ignore[arg-type]
        "decode_plan bad utf8": lambda: preflight.decode_plan(b"\xff\xfe"),  # type: ignore[arg-type]
        "decode_plan format int": lambda: preflight.decode_plan(plan, 3),  # type: ignore[arg-type]
        "encode_plan str": lambda: preflight.encode_plan("x"),  # type: ignore[arg-type]
        "encode_plan indent neg": lambda: preflight.encode_plan({}, indent=-1),
        "convert_plan to int": lambda: preflight.convert_plan(plan, 1),  # type: ignore[arg-type]
        "convert_plan to yaml": lambda: preflight.convert_plan(plan, "yaml"),  # type: ignore[arg-type]
        "detect_plan_format int": lambda: preflight.detect_plan_format(1),  # type: ignore[arg-type]
        "compile_plan engine str": lambda: preflight.compile_plan("x", "Ryan.Russell", plan),  # type: ignore[arg-type]
        "parse_filter int": lambda: preflight.parse_filter(1),  # type: ignore[arg-type]
        "parse_filter surrogate": lambda: preflight.parse_filter('userName eq "' + SURROGATE + '"'),
        "parse_filter limits huge": lambda: preflight.parse_filter("title pr", limits={"max_filter_depth": HUGE}),
        "parse_path_sexpr int": lambda: preflight.parse_path_sexpr(1),  # type: ignore[arg-type]
        "evaluate_filter resource int": lambda: preflight.evaluate_filter("title pr", 1),  # type: ignore[arg-type]
        "evaluate_filter resource bad utf8": lambda: preflight.evaluate_filter("title pr", b"\xff"),
    }


def test_every_bad_argument_is_a_preflight_error(engine: preflight.Engine) -> None:
    failures = []
    for name, call in calls(engine).items():
        try:
            call()
        except preflight.PreflightError as e:
            if not (isinstance(e.scim_type, str) and e.scim_type and isinstance(e.detail, str) and e.detail
                    and set(e.location) == {"file", "line", "column", "offset", "pointer"}):
                failures.append(f"{name}: incomplete error {e!r}")
        except BaseException as e:  # noqa: BLE001 - anything else breaks the contract
            failures.append(f"{name}: {type(e).__name__}: {e}")
        else:
            failures.append(f"{name}: no error")
    assert failures == []


def test_wrong_types_are_also_type_errors(engine: preflight.Engine) -> None:
    with pytest.raises(TypeError) as info:
        engine.check(42)  # type: ignore[arg-type]
    assert isinstance(info.value, preflight.InvalidType)
    assert info.value.scim_type == "invalidValue"
    assert info.value.detail == "request must be a dict, str or bytes, not int"


def test_invalid_utf8_names_the_byte(engine: preflight.Engine) -> None:
    with pytest.raises(preflight.InvalidValue) as info:
        engine.check(BAD_UTF8)
    assert info.value.detail == "request: not valid UTF-8 at byte 14"
    assert info.value.location["offset"] == 14


def test_out_of_range_integers(engine: preflight.Engine) -> None:
    with pytest.raises(preflight.InvalidValue) as info:
        engine.query("Users", count=HUGE)
    assert info.value.detail == f"count must be between {-2**63} and {2**63 - 1}, not {HUGE}"
    with pytest.raises(preflight.InvalidValue) as limit:
        preflight.Engine.load(DEMO, limits={"max_nesting_depth": HUGE})
    assert limit.value.detail == f"limits['max_nesting_depth'] must be between {-2**63} and {2**63 - 1}, not {HUGE}"


def test_a_missing_resource_is_no_such_resource(engine: preflight.Engine) -> None:
    with pytest.raises(preflight.NoSuchResource) as info:
        engine.resource("Users", "no-such-id")
    assert info.value.scim_type == "noSuchResource"
    assert info.value.scim_error()["status"] == "404"
    assert engine.resource("Users", engine.query("Users", count=1)["Resources"][0]["id"])["userName"] == "Ryan.Russell"
