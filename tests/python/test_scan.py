"""`preflight scan` / `preflight impact` (issue 21) on the command line and in Python: the
row formats, the summary, the iterator, errors."""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import test_cli

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo-snapshot"
SCAN = REPO / "examples" / "scan"

SOD = {
    "policyName": "SOD Policy",
    "policyType": "SOD",
    "constraintName": "IT SOD-117",
    "description": "Security design should not be combined with administrative permissions.",
    "leftBundles": ["Security Architect - IT"],
    "rightBundles": ["Unix Administrator - IT"],
    "entitlements": [],
}
FIN = {
    "policyName": "Entitlement Policy",
    "policyType": "EntitlementSOD",
    "constraintName": "FIN SOD-021",
    "leftBundles": [],
    "rightBundles": [],
    "entitlements": [
        {"application": "Financials", "attribute": "capability", "value": "CreateVendors"},
        {"application": "Financials", "attribute": "capability", "value": "ApprovePayments"},
    ],
}


def _cli() -> str:
    """The preflight binary under test (test_cli.py says how it is found)."""
    return test_cli._cli()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_cli(), *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("scan") / "snapshot"
    shutil.copytree(DEMO, d)
    shutil.copy(SCAN / "both.xml", d / "both.xml")
    return d


def test_scan_json_lines(snapshot: Path) -> None:
    p = run("scan", "--snapshot", str(snapshot))
    assert p.returncode == 0, p.stdout + p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert rows == [{"identity": "Pat.Both", **FIN}, {"identity": "Pat.Both", **SOD}]
    summary = json.loads(p.stderr)  # not a terminal: no progress, just the summary
    assert summary["identities"] == 3 and summary["rows"] == 2
    assert summary["counts"] == [
        {"policyName": "Entitlement Policy", "constraintName": "FIN SOD-021", "rows": 1},
        {"policyName": "SOD Policy", "constraintName": "IT SOD-117", "rows": 1},
    ]


def test_scan_list_response_and_csv(snapshot: Path) -> None:
    p = run("scan", "--snapshot", str(snapshot), "--format", "json", "--policy", "SOD Policy")
    assert p.returncode == 0
    body = json.loads(p.stdout)
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert body["totalResults"] == 1 and body["itemsPerPage"] == 1 and body["startIndex"] == 1
    assert body["Resources"] == [
        {"schemas": ["urn:ietf:params:scim:schemas:sailpoint:1.0:PolicyViolation"], "identity": "Pat.Both", **SOD}
    ]
    p = run("scan", "--snapshot", str(snapshot), "--format", "csv")
    assert p.returncode == 0
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert [r["constraintName"] for r in rows] == ["FIN SOD-021", "IT SOD-117"]
    assert rows[0]["entitlements"] == "Financials:capability=CreateVendors;Financials:capability=ApprovePayments"
    assert rows[1]["leftBundles"] == "Security Architect - IT" and rows[1]["kind"] == "violation"


def test_scan_summary_filter_and_errors(snapshot: Path) -> None:
    p = run("scan", "--snapshot", str(snapshot), "--summary", "--filter", 'userName eq "Ryan.Russell"')
    assert p.returncode == 0
    assert json.loads(p.stdout)["rows"] == 0 and json.loads(p.stdout)["identities"] == 1
    p = run("scan", "--snapshot", str(snapshot), "--filter", "userName eq")
    assert p.returncode == 2 and json.loads(p.stdout)["scimType"] == "invalidFilter"
    p = run("scan", "--snapshot", str(snapshot), "--threads", "100000", "--summary")  # capped at the chunks
    assert p.returncode == 0 and json.loads(p.stdout)["rows"] == 2
    p = run("scan", "--snapshot", str(snapshot), "--format", "xml")
    assert p.returncode == 2 and "unknown format" in json.loads(p.stdout)["detail"]


def test_impact_of_a_changed_role(snapshot: Path) -> None:
    p = run("impact", "--snapshot", str(snapshot), "--change", str(SCAN / "unix-role-change.xml"))
    assert p.returncode == 0, p.stdout + p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert rows == [  # snapshot order: both.xml sorts before identities.xml
        {"identity": "Pat.Both", "change": "lost", **SOD},
        {"identity": "Pat.Both", "change": "lost", "role": "Unix Administrator - IT"},
        {"identity": "Ryan.Russell", "change": "gained", **SOD},
        {"identity": "Ryan.Russell", "change": "gained", "role": "Unix Administrator - IT"},
    ]


def test_impact_without_a_change_is_empty(snapshot: Path) -> None:
    p = run("impact", "--snapshot", str(snapshot))
    assert p.returncode == 0 and p.stdout == ""
    assert json.loads(p.stderr)["rows"] == 0


def test_impact_of_a_plan_on_filtered_identities(snapshot: Path) -> None:
    plan = REPO / "examples" / "plan.xml"
    p = run("impact", "--snapshot", str(snapshot), "--plan", str(plan), "--filter", 'userName eq "Ryan.Russell"')
    assert p.returncode == 0, p.stdout + p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    # The same answer as `preflight check` for that identity.
    check = run("check", "--snapshot", str(snapshot), "--identity", "Ryan.Russell", "--plan", str(plan))
    violations = json.loads(check.stdout).get("violations", [])
    assert [{k: v for k, v in r.items() if k not in ("identity", "change")} for r in rows] == violations
    assert all(r["change"] == "new" and r["identity"] == "Ryan.Russell" for r in rows)


def test_python_scan_is_an_iterator_of_dicts(snapshot: Path) -> None:
    import preflight

    engine = preflight.Engine.load(snapshot)
    rows = engine.scan()
    assert iter(rows) is rows and rows.summary is None
    assert list(rows) == [{"identity": "Pat.Both", **FIN}, {"identity": "Pat.Both", **SOD}]
    assert rows.summary is not None and rows.summary["rows"] == 2 and rows.summary["identities"] == 3
    assert list(engine.scan(policies=["SOD Policy"], threads=1)) == [{"identity": "Pat.Both", **SOD}]
    assert engine.count_identities() == 3 and engine.count_identities('userName sw "R"') == 1
    assert list(engine.scan(start=1, stop=3)) == []  # Pat.Both is the first identity
    with pytest.raises(preflight.InvalidFilter):
        engine.scan(filter="userName eq")  # raised by the call, not by the first next()
    changed = list(engine.impact(SCAN / "unix-role-change.xml"))
    assert [(r["identity"], r["change"], r.get("role")) for r in changed] == [
        ("Pat.Both", "lost", None), ("Pat.Both", "lost", "Unix Administrator - IT"),
        ("Ryan.Russell", "gained", None), ("Ryan.Russell", "gained", "Unix Administrator - IT")]
    assert list(engine.impact()) == []
    after = engine.with_changes(SCAN / "unix-role-change.xml")  # loaded once, for many calls
    assert list(engine.impact(after=after)) == changed
    assert list(engine.impact(after=after, start=1)) == changed[2:]  # the slice: Ryan.Russell only
    assert list(engine.impact(after=engine)) == []
    with pytest.raises(preflight.InvalidType):
        engine.impact(SCAN / "unix-role-change.xml", after=after)
    plan = (REPO / "examples" / "plan.xml").read_text()
    new = list(engine.impact(plan=plan, filter='userName eq "Ryan.Russell"'))
    assert new and all(r["change"] == "new" for r in new)


def test_python_scan_frame_and_early_close(snapshot: Path) -> None:
    pandas = pytest.importorskip("pandas")
    import preflight

    engine = preflight.Engine.load(snapshot)
    frame = engine.scan().to_frame()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(preflight.ROW_COLUMNS)
    assert list(frame["constraintName"]) == ["FIN SOD-021", "IT SOD-117"]
    rows = engine.scan()
    next(rows)
    rows.close()  # stops the native run; nothing left to read
    assert list(rows) == []


def test_impact_of_a_deactivated_then_activated_policy(snapshot: Path, tmp_path: Path) -> None:
    policies = (DEMO / "policies.xml").read_text()
    inactive = tmp_path / "inactive.xml"
    inactive.write_text(policies.replace('name="Entitlement Policy" type="EntitlementSOD" state="Active"',
                                         'name="Entitlement Policy" type="EntitlementSOD" state="Inactive"'))
    p = run("impact", "--snapshot", str(snapshot), "--change", str(inactive), "--format", "csv")
    assert p.returncode == 0, p.stdout + p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert [(r["identity"], r["change"], r["constraintName"]) for r in rows] == [("Pat.Both", "lost", "FIN SOD-021")]
    # Deactivated by the file, activated again by --activate: no change at all.
    p = run("impact", "--snapshot", str(snapshot), "--change", str(inactive), "--activate", "Entitlement Policy")
    assert p.returncode == 0 and p.stdout == ""
    p = run("impact", "--snapshot", str(snapshot), "--activate", "No Such Policy")
    assert p.returncode == 2 and "No Such Policy" in json.loads(p.stdout)["detail"]
    p = run("impact", "--snapshot", str(snapshot), "--change", str(inactive), "--plan", str(REPO / "examples" / "plan.xml"))
    assert p.returncode == 2 and "not both" in json.loads(p.stdout)["detail"]


def test_a_partial_snapshot_says_so_in_the_summary(snapshot: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(snapshot, broken)
    (broken / "zz-broken.xml").write_text("<sailpoint><Bundle name='x'>")
    assert run("scan", "--snapshot", str(broken)).returncode == 2  # fail-closed without --allow-partial
    p = run("scan", "--snapshot", str(broken), "--allow-partial", "--summary")
    assert p.returncode == 0
    summary = json.loads(p.stdout)
    assert summary["rows"] == 2
    assert any("partial snapshot" in d["message"] for d in summary["diagnostics"])
