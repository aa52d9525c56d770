"""Every example in README.md runs as written on a fresh clone (after the build).

The convention, by fence info string:
- `sh`: run with bash (-euo pipefail) from the repository root, with the directory of the
  build's `preflight` first on PATH; it must exit 0. Files it names must be in the repository.
- `sh norun`: shown, not run (set-up and development commands: the test command itself,
  sanitizers, fuzzing, benchmarks).
- `c`, `cpp`, `java`: the text of a file under examples/ (whole or a part), which the `sh`
  blocks build and run, so the code shown is the code tested.
- `pycon`: doctests, run by test_module_docs.py.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
FENCE = re.compile(r"^```([\w+-]+)([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks(language: str) -> list[tuple[str, str]]:
    """(info string, code) of each block of `language`, in order."""
    return [(m.group(1) + m.group(2), m.group(3)) for m in FENCE.finditer(README.read_text())
            if m.group(1) == language]


def _build_dir() -> Path:
    if os.environ.get("PREFLIGHT_CLI"):
        return Path(os.environ["PREFLIGHT_CLI"]).resolve().parent
    if os.environ.get("PREFLIGHT_BUILD_DIR"):
        return Path(os.environ["PREFLIGHT_BUILD_DIR"]).resolve()
    return REPO / "build" / "release"


SH_BLOCKS = [(info, code) for info, code in blocks("sh") if "norun" not in info.split()[1:]]


def test_the_readme_has_examples_of_every_kind() -> None:
    assert SH_BLOCKS and blocks("c") and blocks("cpp") and blocks("java")


@pytest.mark.parametrize("code", [code for _, code in SH_BLOCKS],
                         ids=[f"sh{i}-{code.strip().splitlines()[0][:40]}" for i, (_, code) in enumerate(SH_BLOCKS)])
def test_sh_block_runs(code: str) -> None:
    build = _build_dir()
    if not (build / "preflight").exists():
        pytest.skip(f"no build in {build}")
    env = dict(os.environ, PATH=f"{build}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"


@pytest.mark.parametrize("language,suffix", [("c", ".c"), ("cpp", ".cc"), ("java", ".java")])
def test_code_blocks_are_shipped_examples(language: str, suffix: str) -> None:
    files = [p.read_text() for p in (REPO / "examples").rglob(f"*{suffix}")]
    for _, code in blocks(language):
        assert any(code in text for text in files), f"a {language} block of README.md is in no examples/*{suffix}"
