"""The `preflight` command line as users' scripts call it (DESIGN.md, "Contracts"):
JSON on stdout, exit 0 / 2 (SCIM Error on stdout, one line on stderr) / 1."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PLANS = REPO / "tests" / "corpus" / "plans"


def _cli() -> str:
    if os.environ.get("PREFLIGHT_CLI"):
        return os.environ["PREFLIGHT_CLI"]
    for build in ("build/release", "build/dev"):
        candidate = REPO / build / "preflight"
        if candidate.exists():
            return str(candidate)
    pytest.skip("the preflight binary is not built (set PREFLIGHT_CLI)")
    return ""


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_cli(), *args], input=stdin, capture_output=True, text=True, timeout=60)


def scim_error(proc: subprocess.CompletedProcess[str]) -> dict:
    assert proc.returncode == 2, proc.stderr
    body = json.loads(proc.stdout)
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == "400"
    assert proc.stderr.startswith("preflight: ") and proc.stderr.count("\n") == 1
    return body


def test_check_answers_the_documented_request() -> None:
    proc = run("check", "--snapshot", str(EXAMPLES / "demo-snapshot"), "--request", str(EXAMPLES / "request.json"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads((EXAMPLES / "expected-response.json").read_text())


def test_check_reads_the_request_from_stdin() -> None:
    proc = run("check", "--snapshot", str(EXAMPLES / "demo-snapshot"), stdin=(EXAMPLES / "request.json").read_text())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["violations"][0]["constraintName"] == "IT SOD-117"


def test_check_convenience_form_with_a_map_plan(tmp_path: Path) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("{accounts=[{op=Modify, application=Active_Directory, "
                    "attributes=[{op=Add, name=groupmbr, value=UnixAdministration}]}]}")
    proc = run("check", "--snapshot", str(EXAMPLES / "demo-snapshot"), "--identity", "Ryan.Russell",
               "--plan", str(plan), "--plan-type", "map", "--policy", "SOD Policy")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert [v["constraintName"] for v in body["violations"]] == ["IT SOD-117"]
    assert body["policies"] == ["SOD Policy"]
    assert body["plan"]["type"] == "application/sailpoint.object.ProvisioningPlan+json"


def test_check_errors_are_scim_errors(tmp_path: Path) -> None:
    missing = scim_error(run("check", "--snapshot", str(EXAMPLES / "demo-snapshot"), "--request", str(tmp_path / "nope.json")))
    assert missing["scimType"] == "invalidValue"
    assert "cannot open file" in missing["detail"]

    bad = tmp_path / "bad.json"
    bad.write_text('{"identity": "Ryan.Russell", "plan": ')
    assert scim_error(run("check", "--snapshot", str(EXAMPLES / "demo-snapshot"), "--request", str(bad)))["scimType"] == "invalidSyntax"

    unknown = tmp_path / "type.json"
    unknown.write_text(json.dumps({"identity": "Ryan.Russell", "plan": {"value": "x", "type": "text/plain"}}))
    assert scim_error(run("check", "--snapshot", str(EXAMPLES / "demo-snapshot"), "--request", str(unknown)))["scimType"] == "invalidValue"

    plan = tmp_path / "plan.xml"
    plan.write_text("<ProvisioningPlan>")
    err = scim_error(run("check", "--snapshot", str(EXAMPLES / "demo-snapshot"), "--identity", "Ryan.Russell",
                         "--plan", str(plan), "--plan-type", "xml"))
    assert err["scimType"] == "invalidValue"  # as IdentityIQ answers a check with bad plan XML
    assert err["detail"].startswith("XML is not valid for key: value: line 1, column 18 at /plan/value: ")
    assert "line 1" in err["detail"]

    usage = run("check", "--snapshot", str(EXAMPLES / "demo-snapshot"), "--identity", "Ryan.Russell",
                "--plan", str(plan), "--plan-type", "yaml")
    assert scim_error(usage)["detail"].startswith("at /plan/type: unknown plan type 'yaml'")


def test_plan_convert_round_trips() -> None:
    source = PLANS / "iiq72-sim-plan-add.xml"
    as_json = run("plan", "convert", "--to", "json", str(source))
    assert as_json.returncode == 0, as_json.stderr
    plan = json.loads(as_json.stdout)
    assert plan["identity"] == "idm1"
    assert plan["accounts"][0]["attributes"][0] == {"name": "groups", "op": "Add", "value": "Group B"}
    back = run("plan", "convert", "--to", "xml", "-", stdin=as_json.stdout)
    assert back.returncode == 0, back.stderr
    again = run("plan", "convert", "--to", "json", "-", stdin=back.stdout)
    assert json.loads(again.stdout) == plan


def test_plan_compile_reports_expansion_and_detection(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"accounts": [{"application": "IIQ", "op": "Modify", "attributes": [
        {"name": "assignedRoles", "op": "Add", "value": "Unix Administrator"}]}]}))
    proc = run("plan", "compile", "--snapshot", str(EXAMPLES / "demo-snapshot"), "--identity", "Ryan.Russell", str(plan))
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["expansions"] == [{"role": "Unix Administrator", "via": "Unix Administrator - IT",
                                   "application": "Active_Directory", "attribute": "groupmbr",
                                   "value": "UnixAdministration"}]
    assert body["pre"]["detectedRoles"] == ["Security Architect - IT"]
    assert body["post"]["detectedRoles"] == ["Security Architect - IT", "Unix Administrator - IT"]
    assert body["post"]["assignedRoles"] == ["Unix Administrator"]


def test_filter_parse_and_eval(tmp_path: Path) -> None:
    proc = run("filter", "parse", 'userType eq "Employee" and title pr')
    assert proc.returncode == 0
    assert proc.stdout.strip() == '(and (eq userType "Employee") (pr title))'
    err = scim_error(run("filter", "parse", "userType eq"))
    assert err["scimType"] == "invalidFilter"
    user = tmp_path / "user.json"
    user.write_text(json.dumps({"userName": "bjensen", "emails": [{"value": "b@example.com", "type": "work"}]}))
    assert run("filter", "eval", 'emails[type eq "work"]', str(user)).stdout.strip() == "true"
    assert run("filter", "eval", 'userName eq "other"', str(user)).stdout.strip() == "false"


def test_query_over_the_demo_snapshot() -> None:
    proc = run("query", "--snapshot", str(EXAMPLES / "demo-snapshot"), "Users", "--filter", 'userName sw "R"',
               "--attributes", "userName")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["totalResults"] == 1
    assert body["Resources"][0]["userName"] == "Ryan.Russell"
    roles = run("query", "--snapshot", str(EXAMPLES / "demo-snapshot"), "Roles", "--sort-by", "name",
                "--sort-order", "descending", "--count", "2")
    body = json.loads(roles.stdout)
    assert body["totalResults"] == 4
    assert [r["name"] for r in body["Resources"]] == ["Unix Administrator - IT", "Unix Administrator"]
    assert scim_error(run("query", "--snapshot", str(EXAMPLES / "demo-snapshot"), "Groups"))["scimType"] == "invalidValue"


def test_snapshot_stats() -> None:
    proc = run("snapshot", "stats", str(EXAMPLES / "demo-snapshot"))
    assert proc.returncode == 0, proc.stderr
    counts = json.loads(proc.stdout)["counts"]
    assert (counts["identities"], counts["roles"], counts["policies"], counts["constraints"]) == (2, 4, 2, 2)
    # The model's bytes by part: every column (its elements' bytes), then estimates of the
    # heap objects; approxBytes is their sum. The peak RSS is the process's.
    stats = json.loads(proc.stdout)
    memory = stats["memory"]
    parts = memory["parts"]
    assert list(parts)[:3] == ["pool.text", "pool.starts", "pool.slots"]
    assert list(parts)[-6:] == ["roles", "policies", "applications", "indexes", "diagnostics", "queryDocuments"]
    assert sum(parts.values()) == memory["approxBytes"]
    assert parts["pool.starts"] == 4 * (stats["counts"]["strings"] + 1)
    assert parts["identities"] == 48 * counts["identities"]
    assert parts["identity.accounts"] == 4 * counts["accounts"]
    assert parts["identity.roles"] == 4 * counts["roleAssignments"]
    assert parts["queryDocuments"] == 0  # no query built them
    assert memory["peakRssBytes"] >= memory["approxBytes"]


def test_unknown_command_is_bad_input() -> None:
    assert scim_error(run("frobnicate"))["detail"].startswith("unknown command 'frobnicate'")


def test_limit_option_sets_each_commands_budgets(tmp_path: Path) -> None:
    request = str(EXAMPLES / "request.json")
    snapshot = str(EXAMPLES / "demo-snapshot")
    # The request body is over a 100-byte input budget.
    body = scim_error(run("check", "--snapshot", snapshot, "--request", request, "--limit", "max_input_bytes=100"))
    assert body["scimType"] == "tooMany"
    # A generous budget changes nothing.
    proc = run("check", "--snapshot", snapshot, "--request", request, "--limit=max_nesting_depth=128")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads((EXAMPLES / "expected-response.json").read_text())

    assert scim_error(run("filter", "parse", "((a pr))", "--limit", "max_filter_depth=1"))["scimType"] == "tooMany"
    assert run("filter", "parse", "((a pr))", "--limit", "max_filter_depth=2").stdout == "(pr a)\n"
    resource = tmp_path / "user.json"
    resource.write_text('{"userName": "bjensen", "x": [[1]]}')
    assert scim_error(run("filter", "eval", "userName pr", str(resource), "--limit", "max_nesting_depth=2"))[
        "scimType"] == "tooMany"
    assert run("filter", "eval", "userName pr", str(resource), "--limit", "max_nesting_depth=3").stdout == "true\n"
    assert scim_error(run("query", "--snapshot", snapshot, "Users", "--filter", "userName pr",
                          "--limit", "max_filter_length=5"))["scimType"] == "tooMany"

    plan = tmp_path / "plan.txt"
    plan.write_text("{accounts=[{op=Modify, application=A, attributes=[{op=Add, name=g, value=[x, y, z]}]}]}")
    assert scim_error(run("plan", "convert", "--to", "json", str(plan), "--limit", "max_plan_values=3"))[
        "scimType"] == "tooMany"
    assert run("plan", "convert", "--to", "json", str(plan), "--limit", "max_plan_values=4").returncode == 0


def test_limit_option_errors_name_the_problem() -> None:
    body = scim_error(run("filter", "parse", "a pr", "--limit", "max_depth=3"))
    assert body["scimType"] == "invalidValue"
    assert body["detail"].startswith("unknown limit 'max_depth': expected one of max_input_bytes, ")
    body = scim_error(run("filter", "parse", "a pr", "--limit", "max_filter_depth=0"))
    assert body["detail"] == "limit max_filter_depth must be between 1 and 64, not 0"
