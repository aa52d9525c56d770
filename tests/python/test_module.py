"""The Python module: loading, checking (body, keyword and batch forms), stats, diagnostics, errors."""
from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

import preflight

MAP_PLAN = (
    "{accounts=[{op=Modify, instance=null, application=Active_Directory, "
    "attributes=[{op=Add, name=groupmbr, value=UnixAdministration}], nativeIdentity=null}]}"
)
JSON_MEDIA = "application/sailpoint.object.ProvisioningPlan+json"
SCHEMA = "urn:ietf:params:scim:schemas:sailpoint:1.0:CheckedPolicyViolation"
EXTENSION = "urn:ietf:params:scim:schemas:extension:preflight:1.0:CheckedPolicyViolation"
SOD_117 = {
    "policyName": "SOD Policy",
    "constraintName": "IT SOD-117",
    "description": "Security design should not be combined with administrative permissions.",
    "leftBundles": ["Security Architect - IT"],
    "policyType": "SOD",
    "entitlements": [],
    "rightBundles": ["Unix Administrator - IT"],
}


def response(plan_value: str, plan_type: str, policies: Any = None, violations: Any = None) -> dict[str, Any]:
    """The response resource in IdentityIQ's key order (violations only when there are any)."""
    out: dict[str, Any] = {}
    if violations:
        out["violations"] = violations
    out["identity"] = "Ryan.Russell"
    out["schemas"] = [SCHEMA]
    out["plan"] = {"value": plan_value, "type": plan_type}
    if policies is not None:
        out["policies"] = policies
    out["meta"] = {"resourceType": "CheckedPolicyViolation"}
    return out


# --- the documented example ------------------------------------------------------------


def test_documented_example_is_exact(engine: Any, request_body: dict[str, Any], expected_response: dict[str, Any]) -> None:
    assert engine.check(request_body) == expected_response


def test_documented_example_from_json_text_and_bytes(examples_dir: Path, engine: Any, expected_response: dict[str, Any]) -> None:
    text = (examples_dir / "request.json").read_text()
    assert engine.check(text) == expected_response
    assert engine.check(text.encode()) == expected_response
    assert json.loads(engine.check_json(text)) == expected_response


def test_check_json_is_compact_or_indented(engine: Any, request_body: dict[str, Any], expected_response: dict[str, Any]) -> None:
    compact = engine.check_json(request_body)
    assert "\n" not in compact
    assert compact == json.dumps(expected_response, separators=(",", ":"))
    indented = engine.check_json(request_body, indent=2)
    assert json.loads(indented) == expected_response
    assert indented.startswith('{\n  "violations": [\n')


def test_response_key_order_is_iiqs(engine: Any, request_body: dict[str, Any]) -> None:
    assert list(engine.check(request_body)) == ["violations", "identity", "schemas", "plan", "policies", "meta"]


# --- keyword form ----------------------------------------------------------------------


def test_keyword_form_map_plan(engine: Any) -> None:
    got = engine.check(
        identity="Ryan.Russell", plan=MAP_PLAN, plan_type="map",
        policies=["SOD Policy", "Entitlement Policy", "RandomPolicyNotExisting"],
    )
    assert got == response(MAP_PLAN, JSON_MEDIA, ["SOD Policy", "Entitlement Policy", "RandomPolicyNotExisting"], [SOD_117])


def test_keyword_form_detects_the_plan_form_and_checks_all_active_policies(engine: Any) -> None:
    assert engine.check(identity="Ryan.Russell", plan=MAP_PLAN) == response(MAP_PLAN, JSON_MEDIA, None, [SOD_117])


def test_keyword_form_with_other_policies_has_no_violations(engine: Any) -> None:
    got = engine.check(identity="Ryan.Russell", plan=MAP_PLAN, policies=["Entitlement Policy"])
    assert got == response(MAP_PLAN, JSON_MEDIA, ["Entitlement Policy"])
    assert "violations" not in got


def test_keyword_form_dict_plan_travels_as_tomap_json(engine: Any) -> None:
    plan = preflight.decode_plan(MAP_PLAN)
    got = engine.check(identity="Ryan.Russell", plan=plan)
    assert got == response(json.dumps(plan), JSON_MEDIA, None, [SOD_117])


def test_keyword_form_xml_plan(engine: Any) -> None:
    xml = preflight.convert_plan(MAP_PLAN, to="xml")
    assert engine.check(identity="Ryan.Russell", plan=xml, plan_type="xml") == response(xml, "application/xml", None, [SOD_117])
    assert engine.check(identity="Ryan.Russell", plan=xml) == response(xml, "application/xml", None, [SOD_117])


def test_keyword_form_accepts_a_media_type(engine: Any) -> None:
    got = engine.check(identity="Ryan.Russell", plan=MAP_PLAN, plan_type=JSON_MEDIA)
    assert got == response(MAP_PLAN, JSON_MEDIA, None, [SOD_117])


def test_role_assignment_is_expanded_and_violates(engine: Any) -> None:
    plan = {"accounts": [{"application": "IIQ", "op": "Modify",
                          "attributes": [{"name": "assignedRoles", "op": "Add", "value": "Unix Administrator"}]}]}
    assert engine.check(identity="Ryan.Russell", plan=plan)["violations"] == [SOD_117]


def test_explain_adds_reasons(engine: Any, request_body: dict[str, Any], expected_response: dict[str, Any]) -> None:
    got = engine.check(request_body, explain=True)
    expected = copy.deepcopy(expected_response)
    expected["schemas"].append(EXTENSION)
    expected[EXTENSION] = {
        "explanations": [{
            "policyName": "SOD Policy",
            "constraintName": "IT SOD-117",
            "reasons": [
                {"side": "left", "kind": "role", "name": "Security Architect - IT", "source": "existing"},
                {"side": "right", "kind": "role", "name": "Unix Administrator - IT", "source": "plan"},
            ],
        }],
        "diagnostics": [],
    }
    assert got == expected


def test_request_and_keywords_are_exclusive(engine: Any, request_body: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        engine.check(request_body, identity="Ryan.Russell")
    with pytest.raises(TypeError):
        engine.check()
    with pytest.raises(TypeError):
        engine.check(identity="Ryan.Russell")
    with pytest.raises(TypeError):
        engine.check(identity="Ryan.Russell", plan=42)


# --- batch -----------------------------------------------------------------------------


def test_batch_answers_in_order(engine: Any, request_body: dict[str, Any], expected_response: dict[str, Any]) -> None:
    only_entitlements = dict(request_body, policies=["Entitlement Policy"])
    got = engine.check_batch([request_body, json.dumps(only_entitlements), request_body])
    assert got == [
        expected_response,
        response(MAP_PLAN, JSON_MEDIA, ["Entitlement Policy"]),
        expected_response,
    ]
    assert engine.check_batch([]) == []


def test_batch_raises_or_returns_exceptions(engine: Any, request_body: dict[str, Any], expected_response: dict[str, Any]) -> None:
    bad = {"identity": "Ryan.Russell", "plan": {"value": "<ProvisioningPlan", "type": "application/xml"}}
    with pytest.raises(preflight.InvalidPlan):
        engine.check_batch([request_body, bad])
    got = engine.check_batch([request_body, bad, "{", request_body], return_exceptions=True)
    assert got[0] == expected_response and got[3] == expected_response
    # IdentityIQ answers every failure inside a check with invalidValue (CheckedPolicyViolationService).
    assert isinstance(got[1], preflight.InvalidPlan) and got[1].scim_type == "invalidValue"
    assert got[1].detail.startswith("XML is not valid for key: value: malformed XML")
    assert isinstance(got[2], preflight.InvalidSyntax) and got[2].scim_type == "invalidSyntax"


# --- engine ----------------------------------------------------------------------------


def test_engine_limits_are_applied_and_checked(demo_snapshot: Path, request_body: dict[str, Any], expected_response: dict[str, Any]) -> None:
    tight = preflight.Engine.load(demo_snapshot, limits={"max_batch_requests": 2, "max_input_bytes": 1000})
    assert tight.check_batch([request_body, request_body]) == [expected_response, expected_response]
    with pytest.raises(preflight.TooMany) as info:
        tight.check_batch([request_body] * 3)
    assert "3 requests exceeds the limit of 2" in info.value.detail
    with pytest.raises(preflight.TooMany):
        tight.check(dict(request_body, identity="x" * 2000))
    filters = preflight.Engine.load(demo_snapshot, limits={"max_filter_length": 5})
    with pytest.raises(preflight.TooMany):
        filters.query("Users", filter="userName pr")

    with pytest.raises(preflight.InvalidValue) as bad:
        preflight.Engine.load(demo_snapshot, limits={"max_depth": 3})
    assert bad.value.detail.startswith("unknown limit 'max_depth': expected one of max_input_bytes, ")
    with pytest.raises(preflight.InvalidValue) as zero:
        preflight.SharedEngine.load(demo_snapshot, limits={"max_nesting_depth": 0})
    assert zero.value.detail == "limit max_nesting_depth must be between 1 and 128, not 0"


def test_stats_counts(engine: Any) -> None:
    stats = engine.stats()
    # The same JSON as `preflight snapshot stats` (one serializer, engine/wire/).
    assert stats["counts"] == {
        "identities": 2, "accounts": 3, "roles": 4, "policies": 2, "constraints": 2, "applications": 2,
        "entitlements": 4, "roleAssignments": 1, "entitlementValues": 6, "strings": 46,
        "consistentDetection": 2, "provisionedAssignments": 2,
    }
    assert set(stats) == {"counts", "memory", "load", "diagnostics"}
    assert stats["diagnostics"] == []
    assert stats["load"]["files"] == 4
    assert stats["load"]["bytes"] == sum(p.stat().st_size for p in (Path(__file__).parents[2] / "examples" / "demo-snapshot").iterdir())
    assert stats["memory"]["approxBytes"] > 0


def test_diagnostics_of_clean_and_broken_snapshots(engine: Any, tmp_path: Path, demo_snapshot: Path) -> None:
    assert engine.diagnostics() == []
    broken = tmp_path / "broken.xml"
    broken.write_text("<sailpoint><Bundle name='X' type='it'><Inheritance><Reference class='sailpoint.object.Bundle' "
                      "name='Missing'/></Inheritance></Bundle></sailpoint>")
    # Fail-closed: refused by default, naming the problem; loaded on request, with the diagnostics.
    with pytest.raises(preflight.InvalidValue) as refused:
        preflight.Engine.load([demo_snapshot, broken])
    assert refused.value.detail.startswith("snapshot refused: 1 load error: ")
    assert "unknown role 'Missing'" in refused.value.detail
    loaded = preflight.Engine.load([demo_snapshot, broken], allow_partial=True)
    diagnostics = loaded.diagnostics()
    assert diagnostics == loaded.stats()["diagnostics"]
    assert [(d["severity"], d["code"]) for d in diagnostics] == [("error", "invalidValue")]
    assert "Missing" in diagnostics[0]["message"]
    assert loaded.info["partial"] is True and loaded.info["load_errors"] == 1


def test_load_accepts_one_path_a_list_and_pathlike(demo_snapshot: Path, request_body: dict[str, Any], expected_response: dict[str, Any]) -> None:
    files = sorted(demo_snapshot.iterdir())
    for source in (str(demo_snapshot), demo_snapshot, files, [str(f) for f in files]):
        assert preflight.Engine.load(source).check(request_body) == expected_response


def test_load_missing_path_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(preflight.NotFound) as info:
        preflight.Engine.load(tmp_path / "nope")
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.scim_type == "notFound"


# --- errors ----------------------------------------------------------------------------


def test_bad_json_is_invalid_syntax(engine: Any) -> None:
    with pytest.raises(preflight.InvalidSyntax) as info:
        engine.check('{"identity": "Ryan.Russell",')
    e = info.value
    assert isinstance(e, ValueError) and isinstance(e, preflight.PreflightError)
    assert e.scim_type == "invalidSyntax"
    assert e.detail.startswith("request body is not valid JSON")
    assert set(e.location) == {"file", "line", "column", "offset", "pointer"}


def test_unknown_plan_type_is_invalid_value_at_plan_type(engine: Any) -> None:
    body = {"identity": "Ryan.Russell", "plan": {"value": MAP_PLAN, "type": "text/plain"}}
    with pytest.raises(preflight.InvalidValue) as info:
        engine.check(body)
    e = info.value
    assert not isinstance(e, preflight.InvalidPlan)
    assert e.scim_type == "invalidValue"
    assert e.detail == ("unsupported plan type 'text/plain' (expected 'application/xml' or "
                        "'application/sailpoint.object.ProvisioningPlan+json')")
    assert e.location == {"file": None, "line": None, "column": None, "offset": None, "pointer": "/plan/type"}
    with pytest.raises(preflight.InvalidValue):
        engine.check(identity="Ryan.Russell", plan=MAP_PLAN, plan_type="yaml")


def test_missing_identity_points_at_it(engine: Any) -> None:
    with pytest.raises(preflight.InvalidValue) as info:
        engine.check({"plan": {"value": MAP_PLAN, "type": JSON_MEDIA}})
    assert info.value.detail == "Identity name is required."
    assert info.value.location["pointer"] == "/identity"
    assert str(info.value) == "at /identity: Identity name is required."


def test_unknown_identity(engine: Any) -> None:
    with pytest.raises(preflight.InvalidValue) as info:
        engine.check(identity="Nobody", plan=MAP_PLAN)
    assert info.value.scim_type == "invalidValue"
    assert info.value.detail == "Identity 'Nobody' not found in the snapshot"


def test_malformed_plan_is_invalid_plan_with_line_and_column(engine: Any) -> None:
    with pytest.raises(preflight.InvalidPlan) as info:
        engine.check(identity="Ryan.Russell", plan="<Prov", plan_type="xml")
    e = info.value
    assert isinstance(e, preflight.InvalidValue)
    # IdentityIQ's text first (CheckedPolicyViolationService), then Preflight's location.
    assert e.scim_type == "invalidValue"
    assert e.detail.startswith("XML is not valid for key: value: malformed XML")
    assert str(e).startswith("XML is not valid for key: value: line 1, column 5 at /plan/value: malformed XML")
    assert e.location == {"file": None, "line": 1, "column": 5, "offset": 4, "pointer": "/plan/value"}


def test_errors_render_as_scim_error_and_pickle(engine: Any) -> None:
    with pytest.raises(preflight.InvalidValue) as info:
        engine.check({"plan": {"value": MAP_PLAN, "type": JSON_MEDIA}})
    assert info.value.scim_error() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "400",
        "scimType": "invalidValue",
        "detail": "at /identity: Identity name is required.",
    }
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is preflight.InvalidValue
    assert (str(again), again.scim_type, again.detail, again.location) == (
        str(info.value), info.value.scim_type, info.value.detail, info.value.location)


def test_exception_hierarchy() -> None:
    assert issubclass(preflight.InvalidPlan, preflight.InvalidValue)
    assert issubclass(preflight.InvalidPath, preflight.InvalidFilter)
    for cls in (preflight.InvalidValue, preflight.InvalidFilter, preflight.InvalidSyntax, preflight.TooMany):
        assert issubclass(cls, preflight.PreflightError) and issubclass(cls, ValueError)
    assert issubclass(preflight.NotFound, FileNotFoundError)
    assert preflight.InvalidValue.__module__ == "preflight"


def test_version() -> None:
    assert preflight.__version__ == "0.1.0"
