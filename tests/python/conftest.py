"""Shared fixtures for the pytest suites: where the repository, the examples and the corpus are.

The `preflight` package is found on PYTHONPATH (<build>/python for an in-tree build, as
ctest sets it) or installed (`pip install .`). PREFLIGHT_BUILD_DIR=<build> works too.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO_ROOT / "examples"
CORPUS_DIR = REPO_ROOT / "tests" / "corpus"

_build = os.environ.get("PREFLIGHT_BUILD_DIR")
if _build and str(Path(_build) / "python") not in sys.path:
    sys.path.insert(0, str(Path(_build) / "python"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES_DIR


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS_DIR


@pytest.fixture(scope="session")
def demo_snapshot() -> Path:
    return EXAMPLES_DIR / "demo-snapshot"


@pytest.fixture(scope="session")
def request_body() -> dict[str, Any]:
    return json.loads((EXAMPLES_DIR / "request.json").read_text())


@pytest.fixture(scope="session")
def expected_response() -> dict[str, Any]:
    return json.loads((EXAMPLES_DIR / "expected-response.json").read_text())


@pytest.fixture(scope="session")
def engine(demo_snapshot: Path) -> Any:
    import preflight  # imported here so suites that do not need the module run without it

    return preflight.Engine.load(demo_snapshot)
