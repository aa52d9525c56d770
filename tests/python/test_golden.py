"""Golden outputs of `plan compile` and `check --explain` (tests/golden/SOURCES.md): the exact
bytes each command prints, so a change of the compiler's projection, of an explanation or of an
error message shows up as a reviewed diff."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from test_cli import REPO, _cli

GOLDEN = REPO / "tests" / "golden"
CASES = json.loads((GOLDEN / "CASES.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_output(case: dict) -> None:
    proc = subprocess.run([_cli(), *case["args"]], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == case.get("exit", 0), proc.stderr
    expected = GOLDEN / f"{case['name']}.out"
    if os.environ.get("PREFLIGHT_UPDATE_GOLDEN"):
        expected.write_text(proc.stdout)
    assert proc.stdout == expected.read_text()
