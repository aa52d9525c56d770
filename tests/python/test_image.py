"""Compiled snapshot images (`preflight snapshot compile`, engine/image): every face opens one
wherever it takes a snapshot, and answers exactly as from the exports."""
from __future__ import annotations

import ctypes
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

import test_c_abi
from test_c_abi import lib  # noqa: F401  (the C library fixture)
from test_cli import EXAMPLES, REPO, _cli, run, scim_error
from test_golden import CASES, GOLDEN

DEMO = EXAMPLES / "demo-snapshot"
CORPUS = REPO / "tests" / "corpus" / "iiq"
REQUEST = EXAMPLES / "request.json"


def compile_image(tmp_path: Path, *sources: str, name: str = "demo.pfimg", extra: tuple[str, ...] = ()) -> Path:
    image = tmp_path / name
    proc = run("snapshot", "compile", *sources, "-o", str(image), *extra)
    assert proc.returncode == 0, proc.stderr
    return image


def test_snapshot_compile_prints_what_the_image_holds(tmp_path: Path) -> None:
    image = tmp_path / "demo.pfimg"
    proc = run("snapshot", "compile", str(DEMO), "-o", str(image))
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(run("snapshot", "stats", str(DEMO)).stdout)
    source_hash = stats["load"]["sourceHash"]
    size = image.stat().st_size
    assert size % 64 == 0
    assert json.loads(proc.stdout) == {"image": str(image), "bytes": size, "formatVersion": 3,
                                       "sourceHash": source_hash, "identities": 2, "policies": 2, "loadErrors": 0,
                                       "partial": False}
    assert proc.stderr == (f"preflight: compiled 2 identities and 2 policies (source hash {source_hash}) "
                           f"into {image}, {size} bytes\n")
    assert image.read_bytes()[:8] == b"PFIMAGE\x1a"
    # --output is the long name of -o; compiling an image again gives the same answers.
    again = tmp_path / "again.pfimg"
    proc = run("snapshot", "compile", str(image), "--output", str(again), "--pretty")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["sourceHash"] == source_hash


def test_check_query_stats_and_compile_answer_alike_from_the_image(tmp_path: Path) -> None:
    image = str(compile_image(tmp_path, str(DEMO)))
    for args in (["check", "--request", str(REQUEST)],
                 ["check", "--identity", "Ryan.Russell", "--plan", str(EXAMPLES / "plan.xml"), "--explain", "--pretty"],
                 ["query", "Users", "--filter", 'userName sw "R"', "--attributes", "userName"],
                 ["query", "Roles", "--sort-by", "name", "--sort-order", "descending"],
                 ["query", "Accounts"],
                 ["plan", "compile", "--identity", "Ryan.Russell", str(EXAMPLES / "plan.json")],
                 ["scan", "--format", "json"]):
        direct = run(*args, "--snapshot", str(DEMO))
        opened = run(*args, "--snapshot", image)
        assert direct.returncode == 0, direct.stderr
        assert (opened.returncode, opened.stdout) == (0, direct.stdout), args
    direct = json.loads(run("snapshot", "stats", str(DEMO)).stdout)
    opened = json.loads(run("snapshot", "stats", image).stdout)
    facts = opened.pop("image")
    # The image says what the exports said: counts, memory, files, passes, hash, diagnostics
    # (the load's times are those of the compile, another run than this one).
    # The peak RSS is the process's, and opening an image peaks far lower than a load.
    for stats in (direct, opened):
        assert stats["memory"].pop("peakRssBytes") > 0
        for key in ("readMs", "parseMs", "buildMs"):
            stats["load"].pop(key)
        stats["load"]["passes"] = [p["name"] for p in stats["load"]["passes"]]
    assert opened == direct
    assert facts["formatVersion"] == 3
    assert facts["fileBytes"] == Path(image).stat().st_size
    assert facts["openMs"] >= 0


def test_compile_is_fail_closed_and_a_partial_image_stays_partial(tmp_path: Path) -> None:
    image = tmp_path / "corpus.pfimg"
    refused = scim_error(run("snapshot", "compile", str(CORPUS), "-o", str(image)))
    assert refused["detail"].startswith("snapshot refused: 4 load errors: ")
    assert not image.exists()
    proc = run("snapshot", "compile", str(CORPUS), "-o", str(image), "--allow-partial")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["partial"] is True
    assert proc.stderr.startswith("preflight: warning: partial snapshot (--allow-partial): 4 load errors")
    # Opening it is refused as the exports are, with the same detail but the image's path.
    opened = scim_error(run("snapshot", "stats", str(image)))
    assert opened["detail"] == refused["detail"]
    stats = run("snapshot", "stats", str(image), "--allow-partial")
    assert stats.returncode == 0
    assert stats.stderr.startswith("preflight: warning: partial snapshot (--allow-partial): 4 load errors")
    assert json.loads(stats.stdout)["counts"] == json.loads(run("snapshot", "stats", str(CORPUS),
                                                                "--allow-partial").stdout)["counts"]


def test_compile_usage_and_bad_images(tmp_path: Path) -> None:
    usage = scim_error(run("snapshot", "compile", str(DEMO)))
    assert usage["detail"].startswith("-o FILE (the image to write) is required\n"
                                      "usage: preflight snapshot compile PATH... -o FILE")
    helped = run("snapshot", "compile", "--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith("usage: preflight snapshot compile PATH... -o FILE [--allow-partial] [--pretty]\n")
    assert "snapshot compile PATH... -o FILE" in run("--help").stdout
    image = compile_image(tmp_path, str(DEMO))
    data = image.read_bytes()
    truncated = tmp_path / "truncated.pfimg"
    truncated.write_bytes(data[:1000])
    error = scim_error(run("check", "--snapshot", str(truncated), "--request", str(REQUEST)))
    assert error["detail"] == f"{truncated}: image: truncated: the header says {len(data)} bytes, the file has 1000"
    corrupt = tmp_path / "corrupt.pfimg"
    corrupt.write_bytes(data[:500] + bytes([data[500] ^ 1]) + data[501:])
    error = scim_error(run("query", "--snapshot", str(corrupt), "Users"))
    assert error["detail"] == f"{corrupt}: image: checksum mismatch in the header: the file is corrupt"
    both = scim_error(run("snapshot", "stats", str(image), str(DEMO)))
    assert both["detail"] == (f"a compiled image is a whole snapshot: give it alone, not with other paths "
                              f"({image}, {DEMO})")


@pytest.mark.parametrize("case", [c for c in CASES if "examples/demo-snapshot" in c["args"]], ids=lambda c: c["name"])
def test_golden_outputs_from_the_image(case: dict, tmp_path: Path) -> None:
    image = compile_image(tmp_path, str(DEMO))
    args = [str(image) if a == "examples/demo-snapshot" else a for a in case["args"]]
    proc = subprocess.run([_cli(), *args], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == case.get("exit", 0), proc.stderr
    assert proc.stdout == (GOLDEN / f"{case['name']}.out").read_text()


def test_python_engine_loads_an_image(tmp_path: Path) -> None:
    import preflight

    image = compile_image(tmp_path, str(DEMO))
    direct = preflight.Engine.load(DEMO)
    opened = preflight.Engine.load(str(image))
    body = REQUEST.read_text()
    assert opened.check(body) == direct.check(body)
    expected = json.loads((EXAMPLES / "expected-response.json").read_text())
    assert opened.check(body) == expected
    assert opened.info["source_hash"] == direct.info["source_hash"]
    stats = opened.stats()
    assert stats["image"]["formatVersion"] == 3
    assert stats["image"]["fileBytes"] == image.stat().st_size
    assert stats["counts"] == direct.stats()["counts"]
    image.write_bytes(image.read_bytes()[:300])
    with pytest.raises(preflight.InvalidValue) as raised:
        preflight.Engine.load(str(image))
    assert "image: truncated: the header says" in str(raised.value)


def section_offset(data: bytes, wanted: str) -> int:
    """Where a section of an image starts (its entry in the table from byte 192, 64 bytes each)."""
    count = int.from_bytes(data[64:68], "little")
    for entry in range(192, 192 + 64 * count, 64):
        if data[entry:entry + 40].rstrip(b"\0").decode() == wanted:
            return int.from_bytes(data[entry + 48:entry + 56], "little")
    raise AssertionError(f"no section {wanted}")


def wait_verified(engine) -> str:
    """The state of a lazy open's background verification once it has ended (bounded wait)."""
    for _ in range(2000):
        state = engine.image_verification()
        if state != "verifying":
            return state
        time.sleep(0.005)
    raise AssertionError("the background verification did not end")


def test_python_engine_loads_an_image_lazily(tmp_path: Path) -> None:
    import preflight

    image = compile_image(tmp_path, str(DEMO))
    body = REQUEST.read_text()
    expected = json.loads((EXAMPLES / "expected-response.json").read_text())
    lazy = preflight.Engine.load(str(image), verify="lazy")
    assert lazy.check(body) == expected
    assert wait_verified(lazy) == "verified"
    assert lazy.stats()["image"]["verify"] == "lazy"
    assert lazy.stats()["image"]["columns"] == "verified"
    assert preflight.Engine.load(str(image)).image_verification() == "full"
    assert preflight.SharedEngine.load(str(image), verify="lazy").get().check(body) == expected
    with pytest.raises(preflight.InvalidValue, match="image verify must be full or lazy, not 'quick'"):
        preflight.Engine.load(str(image), verify="quick")
    # A value in the column one off: within bounds, so the open succeeds and only the
    # background pass's checksum finds it; from then on every call fails closed.
    data = bytearray(image.read_bytes())
    data[section_offset(data, "values")] ^= 1
    corrupt = tmp_path / "corrupt.pfimg"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(preflight.InvalidValue, match="checksum mismatch in section 'values'"):
        preflight.Engine.load(str(corrupt))
    engine = preflight.Engine.load(str(corrupt), verify="lazy")
    assert wait_verified(engine) == "failed"
    with pytest.raises(preflight.InvalidValue, match="checksum mismatch in section 'values'"):
        engine.check(body)


def test_cli_image_verify_flag(tmp_path: Path) -> None:
    image = compile_image(tmp_path, str(DEMO))
    stats = json.loads(run("snapshot", "stats", str(image), "--image-verify", "lazy").stdout)
    assert stats["image"]["verify"] == "lazy"
    assert stats["image"]["columns"] in ("verifying", "verified")
    assert json.loads(run("snapshot", "stats", str(image)).stdout)["image"]["verify"] == "full"
    proc = run("check", "--snapshot", str(image), "--image-verify", "lazy", "--request", str(REQUEST))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads((EXAMPLES / "expected-response.json").read_text())
    bad = scim_error(run("snapshot", "stats", str(image), "--image-verify", "sometimes"))
    assert bad["detail"] == "image verify must be full or lazy, not 'sometimes'"


def test_python_writes_an_image_the_cli_would(tmp_path: Path) -> None:
    import preflight

    direct = preflight.Engine.load(DEMO)
    written = direct.write_image(tmp_path / "py.pfimg")
    # The same image as the CLI's but for the load times it records.
    cli = compile_image(tmp_path, str(DEMO), name="cli.pfimg")
    assert (tmp_path / "py.pfimg").stat().st_size == cli.stat().st_size
    assert written == {"image": str(tmp_path / "py.pfimg"), "bytes": cli.stat().st_size, "formatVersion": 3,
                       "sourceHash": direct.info["source_hash"], "identities": 2, "policies": 2,
                       "loadErrors": 0, "partial": False}
    opened = preflight.Engine.load(tmp_path / "py.pfimg")
    assert opened.check(REQUEST.read_text()) == direct.check(REQUEST.read_text())
    with pytest.raises(preflight.InvalidType):
        direct.write_image(42)  # type: ignore[arg-type]
    with pytest.raises(preflight.PreflightError) as raised:
        direct.write_image(tmp_path / "no-such-dir" / "x.pfimg")
    assert "no-such-dir" in str(raised.value)


def test_serve_opens_an_image_and_reloads_a_new_one(tmp_path: Path) -> None:
    requests = pytest.importorskip("requests")
    from test_serve import Server
    from test_serve_ops import CHECK, _variant_b

    _variant_b(DEMO, tmp_path / "b")
    image = compile_image(tmp_path, str(DEMO), name="live.pfimg")
    answer_a = run("check", "--snapshot", str(DEMO), "--request", str(REQUEST)).stdout.rstrip("\n")
    answer_b = run("check", "--snapshot", str(tmp_path / "b"), "--request", str(REQUEST)).stdout.rstrip("\n")
    assert answer_a != answer_b
    server = Server([image], log_dir=tmp_path).start()
    try:
        body = REQUEST.read_text()
        assert requests.post(server.url + CHECK, data=body, timeout=10).text == answer_a
        # snapshot compile replaces the image by renaming a new file over it: the server's
        # mapping of the old one stays valid until the swap.
        compile_image(tmp_path, str(tmp_path / "b"), name="live.pfimg")
        before = len(server.events())
        server.signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while not [e for e in server.events()[before:] if e["event"] == "reload"]:
            assert time.monotonic() < deadline, server.log_path.read_text()
            time.sleep(0.05)
        assert requests.post(server.url + CHECK, data=body, timeout=10).text == answer_b
    finally:
        code = server.stop()
    assert code == 0


def test_c_abi_loads_an_image(tmp_path: Path, lib: ctypes.CDLL) -> None:
    image = compile_image(tmp_path, str(DEMO))
    status, engine, out = test_c_abi.load(lib, [str(image)])
    assert (status, out) == (test_c_abi.OK, None)
    try:
        status, text = test_c_abi.check(lib, engine, REQUEST.read_bytes())
        direct = run("check", "--snapshot", str(DEMO), "--request", str(REQUEST)).stdout.rstrip("\n")
        assert (status, text) == (test_c_abi.OK, direct)
    finally:
        lib.preflight_engine_free(engine)


def test_impact_of_a_change_needs_the_exports(tmp_path: Path) -> None:
    image = compile_image(tmp_path, str(DEMO))
    change = str(EXAMPLES / "scan" / "unix-role-change.xml")
    error = scim_error(run("impact", "--snapshot", str(image), "--change", change))
    assert error["detail"] == ("impact of a change needs an engine loaded from the exports (paths), "
                               "not from a compiled image")
    # A plan's impact reads only the snapshot: the image answers it as the exports do.
    plan = str(EXAMPLES / "plan.json")
    direct = run("impact", "--snapshot", str(DEMO), "--plan", plan, "--format", "json")
    opened = run("impact", "--snapshot", str(image), "--plan", plan, "--format", "json")
    assert direct.returncode == 0, direct.stderr
    assert (opened.returncode, opened.stdout) == (0, direct.stdout)
