"""Runs the >>> examples of README.md and docs/python-examples.md with doctest, so the
documentation of the Python module stays true."""
from __future__ import annotations

import doctest
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "docs" / "python-examples.md"]


def blocks(doc: Path) -> list[str]:
    return re.findall(r"```pycon\n(.*?)```", doc.read_text(), flags=re.S)


def test_docs_have_examples() -> None:
    assert len(blocks(DOCS[0])) >= 1
    assert len(blocks(DOCS[1])) >= 8


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_python_examples(doc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples use paths relative to the repository root
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs: dict[str, Any] = {}
    report: list[str] = []  # doctest swaps sys.stdout while it runs: collect its report here
    for i, block in enumerate(blocks(doc)):
        test = parser.get_doctest(block, globs, f"{doc.name} block {i + 1}", str(doc), 0)
        runner.run(test, out=report.append, clear_globs=False)
        globs = test.globs
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)
    assert result.attempted >= 5
