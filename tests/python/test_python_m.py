"""`python -m preflight` runs the `preflight` command (bindings/python/preflight/__main__.py):
same output, same exit status. The wheel's own `preflight` script is checked by .ci/run after
`pip install .`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight", *args], capture_output=True, text=True, timeout=60,
                          env=env)


def test_python_m_runs_the_command() -> None:
    pytest.importorskip("preflight")
    proc = run("check", "--snapshot", str(EXAMPLES / "demo-snapshot"), "--request", str(EXAMPLES / "request.json"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["violations"][0]["constraintName"] == "IT SOD-117"


def test_python_m_keeps_the_exit_status_and_error() -> None:
    pytest.importorskip("preflight")
    proc = run("filter", "parse", "title eq")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["scimType"] == "invalidFilter"
    assert proc.stderr.startswith("preflight: ")


def test_python_m_finds_the_binary_without_the_override() -> None:
    main = pytest.importorskip("preflight.__main__")
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_CLI"}
    if main.binary() is None and "PREFLIGHT_CLI" not in os.environ:
        pytest.skip("no preflight binary next to this package")
    proc = run("filter", "parse", "title pr", env=env)
    assert (proc.returncode, proc.stdout.strip()) == (0, "(pr title)"), proc.stderr
