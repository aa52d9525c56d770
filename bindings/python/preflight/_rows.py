"""The rows of :meth:`Engine.scan` and :meth:`Engine.impact`: an iterator of dicts over a
native stream (the engine runs on its own thread with the GIL released; at most a few
chunks wait in memory), and a pandas DataFrame when pandas is installed."""

from __future__ import annotations

import importlib
import json
from typing import Any, Iterator, Optional

from . import _preflight

#: The columns of :meth:`Rows.to_frame`, in order: the PolicyViolation fields, then
#: ``change`` ("new", "gained", "lost"; impact only) and ``role`` (detected-role rows).
COLUMNS = (
    "identity",
    "change",
    "policyName",
    "policyType",
    "constraintName",
    "description",
    "leftBundles",
    "rightBundles",
    "entitlements",
    "role",
)


class Rows(Iterator[dict[str, Any]]):
    """Rows as dicts, in identity order. Errors in the arguments (a bad filter) raise when
    the call is made; :attr:`summary` is the run's summary once the rows are exhausted."""

    __slots__ = ("_stream", "_lines", "_pos", "_summary")

    def __init__(self, stream: _preflight.RowStream) -> None:
        self._stream: Optional[_preflight.RowStream] = stream
        self._lines: list[str] = []
        self._pos = 0
        self._summary: Optional[dict[str, Any]] = None
        self._fill()  # the first chunk now: a failing run raises here, not at the first next()

    def _fill(self) -> bool:
        while self._pos >= len(self._lines):
            if self._stream is None:
                return False
            chunk = self._stream.next()
            if chunk is None:
                self._summary = json.loads(self._stream.summary())
                self._stream.close()
                self._stream = None
                return False
            self._lines = chunk.splitlines()
            self._pos = 0
        return True

    def __iter__(self) -> Rows:
        return self

    def __next__(self) -> dict[str, Any]:
        if not self._fill():
            raise StopIteration
        line = self._lines[self._pos]
        self._pos += 1
        row: dict[str, Any] = json.loads(line)
        return row

    def close(self) -> None:
        """Stops the run (it ends at its next chunk); the rows not read yet are dropped."""
        self._lines, self._pos = [], 0
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    @property
    def summary(self) -> Optional[dict[str, Any]]:
        """Counts per policy and constraint (and per role for impact), diagnostics, time:
        None until every row was read."""
        return self._summary

    def to_frame(self) -> Any:
        """The remaining rows as a pandas DataFrame with :data:`COLUMNS` (pandas required)."""
        try:
            pandas = importlib.import_module("pandas")
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("Rows.to_frame needs pandas (pip install pandas)") from e
        return pandas.DataFrame.from_records(list(self), columns=list(COLUMNS))
