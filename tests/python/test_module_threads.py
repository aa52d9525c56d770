"""Threads: concurrent checks against a SharedEngine that another thread keeps swapping, and the
GIL being released while the engine works. Every assertion is about answers, never about time."""
from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import preflight


def test_shared_engine_swapped_while_four_threads_check(
    demo_snapshot: Path, request_body: dict[str, Any], expected_response: dict[str, Any]
) -> None:
    with_policies = preflight.Engine.load(demo_snapshot)
    # The same snapshot without its policies: the same request has no violations.
    without_policies = preflight.Engine.load([p for p in sorted(demo_snapshot.iterdir()) if p.name != "policies.xml"],
                                            allow_partial=True)
    # Loaded on purpose without policies (allow_partial): no violation, and the answer says so.
    extension = "urn:ietf:params:scim:schemas:extension:preflight:1.0:CheckedPolicyViolation"
    answer_without = without_policies.check(request_body)
    assert {k: v for k, v in answer_without.items() if k not in ("schemas", extension)} == {
        k: v for k, v in expected_response.items() if k not in ("violations", "schemas")}
    assert answer_without["schemas"] == expected_response["schemas"] + [extension]
    assert answer_without[extension]["diagnostics"] == [{
        "severity": "warning", "code": "invalidValue", "object": "Snapshot",
        "message": "partial snapshot (--allow-partial): 0 load errors, 0 policies, 2 identities; "
                   "this answer may miss violations"}]
    assert with_policies.check(request_body) == expected_response
    assert without_policies.stats()["counts"]["policies"] == 0

    shared = preflight.SharedEngine(with_policies)
    swaps = 200
    checks_per_thread = 300
    stop = threading.Event()
    errors: list[BaseException] = []
    seen: list[dict[str, int]] = []

    def swapper() -> None:
        try:
            for i in range(swaps):
                shared.swap(without_policies if i % 2 == 0 else with_policies)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            stop.set()

    def checker() -> None:
        counts = {"with": 0, "without": 0, "pinned": 0}
        try:
            i = 0
            while i < checks_per_thread or not stop.is_set():
                got = shared.check(request_body)
                if got == expected_response:
                    counts["with"] += 1
                elif got == answer_without:
                    counts["without"] += 1
                else:
                    raise AssertionError(f"unexpected answer {got!r}")
                # A pinned engine answers from one snapshot, whatever swaps happen meanwhile.
                pinned = shared.get()
                policies = pinned.stats()["counts"]["policies"]
                assert pinned.check(request_body) == (expected_response if policies == 2 else answer_without)
                counts["pinned"] += 1
                i += 1
        except BaseException as e:
            errors.append(e)
        seen.append(counts)

    threads = [threading.Thread(target=checker) for _ in range(4)] + [threading.Thread(target=swapper)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(seen) == 4
    assert all(c["with"] + c["without"] >= checks_per_thread for c in seen)
    # 200 swaps, the last one (i = 199) back to the engine with policies.
    assert shared.check(request_body) == expected_response
    assert shared.get().stats()["counts"]["policies"] == 2


def test_shared_engine_swap_from_paths(demo_snapshot: Path, request_body: dict[str, Any], expected_response: dict[str, Any]) -> None:
    shared = preflight.SharedEngine.load(demo_snapshot)
    shared.swap(demo_snapshot)
    assert shared.check(request_body) == expected_response
    assert shared.engine.check(request_body) == expected_response


def test_thread_pool_of_checks(engine: Any, request_body: dict[str, Any], expected_response: dict[str, Any]) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(engine.check, request_body) for _ in range(400)]
        batches = [pool.submit(engine.check_batch, [request_body] * 25) for _ in range(8)]
        # The main thread keeps running Python meanwhile.
        total = sum(i * i for i in range(100_000))
        assert all(f.result() == expected_response for f in futures)
        assert all(b.result() == [expected_response] * 25 for b in batches)
    assert total == 333328333350000


def test_gil_is_released_during_a_native_call(engine: Any, request_body: dict[str, Any], expected_response: dict[str, Any]) -> None:
    """With a switch interval far longer than the test, the main thread can only run while
    the worker is inside the engine if the binding released the GIL. The main thread waits
    for the worker to start, then looks whether the worker's native call is still running."""
    assert engine.check(request_body) == expected_response
    started = threading.Event()
    finished = threading.Event()
    result: list[float] = []

    def worker() -> None:
        started.set()
        result.append(engine._bench_check(request_body, 200_000))  # checks in a C++ loop
        finished.set()

    previous = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    try:
        t = threading.Thread(target=worker)
        t.start()
        started.wait()  # blocks: the worker runs, sets the event, enters the engine
        in_flight = not finished.is_set()
        # Python work on the main thread while the engine keeps checking.
        squares = [i * i for i in range(1000)]
        t.join()
    finally:
        sys.setswitchinterval(previous)
    assert in_flight, "the main thread only ran after the native call returned: the GIL was held"
    assert squares[-1] == 999 * 999
    assert len(result) == 1 and result[0] > 0
