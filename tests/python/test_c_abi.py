"""The C ABI (bindings/c/include/preflight/preflight.h) from another runtime: Python's ctypes,
without the pybind11 module. Proves the exported symbols, the ownership rules (every
returned string released with preflight_string_free) and the error contract."""
from __future__ import annotations

import ctypes
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
OK, INVALID_VALUE, INVALID_SYNTAX, TOO_MANY, NOT_FOUND, INVALID_ARGUMENT = 0, 1, 2, 5, 8, 10
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def _library_path() -> Path:
    if os.environ.get("PREFLIGHT_C_LIB"):
        return Path(os.environ["PREFLIGHT_C_LIB"])
    builds = [Path(os.environ[v]).parent for v in ("PREFLIGHT_CLI",) if os.environ.get(v)]
    builds += [Path(os.environ["PREFLIGHT_BUILD_DIR"])] if os.environ.get("PREFLIGHT_BUILD_DIR") else []
    builds += [REPO / "build" / "release"]
    for build in builds:
        candidate = build / "bindings" / "c" / "libpreflight.so.0"
        if candidate.exists():
            return candidate
    pytest.skip("libpreflight.so.0 is not built (set PREFLIGHT_C_LIB)")
    raise AssertionError


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(_library_path()))
    c_char_pp = ctypes.POINTER(ctypes.c_char_p)
    out_t = ctypes.POINTER(ctypes.c_void_p)  # char **: kept as void* so that we can free it
    lib.preflight_string_free.argtypes = [ctypes.c_void_p]
    lib.preflight_string_free.restype = None
    lib.preflight_version.restype = ctypes.c_char_p
    lib.preflight_status_scim_type.argtypes = [ctypes.c_int]
    lib.preflight_status_scim_type.restype = ctypes.c_char_p
    lib.preflight_engine_load.argtypes = [c_char_pp, ctypes.c_size_t, c_char_pp, ctypes.c_size_t, ctypes.c_uint,
                                          ctypes.POINTER(ctypes.c_void_p), out_t]
    lib.preflight_engine_free.argtypes = [ctypes.c_void_p]
    lib.preflight_engine_free.restype = None
    lib.preflight_check.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, out_t]
    lib.preflight_check_batch.argtypes = [ctypes.c_void_p, c_char_pp, ctypes.POINTER(ctypes.c_size_t),
                                          ctypes.c_size_t, ctypes.c_uint, ctypes.POINTER(ctypes.c_int), out_t]
    lib.preflight_shared_new.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), out_t]
    lib.preflight_shared_get.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), out_t]
    lib.preflight_shared_swap.argtypes = [ctypes.c_void_p, ctypes.c_void_p, out_t]
    lib.preflight_shared_free.argtypes = [ctypes.c_void_p]
    lib.preflight_shared_free.restype = None
    return lib


def take(lib: ctypes.CDLL, out: ctypes.c_void_p) -> str | None:
    """The string behind `out`, released as the header says."""
    if not out.value:
        return None
    text = ctypes.string_at(out.value).decode()
    lib.preflight_string_free(out)
    return text


def strings(values: list[str]) -> Any:
    return (ctypes.c_char_p * len(values))(*[v.encode() for v in values])


def load(lib: ctypes.CDLL, paths: list[str], limits: list[str] | None = None, flags: int = 0) -> tuple[int, Any, str | None]:
    engine, out = ctypes.c_void_p(), ctypes.c_void_p()
    limits = limits or []
    status = lib.preflight_engine_load(strings(paths), len(paths), strings(limits) if limits else None, len(limits),
                                       flags, ctypes.byref(engine), ctypes.byref(out))
    return status, engine, take(lib, out)


def check(lib: ctypes.CDLL, engine: Any, body: bytes, flags: int = 0) -> tuple[int, str | None]:
    out = ctypes.c_void_p()
    status = lib.preflight_check(engine, body, len(body), flags, ctypes.byref(out))
    return status, take(lib, out)


def scim_error(text: str | None) -> dict[str, Any]:
    assert text is not None
    error = json.loads(text)
    assert error["schemas"] == [ERROR_SCHEMA]
    return error


@pytest.fixture(scope="module")
def engine(lib: ctypes.CDLL) -> Any:
    status, engine, out = load(lib, [str(EXAMPLES / "demo-snapshot")])
    assert (status, out) == (OK, None)
    yield engine
    lib.preflight_engine_free(engine)


BODY = (EXAMPLES / "request.json").read_bytes()


def test_only_the_abi_is_exported() -> None:
    import subprocess

    symbols = subprocess.run(["nm", "-D", "--defined-only", str(_library_path())], capture_output=True, text=True,
                             check=True).stdout.split()
    exported = {s.split("@")[0] for s in symbols if "@@" in s}
    assert exported and all(name.startswith("preflight_") for name in exported), exported
    assert "preflight_check" in exported


def test_version_and_scim_types(lib: ctypes.CDLL) -> None:
    assert lib.preflight_version() == b"0.1.0"
    assert lib.preflight_status_scim_type(INVALID_SYNTAX) == b"invalidSyntax"
    assert lib.preflight_status_scim_type(TOO_MANY) == b"tooMany"
    assert lib.preflight_status_scim_type(OK) == b""


def test_check_answers_the_documented_request(lib: ctypes.CDLL, engine: Any) -> None:
    status, out = check(lib, engine, BODY)
    assert status == OK
    response = json.loads(out or "")
    expected = json.loads((EXAMPLES / "expected-response.json").read_text())
    assert response["violations"] == expected["violations"]


def test_check_errors_are_scim_errors(lib: ctypes.CDLL, engine: Any) -> None:
    status, out = check(lib, engine, b'{"identity": ')
    assert status == INVALID_SYNTAX
    assert scim_error(out)["scimType"] == "invalidSyntax"
    status, out = check(lib, engine, BODY.replace(b"Ryan.Russell", b"Nobody.Here"))
    assert status == INVALID_VALUE
    assert "Nobody.Here" in scim_error(out)["detail"]
    status, out = check(lib, None, BODY)
    assert status == INVALID_ARGUMENT and scim_error(out)["scimType"] == "invalidValue"
    assert lib.preflight_check(engine, BODY, len(BODY), 0, None) == INVALID_ARGUMENT


def test_load_errors(lib: ctypes.CDLL) -> None:
    status, engine, out = load(lib, ["/nonexistent/snapshot"])
    assert status == NOT_FOUND and not engine.value
    assert scim_error(out)["status"] == "400"
    status, engine, out = load(lib, [str(EXAMPLES / "demo-snapshot")], ["max_widgets=1"])
    assert status == INVALID_VALUE and "max_widgets" in scim_error(out)["detail"]


def test_limits_apply_to_checks(lib: ctypes.CDLL) -> None:
    status, engine, out = load(lib, [str(EXAMPLES / "demo-snapshot")], ["max_input_bytes=100"])
    assert status == OK
    try:
        status, out = check(lib, engine, BODY)
        assert status == TOO_MANY and scim_error(out)["scimType"] == "tooMany"
    finally:
        lib.preflight_engine_free(engine)


def test_batch_keeps_each_result_in_place(lib: ctypes.CDLL, engine: Any) -> None:
    bodies = [BODY, b"not json", BODY]
    statuses = (ctypes.c_int * 3)()
    lengths = (ctypes.c_size_t * 3)(*[len(b) for b in bodies])
    out = ctypes.c_void_p()
    array = (ctypes.c_char_p * 3)(*bodies)
    assert lib.preflight_check_batch(engine, array, lengths, 3, 0, statuses, ctypes.byref(out)) == OK
    results = json.loads(take(lib, out) or "")
    assert list(statuses) == [OK, INVALID_SYNTAX, OK]
    assert results[0]["violations"][0]["constraintName"] == "IT SOD-117"
    assert scim_error(json.dumps(results[1]))["scimType"] == "invalidSyntax"


def test_swap_under_threads(lib: ctypes.CDLL, engine: Any) -> None:
    shared, out = ctypes.c_void_p(), ctypes.c_void_p()
    assert lib.preflight_shared_new(engine, ctypes.byref(shared), ctypes.byref(out)) == OK
    _, other, _ = load(lib, [str(EXAMPLES / "demo-snapshot")])
    failures: list[str] = []

    def checker() -> None:
        for _ in range(100):
            current, out = ctypes.c_void_p(), ctypes.c_void_p()
            if lib.preflight_shared_get(shared, ctypes.byref(current), ctypes.byref(out)) != OK:
                failures.append("get")
            status, text = check(lib, current, BODY)
            if status != OK or "IT SOD-117" not in (text or ""):
                failures.append(f"check {status}")
            lib.preflight_engine_free(current)

    def swapper() -> None:
        for i in range(50):
            out = ctypes.c_void_p()
            if lib.preflight_shared_swap(shared, other if i % 2 == 0 else engine, ctypes.byref(out)) != OK:
                failures.append("swap")

    threads = [threading.Thread(target=checker) for _ in range(4)] + [threading.Thread(target=swapper)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lib.preflight_shared_free(shared)
    lib.preflight_engine_free(other)
    assert failures == []


def _declare_reading(lib: ctypes.CDLL) -> None:
    out_t = ctypes.POINTER(ctypes.c_void_p)
    c_char_pp = ctypes.POINTER(ctypes.c_char_p)
    lib.preflight_query.argtypes = [ctypes.c_void_p] + [ctypes.c_char_p] * 6 + [ctypes.c_int64, ctypes.c_int64, out_t]
    lib.preflight_compile.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t,
                                      ctypes.c_char_p, ctypes.c_uint, out_t]
    lib.preflight_plan_convert.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_char_p,
                                           ctypes.c_uint, c_char_pp, ctypes.c_size_t, out_t]
    lib.preflight_filter_parse.argtypes = [ctypes.c_char_p, c_char_pp, ctypes.c_size_t, out_t]
    lib.preflight_filter_eval.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, c_char_pp,
                                          ctypes.c_size_t, ctypes.POINTER(ctypes.c_int), out_t]
    lib.preflight_stats.argtypes = [ctypes.c_void_p, ctypes.c_uint, out_t]


def test_query_compile_and_stats(lib: ctypes.CDLL, engine: Any) -> None:
    _declare_reading(lib)
    out = ctypes.c_void_p()
    assert lib.preflight_query(engine, b"Users", b'userName sw "A"', b"userName", None, None, None, -1, -1,
                               ctypes.byref(out)) == OK
    listing = json.loads(take(lib, out) or "")
    assert [r["userName"] for r in listing["Resources"]] == ["Amanda.Ross"]
    assert lib.preflight_query(engine, b"Users", b"userName eq", None, None, None, None, -1, -1,
                               ctypes.byref(out)) == 3  # PREFLIGHT_INVALID_FILTER
    assert scim_error(take(lib, out))["scimType"] == "invalidFilter"
    plan = (EXAMPLES / "plan.xml").read_bytes()
    assert lib.preflight_compile(engine, b"Ryan.Russell", plan, len(plan), b"xml", 0, ctypes.byref(out)) == OK
    assert "Unix Administrator - IT" in (take(lib, out) or "")
    assert lib.preflight_stats(engine, 0, ctypes.byref(out)) == OK
    assert json.loads(take(lib, out) or "")["counts"]["identities"] == 2


def test_functions_without_a_snapshot(lib: ctypes.CDLL) -> None:
    _declare_reading(lib)
    out = ctypes.c_void_p()
    plan = (EXAMPLES / "plan.xml").read_bytes()
    assert lib.preflight_plan_convert(plan, len(plan), b"json", None, 0, None, 0, ctypes.byref(out)) == OK
    assert json.loads(take(lib, out) or "") == json.loads((EXAMPLES / "plan.json").read_text())
    assert lib.preflight_filter_parse(b"title pr", None, 0, ctypes.byref(out)) == OK
    assert take(lib, out) == "(pr title)"
    limits = strings(["max_filter_length=4"])
    assert lib.preflight_filter_parse(b"title pr", limits, 1, ctypes.byref(out)) == TOO_MANY
    assert scim_error(take(lib, out))["scimType"] == "tooMany"
    user = (EXAMPLES / "user.json").read_bytes()
    match = ctypes.c_int(-1)
    assert lib.preflight_filter_eval(b'emails[type eq "work"]', user, len(user), None, 0, ctypes.byref(match),
                                     ctypes.byref(out)) == OK
    assert (match.value, take(lib, out)) == (1, "true")
