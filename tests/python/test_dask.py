"""preflight.dask on a distributed.LocalCluster of several worker processes: the same rows
as the single-process scan (after sorting), as a DataFrame and as a bag, and a worker
killed in the middle of a partition is retried by Dask with no row lost or duplicated."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import dask  # noqa: E402

import preflight  # noqa: E402
import preflight.dask  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

# The crash wrapper below runs on the workers, which cannot import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dask") / "w"
    subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "gen_workload.py"), "--out", str(out), "--identities", "2000",
         "--constraints", "200", "--requests", "1", "--allow-small", "--jobs", "1"],
        check=True, capture_output=True, timeout=120)
    return out / "xml"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as c:
        yield c


def canonical(rows: list[dict[str, Any]]) -> list[str]:
    def clean(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if v is not None and not (isinstance(v, float) and math.isnan(v))}

    return sorted(json.dumps(clean(r), sort_keys=True) for r in rows)


def test_scan_on_the_cluster_equals_the_local_scan(workload: Path, client: Any) -> None:
    local = list(preflight.Engine.load(workload).scan())
    assert len(local) > 10
    frame = preflight.dask.scan(str(workload), partitions=7)
    assert frame.npartitions == 7
    rows = frame.compute().to_dict("records")
    assert canonical(rows) == canonical(local)
    bag = preflight.dask.scan(str(workload), partitions=3, bag=True).compute()
    assert canonical(list(bag)) == canonical(local)
    # Each worker process opened the snapshot once, whatever the partitions it ran.
    loads = client.run(lambda: len(preflight.dask._engines))
    assert all(n <= 1 for n in loads.values())


def crash_once(marker: str, paths: list[str], start: int, stop: int, options: dict[str, Any]) -> Any:
    """Kills its worker process the first time it runs (the marker is the memory)."""
    if not os.path.exists(marker):
        with open(marker, "w"):
            pass
        os._exit(1)
    return preflight.dask._frame(preflight.dask.scan_partition(paths, start, stop, options))


def test_a_killed_worker_loses_and_duplicates_nothing(workload: Path, client: Any, tmp_path: Path) -> None:
    local = canonical(list(preflight.Engine.load(workload).scan()))
    ranges = preflight.dask.partition_ranges(preflight.Engine.load(workload).count_identities(), 6)
    options = {"filter": None, "policies": None, "threads": 1}
    marker = str(tmp_path / "crashed")
    parts = []
    for i, (a, b) in enumerate(ranges):
        if i == 2:
            parts.append(dask.delayed(crash_once)(marker, [str(workload)], a, b, options))
        else:
            parts.append(dask.delayed(preflight.dask._frame)(
                dask.delayed(preflight.dask.scan_partition)([str(workload)], a, b, options)))
    import dask.dataframe as dd

    with dask.config.set({"dataframe.convert-string": False}):
        frame = dd.from_delayed(parts, meta=preflight.dask._empty_frame(), verify_meta=False)
    rows = frame.compute().to_dict("records")
    assert os.path.exists(marker)  # the worker did die once
    assert canonical(rows) == local


def test_impact_on_the_cluster_equals_the_local_impact(workload: Path, client: Any) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    import scan_bench

    change = workload.parent / "changed-role.xml"
    scan_bench.changed_role(workload, change)
    local = list(preflight.Engine.load(workload).impact(change))
    assert local and {r["change"] for r in local} <= {"gained", "lost"}
    rows = preflight.dask.impact(str(workload), str(change), partitions=4).compute().to_dict("records")
    assert canonical(rows) == canonical(local)
