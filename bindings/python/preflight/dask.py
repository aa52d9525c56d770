"""Scan and impact on a Dask cluster: the identities split into partitions, each a slice
(``start``/``stop``) of the identities the filter selects, in snapshot order. Each worker
process opens the snapshot once (the engine is cached per process and per paths), then
scans its partitions; the rows come back as a Dask DataFrame (columns
:data:`preflight.ROW_COLUMNS`) or a Dask bag of dicts.

    import preflight.dask
    frame = preflight.dask.scan("snapshot/", partitions=16)
    frame.groupby("policyName").size().compute()

Every worker must see the snapshot at the same path (a shared file system, or the same
files on every machine). A partition is a pure function of (paths, slice, arguments),
so Dask can rerun one whose worker died: the result has no lost and no duplicated rows.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Iterable, Optional, Sequence

from . import ROW_COLUMNS, Engine, Paths, _args

def _module(name: str) -> Any:
    """Dask and pandas are imported when used (they are optional, and untyped)."""
    return importlib.import_module(name)


_engines: dict[tuple[tuple[str, ...], bool], Engine] = {}
_lock = threading.Lock()


def engine(paths: Sequence[str], allow_partial: bool = False) -> Engine:
    """The engine for ``paths`` in this process, loaded on first use."""
    key = (tuple(paths), allow_partial)
    with _lock:
        found = _engines.get(key)
        if found is None:
            found = _engines[key] = Engine.load(list(paths), allow_partial=allow_partial)
        return found


def partition_ranges(total: int, partitions: int) -> list[tuple[int, int]]:
    """``partitions`` contiguous (start, stop) slices covering ``range(total)``, none empty."""
    parts = max(1, min(partitions, total))
    size, extra = divmod(total, parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + size + (1 if i < extra else 0)
        out.append((start, stop))
        start = stop
    return out if total else []


def _empty_frame() -> Any:
    pandas = _module("pandas")

    return pandas.DataFrame({c: pandas.Series([], dtype=object) for c in ROW_COLUMNS})


def _frame(rows: list[dict[str, Any]]) -> Any:
    pandas = _module("pandas")

    if not rows:
        return _empty_frame()
    frame = pandas.DataFrame.from_records(rows, columns=list(ROW_COLUMNS))
    return frame.astype(object)


def scan_partition(paths: Sequence[str], start: int, stop: int, options: dict[str, Any],
                   allow_partial: bool = False) -> list[dict[str, Any]]:
    """One partition's scan rows (``options``: filter, policies, threads)."""
    return list(engine(paths, allow_partial).scan(start=start, stop=stop, **options))


_changed: dict[tuple[Any, ...], Engine] = {}


def impact_partition(paths: Sequence[str], start: int, stop: int, options: dict[str, Any],
                     allow_partial: bool = False) -> list[dict[str, Any]]:
    """One partition's impact rows (``options``: changes, activate, plan, plan_type, filter, policies, threads).
    The changed snapshot is loaded once per worker process too, not once per partition."""
    base = engine(paths, allow_partial)
    options = dict(options)
    changes, activate = options.pop("changes", None), options.pop("activate", None)
    if changes or activate:
        key = (tuple(paths), allow_partial, tuple(changes or ()), tuple(activate or ()))
        with _lock:
            after = _changed.get(key)
            if after is None:
                after = _changed[key] = base.with_changes(changes, activate=activate)
        return list(base.impact(start=start, stop=stop, after=after, **options))
    return list(base.impact(start=start, stop=stop, **options))


def _plan(paths: Paths, filter: Optional[str], partitions: Optional[int],
          allow_partial: bool) -> tuple[list[str], list[tuple[int, int]]]:
    names = _args.paths(paths)
    total = engine(names, allow_partial).count_identities(filter)
    if partitions is None:
        partitions = max(1, min(64, total // 5000 or 1))
    return names, partition_ranges(total, _args.integer(partitions, "partitions", 1))


def _bag(function: Any, names: list[str], ranges: list[tuple[int, int]], options: dict[str, Any],
         allow_partial: bool) -> Any:
    delayed, bag = _module("dask").delayed, _module("dask.bag")
    if not ranges:
        return bag.from_sequence([], npartitions=1)
    parts = [delayed(function)(names, a, b, options, allow_partial) for a, b in ranges]
    return bag.from_delayed(parts)


def _dataframe(function: Any, names: list[str], ranges: list[tuple[int, int]], options: dict[str, Any],
               allow_partial: bool) -> Any:
    dask, dataframe = _module("dask"), _module("dask.dataframe")

    def part(a: int, b: int) -> Any:
        return dask.delayed(_frame)(dask.delayed(function)(names, a, b, options, allow_partial))

    parts = [part(a, b) for a, b in ranges] or [dask.delayed(_empty_frame)()]
    # The list columns (bundles, entitlements) stay Python objects, not pyarrow strings.
    with dask.config.set({"dataframe.convert-string": False}):
        return dataframe.from_delayed(parts, meta=_empty_frame(), verify_meta=False)


def scan(
    paths: Paths,
    *,
    filter: Optional[str] = None,
    policies: Optional[Iterable[str]] = None,
    partitions: Optional[int] = None,
    threads: int = 1,
    allow_partial: bool = False,
    bag: bool = False,
) -> Any:
    """Every current violation (as :meth:`preflight.Engine.scan`), as a Dask DataFrame, or a
    bag of dicts with ``bag=True``. ``partitions`` defaults to one per 5,000 identities
    (at most 64); ``threads`` is the cores each partition uses on its worker."""
    names, ranges = _plan(paths, filter, partitions, allow_partial)
    options = {"filter": filter, "policies": _args.policy_names(policies), "threads": threads}
    build = _bag if bag else _dataframe
    return build(scan_partition, names, ranges, options, allow_partial)


def impact(
    paths: Paths,
    changes: Optional[Paths] = None,
    *,
    activate: Optional[Iterable[str]] = None,
    plan: Optional[str] = None,
    plan_type: Optional[str] = None,
    filter: Optional[str] = None,
    policies: Optional[Iterable[str]] = None,
    partitions: Optional[int] = None,
    threads: int = 1,
    allow_partial: bool = False,
    bag: bool = False,
) -> Any:
    """What a change (or a plan applied to every selected identity) does, as
    :meth:`preflight.Engine.impact`, as a Dask DataFrame or bag. The change files must be
    readable at the same paths on every worker."""
    names, ranges = _plan(paths, filter, partitions, allow_partial)
    options = {
        "changes": None if changes is None else _args.paths(changes),
        "activate": _args.policy_names(activate),
        "plan": plan,
        "plan_type": plan_type,
        "filter": filter,
        "policies": _args.policy_names(policies),
        "threads": threads,
    }
    build = _bag if bag else _dataframe
    return build(impact_partition, names, ranges, options, allow_partial)
