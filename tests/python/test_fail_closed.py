"""Fail closed (issue 14): a broken snapshot is refused on the CLI and in Python, never a
silent pass; --allow-partial / allow_partial=True loads it on purpose, and every answer
then says so. An unknown identity is an error whatever the policies."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

import preflight
from test_cli import EXAMPLES, run, scim_error

DEMO = EXAMPLES / "demo-snapshot"
REQUEST = EXAMPLES / "request.json"
EXTENSION = "urn:ietf:params:scim:schemas:extension:preflight:1.0:CheckedPolicyViolation"


def demo_copy(tmp_path: Path, edit: Callable[[Path], None]) -> Path:
    snapshot = tmp_path / "snapshot"
    shutil.copytree(DEMO, snapshot)
    edit(snapshot)
    return snapshot


def truncate(name: str, size: int) -> Callable[[Path], None]:
    def edit(snapshot: Path) -> None:
        path = snapshot / name
        path.write_bytes(path.read_bytes()[:size])
    return edit


def empty(name: str) -> Callable[[Path], None]:
    return lambda snapshot: (snapshot / name).write_text("")


# Each broken snapshot and the start of the refusal's detail.
BROKEN: dict[str, tuple[Callable[[Path], Any], str]] = {
    "truncated policies.xml": (lambda p: demo_copy(p, truncate("policies.xml", 700)),
                               "snapshot refused: 1 load error: "),
    "empty policies.xml": (lambda p: demo_copy(p, empty("policies.xml")), "snapshot refused: 1 load error: "),
    "truncated roles.xml": (lambda p: demo_copy(p, truncate("roles.xml", 400)), "snapshot refused: "),
    "empty roles.xml": (lambda p: demo_copy(p, empty("roles.xml")), "snapshot refused: 4 load errors: "),
    "an empty directory": (lambda p: (p / "empty").mkdir() or p / "empty", "snapshot refused: no policy was loaded"),
    "a README.md": (lambda p: (p / "README.md").write_text("# not a snapshot\n") and p / "README.md",
                    "snapshot refused: 1 load error: "),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_cli_refuses_a_broken_snapshot(case: str, tmp_path: Path) -> None:
    make, detail = BROKEN[case]
    snapshot = make(tmp_path)
    error = scim_error(run("check", "--snapshot", str(snapshot), "--request", str(REQUEST)))
    assert error["scimType"] == "invalidValue"
    assert error["detail"].startswith(detail), error["detail"]
    assert error["detail"].endswith("to check against what did load.") or "no policy" in error["detail"]
    if case == "empty roles.xml":  # the first three problems and how many more
        assert "neither IdentityIQ XML nor SCIM JSON; " in error["detail"]
        assert "; and 1 more. Fix the snapshot" in error["detail"]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_python_refuses_a_broken_snapshot(case: str, tmp_path: Path) -> None:
    make, detail = BROKEN[case]
    with pytest.raises(preflight.InvalidValue) as refused:
        preflight.Engine.load(make(tmp_path))
    assert refused.value.scim_type == "invalidValue"
    assert refused.value.detail.startswith(detail)


def test_a_truncated_policy_file_names_file_and_line(tmp_path: Path) -> None:
    snapshot = demo_copy(tmp_path, truncate("policies.xml", 700))
    error = scim_error(run("check", "--snapshot", str(snapshot), "--request", str(REQUEST)))
    assert f"{snapshot / 'policies.xml'}:line " in error["detail"]
    assert "malformed XML" in error["detail"]


def test_allow_partial_loads_and_every_answer_says_so(tmp_path: Path) -> None:
    snapshot = demo_copy(tmp_path, empty("policies.xml"))
    proc = run("check", "--snapshot", str(snapshot), "--request", str(REQUEST), "--allow-partial")
    assert proc.returncode == 0, proc.stdout
    assert proc.stderr == ("preflight: warning: partial snapshot (--allow-partial): 1 load errors, 0 policies, "
                           "2 identities; answers may miss violations\n")
    answer = json.loads(proc.stdout)
    assert "violations" not in answer
    assert answer["schemas"][-1] == EXTENSION
    assert answer[EXTENSION]["diagnostics"] == [{
        "severity": "warning", "code": "invalidValue", "object": "Snapshot",
        "message": "partial snapshot (--allow-partial): 1 load errors, 0 policies, 2 identities; "
                   "this answer may miss violations"}]
    engine = preflight.Engine.load(snapshot, allow_partial=True)
    assert engine.info["partial"] is True and engine.info["load_errors"] == 1
    assert engine.check(json.loads(REQUEST.read_text())) == answer


def test_a_clean_snapshot_is_not_partial() -> None:
    engine = preflight.Engine.load(DEMO, allow_partial=True)
    assert engine.info["partial"] is False and engine.info["load_errors"] == 0
    assert len(engine.info["source_hash"]) == 16


def test_unknown_identity_is_an_error_even_without_policies(tmp_path: Path) -> None:
    snapshot = demo_copy(tmp_path, lambda p: (p / "policies.xml").unlink())
    body = json.dumps({"identity": "Nobody", "plan": {"value": "<ProvisioningPlan/>", "type": "application/xml"}})
    proc = subprocess.run([*_cli_args(), "check", "--snapshot", str(snapshot), "--allow-partial", "--request", "-"],
                          input=body, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["detail"] == "at /identity: Identity 'Nobody' not found in the snapshot"
    engine = preflight.Engine.load(snapshot, allow_partial=True)
    with pytest.raises(preflight.InvalidValue) as unknown:
        engine.check(body)
    assert unknown.value.location["pointer"] == "/identity"


def _cli_args() -> list[str]:
    from test_cli import _cli
    return [_cli()]


def test_snapshot_stats_is_the_same_json_on_the_cli_and_in_python() -> None:
    proc = run("snapshot", "stats", str(DEMO))
    assert proc.returncode == 0
    cli = json.loads(proc.stdout)
    python = preflight.Engine.load(DEMO).stats()
    for stats in (cli, python):  # timings differ from one load to the next
        for key in ("readMs", "parseMs", "buildMs"):
            stats["load"].pop(key)
        stats["load"]["passes"] = [p["name"] for p in stats["load"]["passes"]]
    assert cli == python
    assert cli["load"]["passes"] == ["applications", "roles", "roleIndexes", "identities", "populations", "policies",
                                     "constraintIndex", "entitlements", "queryDocuments", "lookups", "identityFlags"]
