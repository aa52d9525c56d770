"""Runs the >>> examples of docs/python-examples.md (the README's Python examples) with doctest."""
from __future__ import annotations

import doctest
import re
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "python-examples.md"


def blocks() -> list[str]:
    return re.findall(r"```pycon\n(.*?)```", DOC.read_text(), flags=re.S)


def test_doc_has_examples() -> None:
    assert len(blocks()) >= 8


def test_python_examples(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo_root)  # the examples use paths relative to the repository root
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs: dict[str, Any] = {}
    report: list[str] = []  # doctest swaps sys.stdout while it runs: collect its report here
    for i, block in enumerate(blocks()):
        test = parser.get_doctest(block, globs, f"python-examples.md block {i + 1}", str(DOC), 0)
        runner.run(test, out=report.append, clear_globs=False)
        globs = test.globs
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)
    assert result.attempted > 30
