"""`preflight plan workflow` and `preflight.plan_workflow`: the LaunchedWorkflows request body
for a plan, in the shape IdentityIQ's SCIM API takes (issue 20)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import test_cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
LW = "urn:ietf:params:scim:schemas:sailpoint:1.0:LaunchedWorkflow"
TR = "urn:ietf:params:scim:schemas:sailpoint:1.0:TaskResult"


def cli() -> str:
    """The preflight binary under test (test_cli.py says how it is found)."""
    return test_cli._cli()


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([cli(), *args], input=stdin, capture_output=True, text=True, timeout=60)


def check_body(body: dict, identity: str, workflow: str = "LCM Provisioning") -> str:
    assert body["schemas"] == [LW, TR]
    launched = body[LW]
    assert launched["workflowName"] == workflow
    inputs = launched["input"]
    assert inputs[0] == {"key": "identityName", "value": identity}
    assert inputs[1]["key"] == "plan" and inputs[1]["type"] == "application/xml"
    assert inputs[1]["value"].startswith("<ProvisioningPlan")
    assert set(body) == {"schemas", LW}
    return inputs[1]["value"]


@pytest.mark.parametrize("plan", ["plan.xml", "plan.json"])
def test_cli_body_carries_the_plan_as_xml(plan: str) -> None:
    done = run("plan", "workflow", "--identity", "Ryan.Russell", str(EXAMPLES / plan))
    assert done.returncode == 0, done.stderr
    xml = check_body(json.loads(done.stdout), "Ryan.Russell")
    # The XML value is the same plan: converted back, it equals the example's JSON form.
    back = run("plan", "convert", "--to", "json", "-", stdin=xml)
    want = run("plan", "convert", "--to", "json", str(EXAMPLES / plan))
    assert back.returncode == 0 and back.stdout == want.stdout


def test_cli_workflow_name_and_stdin() -> None:
    text = (EXAMPLES / "plan.xml").read_text()
    done = run("plan", "workflow", "--identity", "A.B", "--workflow", "My Flow", "-", stdin=text)
    assert done.returncode == 0, done.stderr
    check_body(json.loads(done.stdout), "A.B", "My Flow")


def test_cli_errors_are_scim_errors() -> None:
    done = run("plan", "workflow", str(EXAMPLES / "plan.xml"))
    assert done.returncode == 2 and json.loads(done.stdout)["scimType"] == "invalidValue"
    done = run("plan", "workflow", "--identity", "X", "-", stdin="<ProvisioningPlan><AccountRequest")
    assert done.returncode == 2 and json.loads(done.stdout)["status"] == "400"


def test_python_matches_cli() -> None:
    preflight = pytest.importorskip("preflight")
    done = run("plan", "workflow", "--identity", "Ryan.Russell", str(EXAMPLES / "plan.xml"))
    body = preflight.plan_workflow("Ryan.Russell", (EXAMPLES / "plan.xml").read_text())
    assert body == json.loads(done.stdout)
    as_dict = preflight.plan_workflow("Ryan.Russell", json.loads((EXAMPLES / "plan.json").read_text()),
                                      workflow="LCM Provisioning")
    assert as_dict == body
    with pytest.raises(preflight.PreflightError):
        preflight.plan_workflow("", "<ProvisioningPlan/>")
