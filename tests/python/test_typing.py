"""The package's type information (inline annotations, _preflight.pyi, py.typed) checked by mypy --strict
on a typed use of the whole API (typed_usage.py), which must also run."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _package_root() -> Path:
    import preflight

    return Path(preflight.__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_mypy_strict_accepts_typed_usage(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop("MYPYPATH", None)
    # mypy does not read PYTHONPATH: point it at an in-tree package under test. An installed
    # one (site-packages, which mypy refuses in MYPYPATH) it finds by itself through py.typed.
    root = _package_root()
    if root.name not in ("site-packages", "dist-packages"):
        env["MYPYPATH"] = str(root)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
         str(HERE / "typed_usage.py")],
        env=env, capture_output=True, text=True, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_typed_usage_runs() -> None:
    proc = subprocess.run([sys.executable, str(HERE / "typed_usage.py")], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "['IT SOD-117']" in proc.stdout
