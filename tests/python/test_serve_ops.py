"""`preflight serve` under operation: budgets against bad clients, live reload while clients
check, TLS, metrics, the access log and the drain on SIGTERM."""
from __future__ import annotations

import json
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from test_serve import BASE, DEMO, EXAMPLES, Server, get, post, run_cli, scim_error

requests = pytest.importorskip("requests")

CHECK = BASE + "/CheckedPolicyViolations"


def raw(server: Server, data: bytes, timeout: float = 5.0) -> bytes:
    """Sends bytes on a fresh connection and returns everything read until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server([DEMO], "--limit", "max_input_bytes=4096", "--max-header-bytes", "2048", "--header-timeout", "0.5",
                    "--body-timeout", "0.5", "--idle-timeout", "0.7", "--max-connections", "6",
                    log_dir=tmp_path_factory.mktemp("logs")).start()
    yield server
    assert server.stop() == 0


def test_oversized_body_is_413(strict: Server) -> None:
    response = post(strict, CHECK, "x" * 10_000)
    error = scim_error(response, 413)
    assert error["scimType"] == "tooMany"
    assert response.headers["Connection"] == "close"
    assert response.headers["X-Preflight-Snapshot"].startswith("generation=1; hash=")
    chunked = requests.post(strict.url + CHECK, data=iter([b"y" * 3000, b"y" * 3000]), timeout=10)
    scim_error(chunked, 413)
    assert post(strict, CHECK, (EXAMPLES / "request.json").read_text()).status_code == 200


def test_oversized_header_is_431(strict: Server) -> None:
    response = get(strict, BASE + "/Users", headers={"X-Big": "z" * 4000})
    scim_error(response, 431)


def test_malformed_http_is_400_and_closed(strict: Server) -> None:
    answer = raw(strict, b"GARBAGE / HTTP/9.9\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")
    assert b'"status":"400"' in answer
    answer = raw(strict, b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")


def test_slow_client_is_dropped_and_others_are_served(strict: Server) -> None:
    with socket.create_connection(("127.0.0.1", strict.port), timeout=5) as slow:
        slow.sendall(b"POST " + CHECK.encode() + b" HTTP/1.1\r\nHost: x\r\n")  # and then nothing
        started = time.monotonic()
        assert get(strict, "/healthz").status_code == 200  # served while the slow one waits
        assert slow.recv(100) == b""  # closed by the header timeout, without an answer
        assert time.monotonic() - started < 3
    with socket.create_connection(("127.0.0.1", strict.port), timeout=5) as slow_body:
        slow_body.sendall(b"POST " + CHECK.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        assert slow_body.recv(100) == b""  # body timeout


def test_bad_percent_encoding_is_400(strict: Server) -> None:
    for target in (b"/identityiq/scim/v2/Users?filter=%zz", b"/identityiq/scim/v2/Users/%",
                   b"/identityiq/scim/v2/Users?count=%4", b"/identityiq/scim/v2/CheckedPolicyViolations?attributes=%"):
        method = b"POST" if b"Checked" in target else b"GET"
        body = (EXAMPLES / "request.json").read_bytes()
        answer = raw(strict, method + b" " + target + b" HTTP/1.1\r\nHost: x\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        assert answer.startswith(b"HTTP/1.1 400"), (target, answer[:200])
    ok = get(strict, BASE + "/Users", params={"filter": 'userName eq "Ryan.Russell"', "attributes": "userName"})
    assert ok.json()["Resources"] == [{"id": "Ryan.Russell", "userName": "Ryan.Russell",
                                       "schemas": ok.json()["Resources"][0]["schemas"]}]


def test_head_has_the_headers_and_no_body(strict: Server) -> None:
    answer = raw(strict, b"HEAD /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: " in head
    assert body == b""


def test_pipelined_requests_are_answered_in_order(strict: Server) -> None:
    answer = raw(strict, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                         b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and answer.count(b"HTTP/1.1 404") == 1


def test_idle_keep_alive_connection_is_closed(strict: Server) -> None:
    with socket.create_connection(("127.0.0.1", strict.port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = s.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        time.sleep(1.2)
        assert s.recv(4096) == b""


def test_connections_over_the_maximum_are_refused(strict: Server) -> None:
    held = [socket.create_connection(("127.0.0.1", strict.port), timeout=5) for _ in range(6)]
    try:
        time.sleep(0.1)
        answer = raw(strict, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503")
    finally:
        for s in held:
            s.close()
    time.sleep(0.2)
    assert get(strict, "/healthz").status_code == 200


def test_metrics_and_access_log(tmp_path: Path) -> None:
    log = tmp_path / "access.jsonl"
    server = Server([DEMO], "--access-log", str(log), log_dir=tmp_path).start()
    try:
        body = (EXAMPLES / "request.json").read_text()
        for _ in range(3):
            assert post(server, CHECK, body).status_code == 200
        assert post(server, CHECK, "{}").status_code == 400
        text = get(server, "/metrics").text
        assert get(server, "/metrics").headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert 'preflight_http_requests_total{endpoint="check",status="200"} 3' in text
        assert 'preflight_http_requests_total{endpoint="check",status="400"} 1' in text
        assert 'preflight_http_request_duration_seconds_count{endpoint="check"} 4' in text
        assert "preflight_snapshot_generation 1" in text
        assert "preflight_snapshot_identities " in text and "preflight_snapshot_load_seconds " in text
        assert "preflight_snapshot_reload_failures_total 0" in text
        assert f'preflight_snapshot_info{{hash="{server.info["hash"]}"}} 1' in text
    finally:
        assert server.stop() == 0
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    checks = [e for e in entries if e["endpoint"] == "check"]
    assert [e["status"] for e in checks] == [200, 200, 200, 400]
    assert all(e["method"] == "POST" and e["path"] == CHECK and e["generation"] == 1 for e in checks)
    assert all(e["seconds"] >= 0 and int(e["bytes"]) > 0 for e in checks)


def test_sigterm_drains_and_exits_zero(tmp_path: Path) -> None:
    server = Server([DEMO], log_dir=tmp_path).start()
    keep = requests.Session()
    assert keep.get(server.url + "/healthz", timeout=5).status_code == 200  # an idle keep-alive connection
    server.signal(signal.SIGTERM)
    assert server.proc is not None
    assert server.proc.wait(timeout=15) == 0
    assert server.stop() == 0
    keep.close()
    assert [e["event"] for e in server.events()][-2:] == ["draining", "stopped"]


def test_a_request_in_flight_at_sigterm_is_answered(tmp_path: Path) -> None:
    server = Server([DEMO], log_dir=tmp_path).start()
    body = (EXAMPLES / "request.json").read_bytes()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"POST " + CHECK.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body[:20])
        time.sleep(0.2)
        server.signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(OSError):  # no new connection is accepted while draining
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        s.sendall(body[20:])
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert b"Connection: close" in answer and b"IT SOD-117" in answer
    assert server.proc is not None and server.proc.wait(timeout=15) == 0
    assert server.stop() == 0


# --- Reload


def _variant_b(src: Path, dst: Path) -> None:
    """The demo snapshot with the SOD policy renamed: the documented request then finds no violation."""
    shutil.copytree(src, dst)
    policies = dst / "policies.xml"
    policies.write_text(policies.read_text().replace('name="SOD Policy"', 'name="SOD Policy (retired)"'))


def test_reload_while_eight_clients_check(tmp_path: Path) -> None:
    live = tmp_path / "live"
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(DEMO, a)
    _variant_b(DEMO, b)
    shutil.copytree(a, live)
    request_file = EXAMPLES / "request.json"
    body = request_file.read_text()
    answers = {}
    for variant in (a, b):
        out = run_cli("check", "--snapshot", str(variant), "--request", str(request_file))
        assert out.returncode == 0
        answers[variant] = out.stdout.rstrip("\n")
    assert answers[a] != answers[b]

    server = Server([live], log_dir=tmp_path).start()
    try:
        by_hash: dict[str, str] = {server.info["hash"]: answers[a]}
        seen: list[tuple[int, str, str]] = []
        failures: list[str] = []
        stop = threading.Event()

        def client() -> None:
            with requests.Session() as session:
                run(session)

        def run(session: Any) -> None:
            while not stop.is_set():
                try:
                    r = session.post(server.url + CHECK, data=body, timeout=10)
                except requests.RequestException as e:  # a failed request fails the test
                    failures.append(repr(e))
                    return
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text}")
                    return
                fields = dict(p.strip().split("=", 1) for p in r.headers["X-Preflight-Snapshot"].split(";"))
                seen.append((int(fields["generation"]), fields["hash"], r.text))

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        try:
            for round_ in range(4):
                variant = b if round_ % 2 == 0 else a
                for f in variant.iterdir():
                    shutil.copy(f, live / f.name)
                before = len(server.events())
                server.signal(signal.SIGHUP)
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    new = [e for e in server.events()[before:] if e["event"] == "reload"]
                    if new:
                        by_hash[new[0]["hash"]] = answers[variant]
                        break
                    time.sleep(0.05)
                else:
                    raise AssertionError("no reload event: " + server.log_path.read_text())
                time.sleep(0.3)
            # A broken snapshot: the reload fails, the old snapshot keeps answering.
            (live / "policies.xml").write_text("<sailpoint><Policy name=")
            server.signal(signal.SIGHUP)
            deadline = time.monotonic() + 20
            while not any(e["event"] == "reload_failed" for e in server.events()):
                assert time.monotonic() < deadline, server.log_path.read_text()
                time.sleep(0.05)
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert failures == []
        assert len(seen) > 100
        generations = {g for g, _, _ in seen}
        assert generations >= {1, 5}, generations
        for generation, digest, text in seen:
            assert text == by_hash[digest], (generation, digest)
        metrics = get(server, "/metrics").text
        assert "preflight_snapshot_reload_failures_total 1" in metrics
        assert "preflight_snapshot_reloads_total 4" in metrics
        assert "preflight_snapshot_generation 5" in metrics
    finally:
        code = server.stop()  # also when an assertion failed, so no server outlives the test
    assert code == 0


def test_watch_reloads_on_change(tmp_path: Path) -> None:
    live = tmp_path / "live"
    shutil.copytree(DEMO, live)
    server = Server([live], "--watch", "--watch-interval", "0.2", log_dir=tmp_path).start()
    try:
        body = (EXAMPLES / "request.json").read_text()
        assert post(server, CHECK, body).json().get("violations")
        policies = live / "policies.xml"
        policies.write_text(policies.read_text().replace('name="SOD Policy"', 'name="Renamed"'))
        deadline = time.monotonic() + 20
        while True:
            r = post(server, CHECK, body)
            if r.headers["X-Preflight-Snapshot"].startswith("generation=2"):
                break
            assert time.monotonic() < deadline, server.log_path.read_text()
            time.sleep(0.1)
        assert not r.json().get("violations")
        # A broken file fails one reload, which is not retried until the files change again.
        policies.write_text("<sailpoint><Policy name=")
        deadline = time.monotonic() + 20
        while not any(e["event"] == "reload_failed" for e in server.events()):
            assert time.monotonic() < deadline, server.log_path.read_text()
            time.sleep(0.1)
        time.sleep(1.0)
        assert [e["event"] for e in server.events()].count("reload_failed") == 1
        assert post(server, CHECK, body).headers["X-Preflight-Snapshot"].startswith("generation=2")
    finally:
        assert server.stop() == 0


# --- TLS


def test_tls(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    server = Server([DEMO], "--tls-cert", str(cert), "--tls-key", str(key), log_dir=tmp_path, tls=True)
    server.start(wait_ready=False)
    try:
        assert server.info["url"].startswith("https://")
        server.wait_ready(verify=str(cert))
        body = (EXAMPLES / "request.json").read_text()
        with requests.Session() as session:
            for _ in range(3):  # over one kept-alive TLS connection
                r = session.post(server.url + CHECK, data=body, verify=str(cert), timeout=10)
                assert r.status_code == 200
                assert r.json()["violations"][0]["constraintName"] == "IT SOD-117"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url + "/healthz", timeout=5)  # not trusted without the certificate
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5)  # plain HTTP is not spoken
        ctx = ssl.create_default_context(cafile=str(cert))
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
    finally:
        assert server.stop() == 0


# --- load progress


def test_load_progress_events_at_start_and_on_reload(tmp_path: Path) -> None:
    # Every progress callback logs an event at this interval (1 ms rounds to every call).
    server = Server([DEMO], "--progress-interval", "0.0001", log_dir=tmp_path).start()
    try:
        total = sum(f.stat().st_size for f in DEMO.iterdir() if f.is_file())
        files = len([f for f in DEMO.iterdir() if f.is_file()])
        start = [e for e in server.events() if e["event"] == "load_progress"]
        reads = [e for e in start if e["stage"] == "read"]
        assert [e["files"] for e in reads] == list(range(1, files + 1))
        assert all(e["filesTotal"] == files and e["bytesTotal"] == total and e["reload"] is False for e in start)
        assert reads[-1]["bytes"] == total
        assert start[: len(reads)] == reads  # the files first, then the passes
        passes = start[len(reads):]
        assert passes and all(e["stage"] != "read" and e["identities"] == 2 for e in passes)
        assert [e["seconds"] for e in start] == sorted(e["seconds"] for e in start)
        # The start's events come before the server listens.
        events = [e["event"] for e in server.events()]
        assert events.index("listening") > max(i for i, e in enumerate(events) if e == "load_progress")
        server.signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while not any(e["event"] == "reload" for e in server.events()):
            assert time.monotonic() < deadline, server.log_path.read_text()
            time.sleep(0.05)
        again = [e for e in server.events() if e["event"] == "load_progress" and e["reload"]]
        assert [(e["stage"], e["files"]) for e in again] == [(e["stage"], e["files"]) for e in start]
    finally:
        assert server.stop() == 0


def test_a_short_load_logs_no_progress_by_default(tmp_path: Path) -> None:
    server = Server([DEMO], log_dir=tmp_path).start()
    try:
        assert not [e for e in server.events() if e["event"] == "load_progress"]
    finally:
        assert server.stop() == 0


def test_progress_interval_must_be_positive(tmp_path: Path) -> None:
    r = run_cli("serve", "--snapshot", str(DEMO), "--listen", "127.0.0.1:0", "--progress-interval", "0")
    assert r.returncode == 2
    assert r.stderr == "preflight: --progress-interval must be a positive number of seconds\n"
