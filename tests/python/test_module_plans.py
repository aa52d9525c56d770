"""ProvisioningPlan decode / encode / convert and the plan compiler through the Python module."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import preflight

MAP_PLAN = (
    "{accounts=[{op=Modify, instance=null, application=Active_Directory, "
    "attributes=[{op=Add, name=groupmbr, value=UnixAdministration}], nativeIdentity=null}]}"
)
MAP_PLAN_DICT = {
    "accounts": [{
        "application": "Active_Directory", "instance": None, "nativeIdentity": None, "op": "Modify",
        "attributes": [{"name": "groupmbr", "op": "Add", "value": "UnixAdministration"}],
    }]
}
MAP_PLAN_XML = """<?xml version='1.0' encoding='UTF-8'?>
<!DOCTYPE ProvisioningPlan PUBLIC "sailpoint.dtd" "sailpoint.dtd">
<ProvisioningPlan>
  <AccountRequest application="Active_Directory" op="Modify">
    <AttributeRequest name="groupmbr" op="Add" value="UnixAdministration"/>
  </AccountRequest>
</ProvisioningPlan>"""


PLANS = sorted((Path(__file__).resolve().parents[1] / "corpus" / "plans").glob("*.xml"))


def test_decode_map_form_exactly() -> None:
    assert preflight.decode_plan(MAP_PLAN) == MAP_PLAN_DICT
    assert preflight.decode_plan(MAP_PLAN, "map") == MAP_PLAN_DICT
    assert preflight.decode_plan(MAP_PLAN, "json") == MAP_PLAN_DICT  # the +json decoder takes the map form too


def test_encode_xml_exactly() -> None:
    assert preflight.encode_plan(MAP_PLAN_DICT, "xml") == MAP_PLAN_XML
    assert preflight.convert_plan(MAP_PLAN, to="xml") == MAP_PLAN_XML
    assert preflight.decode_plan(MAP_PLAN_XML) == MAP_PLAN_DICT


def test_encode_json_is_canonical() -> None:
    compact = preflight.encode_plan(MAP_PLAN_DICT)
    assert compact == json.dumps(MAP_PLAN_DICT, separators=(",", ":"))
    assert json.loads(preflight.encode_plan(MAP_PLAN_DICT, indent=2)) == MAP_PLAN_DICT
    assert preflight.convert_plan(MAP_PLAN, to="json") == compact


def test_detect_plan_format() -> None:
    assert preflight.detect_plan_format(MAP_PLAN) == "map"
    assert preflight.detect_plan_format(json.dumps(MAP_PLAN_DICT)) == "json"
    assert preflight.detect_plan_format("  " + MAP_PLAN_XML) == "xml"
    assert preflight.detect_plan_format("hello") is None


def test_corpus_is_present() -> None:
    assert len(PLANS) >= 10


@pytest.mark.parametrize("path", PLANS, ids=[p.name for p in PLANS])
def test_corpus_plan_round_trips(path: Path) -> None:
    text = path.read_text()
    plan = preflight.decode_plan(text, "xml")
    assert isinstance(plan, dict)
    # dict -> XML -> dict and dict -> JSON -> dict are exact.
    xml = preflight.encode_plan(plan, "xml")
    assert preflight.decode_plan(xml, "xml") == plan
    assert preflight.encode_plan(preflight.decode_plan(xml), "xml") == xml
    assert preflight.decode_plan(preflight.encode_plan(plan, "json"), "json") == plan
    # convert agrees with decode + encode, in both directions.
    assert preflight.convert_plan(text, to="json", from_="xml") == preflight.encode_plan(plan, "json")
    assert preflight.convert_plan(text, to="xml") == xml
    assert preflight.convert_plan(preflight.convert_plan(text, to="json"), to="xml") == xml


def test_identity_request_corpus_plan_content() -> None:
    path = Path(__file__).resolve().parents[1] / "corpus" / "plans" / "mahesh-RolesProvisioning-seg01-iiq-assignedRoles-add.xml"
    plan = preflight.decode_plan(path.read_text())
    iiq = [a for a in plan["accounts"] if a.get("application") == "IIQ"]
    assert len(iiq) == 1
    assert [a["name"] for a in iiq[0]["attributes"]] == ["assignedRoles"]
    assert iiq[0]["attributes"][0]["op"] == "Add"


def test_bad_plans_raise_invalid_plan() -> None:
    with pytest.raises(preflight.InvalidPlan) as info:
        preflight.decode_plan("<ProvisioningPlan><AccountRequest", "xml")
    assert info.value.scim_type == "invalidSyntax"
    assert info.value.location["line"] == 1
    with pytest.raises(preflight.InvalidPlan) as info:
        preflight.encode_plan({"accounts": [{"op": "Frobnicate"}]}, "xml")
    assert info.value.scim_type == "invalidValue"
    assert info.value.location["pointer"] is not None
    with pytest.raises(preflight.InvalidValue):
        preflight.decode_plan("hello")  # no form to detect
    with pytest.raises(preflight.InvalidValue):
        preflight.convert_plan(MAP_PLAN, to="map")  # type: ignore[arg-type]


def test_compile_plain_plan(engine: Any) -> None:
    report = preflight.compile_plan(engine, "Ryan.Russell", MAP_PLAN)
    ad_pre = {"application": "Active_Directory", "nativeIdentity": "CN=Ryan Russell,OU=Users,DC=example,DC=com",
              "attributes": {"sAMAccountName": "ryan.russell", "mail": "Ryan.Russell@example.com",
                             "groupmbr": ["Domain Users", "SecurityDesign"]}}
    ad_post = json.loads(json.dumps(ad_pre))
    ad_post["attributes"]["groupmbr"].append("UnixAdministration")
    financials = {"application": "Financials", "nativeIdentity": "rrussell", "attributes": {"capability": ["ViewReports"]}}
    assert report == {
        "identity": "Ryan.Russell",
        "plan": MAP_PLAN_DICT,
        "expansions": [],
        "pre": {"assignedRoles": [], "detectedRoles": ["Security Architect - IT"], "accounts": [ad_pre, financials]},
        "post": {"assignedRoles": [], "detectedRoles": ["Security Architect - IT", "Unix Administrator - IT"],
                 "accounts": [ad_post, financials]},
        "diagnostics": [],
    }


def test_compile_role_assignment_expands(engine: Any) -> None:
    plan = {"accounts": [{"application": "IIQ", "op": "Modify",
                          "attributes": [{"name": "assignedRoles", "op": "Add", "value": "Unix Administrator"}]}]}
    report = engine.compile("Ryan.Russell", plan)
    assert report["expansions"] == [{"role": "Unix Administrator", "via": "Unix Administrator - IT",
                                     "application": "Active_Directory", "attribute": "groupmbr",
                                     "value": "UnixAdministration"}]
    assert report["plan"]["accounts"][1] == {
        "application": "Active_Directory", "instance": None, "nativeIdentity": None, "op": "Modify",
        "attributes": [{"name": "groupmbr", "op": "Add", "value": "UnixAdministration",
                        "args": {"assignment": True, "sourceRole": "Unix Administrator"}}],
        "args": {"preflightExpansion": True},
    }
    assert report["post"]["assignedRoles"] == ["Unix Administrator"]
    assert report["post"]["detectedRoles"] == ["Security Architect - IT", "Unix Administrator - IT"]


def test_compile_errors(engine: Any) -> None:
    with pytest.raises(preflight.InvalidValue) as info:
        preflight.compile_plan(engine, "Nobody", MAP_PLAN)
    assert info.value.detail == "Identity 'Nobody' not found in the snapshot"
    with pytest.raises(preflight.InvalidPlan):
        preflight.compile_plan(engine, "Ryan.Russell", "<ProvisioningPlan", "xml")


def test_plan_limits_are_per_call() -> None:
    plan = "{accounts=[{op=Modify, application=A, attributes=[{op=Add, name=g, value=[x, y, z]}]}]}"
    # The list counts as a value, and so does each of its items.
    decoded = preflight.decode_plan(plan, limits={"max_plan_values": 4})
    assert decoded["accounts"][0]["attributes"][0]["value"] == ["x", "y", "z"]
    with pytest.raises(preflight.TooMany) as info:
        preflight.decode_plan(plan, limits={"max_plan_values": 3})
    assert "plan has more than 3 values (max_plan_values)" in info.value.detail
    with pytest.raises(preflight.TooMany):
        preflight.convert_plan(plan, "xml", limits={"max_plan_requests": 1})


def test_a_plan_xml_cannot_carry_is_refused_not_written() -> None:
    # JSON and the map form can carry U+0001; XML cannot (its reader refuses &#1;), so the
    # conversion says so instead of writing a plan nobody can read back.
    plan = '{"accounts":[{"application":"AD","op":"Modify","attributes":[{"name":"g","op":"Add","value":"a\\u0001b"}]}]}'
    with pytest.raises(preflight.InvalidPlan) as info:
        preflight.convert_plan(plan, "xml")
    assert info.value.detail == ("the plan cannot be written as XML (malformed XML: character reference &#1; is to "
                                 "U+0001, which XML does not allow); keep it in the JSON form")
    assert preflight.convert_plan(plan, "json", indent=0).count("\\u0001") == 1
