"""`preflight serve --upstream BASE [--gate]` (issue 20): what Preflight does not answer is
forwarded verbatim to IdentityIQ, here a small recording HTTP server in the test; with --gate
a LaunchedWorkflows POST whose plan would create a violation is refused and never arrives."""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from test_serve import BASE, DEMO, EXAMPLES, Server, requests, run_cli, scim_error

LW = "urn:ietf:params:scim:schemas:sailpoint:1.0:LaunchedWorkflow"
GATE = "urn:ietf:params:scim:schemas:extension:preflight:1.0:Gate"


class Recorder:
    """Stands in for IdentityIQ: records every request as it arrived, answers 201 with a TaskResult."""

    def __init__(self, delay: float = 0.0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.delay = delay
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.requests.append({"method": self.command, "target": self.path, "body": body,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                if recorder.delay:
                    time.sleep(recorder.delay)
                answer = json.dumps({"schemas": ["urn:ietf:params:scim:schemas:sailpoint:1.0:TaskResult"],
                                     "id": "task-1", "echo": self.command}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/scim+json;charset=UTF-8")
                self.send_header("Location", "https://iiq.example/identityiq/scim/v2/TaskResults/task-1")
                self.send_header("ETag", 'W/"7"')
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                try:
                    self.wfile.write(answer)
                except BrokenPipeError:  # the slow test's client (Preflight) gave up: that is the point
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    r = Recorder()
    yield r
    r.close()


@pytest.fixture(scope="module")
def gated(recorder: Recorder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server([DEMO], "--upstream", recorder.url, "--gate", log_dir=tmp_path_factory.mktemp("up")).start()
    yield server
    server.stop()


def launch_body(identity: str, plan_file: Path) -> str:
    done = run_cli("plan", "workflow", "--identity", identity, str(plan_file))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def send(server: Server, method: str, target: str, body: bytes = b"", **headers: str) -> Any:
    return requests.request(method, server.url + target, data=body, headers=headers, timeout=30)


def test_forwarded_request_arrives_byte_identical(gated: Server, recorder: Recorder) -> None:
    recorder.requests.clear()
    body = b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x\\u00e9","active":true}'
    target = BASE + "/Users/2c9084ee5a8de328015a8de370100082?attributes=userName%2Cactive&x=a+b"
    r = send(gated, "PUT", target, body, Authorization="Basic c3BhZG1pbjphZG1pbg==",
             **{"Content-Type": "application/scim+json; charset=utf-8", "If-Match": 'W/"6"',
                "Accept": "application/scim+json", "X-Request-Id": "req-42", "TE": "trailers"})
    assert r.status_code == 201 and r.json()["id"] == "task-1"
    assert r.headers["Location"].endswith("/TaskResults/task-1") and r.headers["ETag"] == 'W/"7"'
    assert r.headers["Content-Type"] == "application/scim+json;charset=UTF-8"
    [got] = recorder.requests
    assert got["method"] == "PUT" and got["target"] == target and got["body"] == body
    assert got["headers"]["authorization"] == "Basic c3BhZG1pbjphZG1pbg=="
    assert got["headers"]["content-type"] == "application/scim+json; charset=utf-8"
    # Every end-to-end header arrives as sent; hop-by-hop ones (TE) are the connection's, not forwarded.
    assert got["headers"]["if-match"] == 'W/"6"' and got["headers"]["x-request-id"] == "req-42"
    assert got["headers"]["accept"] == "application/scim+json"
    assert "te" not in got["headers"]


def test_reads_preflight_answers_stay_local(gated: Server, recorder: Recorder) -> None:
    recorder.requests.clear()
    assert requests.get(gated.url + BASE + "/Users?count=1", timeout=30).status_code == 200
    assert recorder.requests == []
    for method, path in [("GET", "/TaskResults/task-1"), ("DELETE", "/Users/abc"), ("GET", "/PolicyViolations"),
                         ("PATCH", "/Roles/r1")]:
        r = send(gated, method, BASE + path, b'{"Operations":[]}' if method == "PATCH" else b"")
        assert r.status_code == 201, (method, path, r.text)
        assert recorder.requests[-1]["method"] == method and recorder.requests[-1]["target"] == BASE + path


def test_gate_refuses_a_violating_launch(gated: Server, recorder: Recorder) -> None:
    recorder.requests.clear()
    body = launch_body("Ryan.Russell", EXAMPLES / "plan.xml")
    for target in [BASE + "/LaunchedWorkflows", "/scim/v2/LaunchedWorkflow%73", BASE + "/launchedworkflows"]:
        r = send(gated, "POST", target, body.encode(), **{"Content-Type": "application/scim+json"})
        assert r.status_code == 403, r.text
        error = r.json()
        assert error["status"] == "403" and "SOD Policy / IT SOD-117" in error["detail"]
        ext = error[GATE]
        assert ext["identity"] == "Ryan.Russell" and ext["workflowName"] == "LCM Provisioning"
        assert ext["violations"] == [{"policyName": "SOD Policy", "constraintName": "IT SOD-117"}]
        assert ext["checkedPolicyViolation"]["violations"][0]["constraintName"] == "IT SOD-117"
    assert recorder.requests == []  # IdentityIQ never saw it


def test_gate_passes_a_clean_launch_verbatim(gated: Server, recorder: Recorder, tmp_path: Path) -> None:
    recorder.requests.clear()
    clean = tmp_path / "clean.xml"
    clean.write_text('<ProvisioningPlan><AccountRequest application="Active_Directory" op="Modify">'
                     '<AttributeRequest name="description" op="Set" value="hello"/></AccountRequest>'
                     '</ProvisioningPlan>')
    body = launch_body("Ryan.Russell", clean).encode()
    r = send(gated, "POST", BASE + "/LaunchedWorkflows", body, **{"Content-Type": "application/scim+json"})
    assert r.status_code == 201, r.text
    [got] = recorder.requests
    assert got["body"] == body and got["target"] == BASE + "/LaunchedWorkflows"
    # A workflow launched without a plan is not the gate's business.
    other = json.dumps({"schemas": [LW], LW: {"workflowName": "Refresh", "input": [{"key": "x", "value": "y"}]}})
    r = send(gated, "POST", BASE + "/LaunchedWorkflows", other.encode(), **{"Content-Type": "application/scim+json"})
    assert r.status_code == 201 and recorder.requests[-1]["body"] == other.encode()


def test_gate_fails_closed(gated: Server, recorder: Recorder) -> None:
    recorder.requests.clear()
    unknown = launch_body("Nobody.Here", EXAMPLES / "plan.xml")
    no_identity = json.dumps({LW: {"workflowName": "LCM Provisioning",
                                   "input": [{"key": "plan", "value": "<ProvisioningPlan/>"}]}})
    violating = launch_body("Ryan.Russell", EXAMPLES / "plan.xml")
    clean = json.dumps({LW: {"workflowName": "LCM Provisioning", "input": [
        {"key": "identityName", "value": "Ryan.Russell"}, {"key": "plan", "value": "<ProvisioningPlan/>"}]}})
    inner = json.loads(violating)[LW]
    # Readings that differ between parsers are refused: a repeated key (simdjson takes the first,
    # Java the last), input both at the top and under the URN, two identityName inputs.
    repeated = '{"schemas":["%s"],"%s":%s,"%s":%s}' % (LW, LW, json.dumps(json.loads(clean)[LW]), LW,
                                                      json.dumps(inner))
    both = json.dumps({LW: json.loads(clean)[LW], "input": inner["input"]})
    two_names = json.dumps({LW: {"workflowName": "LCM Provisioning", "input": [
        {"key": "identityName", "value": "Nobody"}, *inner["input"]]}})
    for body in [unknown, no_identity, "{not json", '{"x":1'.replace("1", "[" * 500), repeated, both, two_names]:
        r = send(gated, "POST", BASE + "/LaunchedWorkflows", body.encode(), **{"Content-Type": "application/scim+json"})
        assert r.status_code in (400, 413), r.text
        scim_error(r, r.status_code)
    assert recorder.requests == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_and_slow_upstream(tmp_path: Path) -> None:
    down = Server([DEMO], "--upstream", f"http://127.0.0.1:{free_port()}", log_dir=tmp_path).start()
    try:
        r = send(down, "GET", BASE + "/TaskResults/1")
        assert scim_error(r, 502)["detail"].startswith("IdentityIQ could not be reached")
    finally:
        down.stop()
    slow_iiq = Recorder(delay=3.0)
    slow = Server([DEMO], "--upstream", slow_iiq.url, "--upstream-timeout", "0.5", log_dir=tmp_path).start()
    try:
        started = time.monotonic()
        r = send(slow, "GET", BASE + "/TaskResults/1")
        assert scim_error(r, 504) and time.monotonic() - started < 2.5
    finally:
        slow.stop()
        slow_iiq.close()


def test_gate_needs_upstream() -> None:
    done = run_cli("serve", "--snapshot", str(DEMO), "--gate")
    assert done.returncode == 2 and "--gate needs --upstream" in done.stderr


def test_https_upstream_is_verified(tmp_path: Path) -> None:
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    iiq = Recorder()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    iiq.server.socket = ctx.wrap_socket(iiq.server.socket, server_side=True)
    https = iiq.url.replace("http://", "https://")
    untrusted = Server([DEMO], "--upstream", https, log_dir=tmp_path).start()
    trusted = Server([DEMO], "--upstream", https, "--upstream-ca-file", str(cert), log_dir=tmp_path).start()
    try:
        r = send(untrusted, "GET", BASE + "/TaskResults/1")
        assert scim_error(r, 502) and iiq.requests == []
        r = send(trusted, "GET", BASE + "/TaskResults/1")
        assert r.status_code == 201 and iiq.requests[-1]["target"] == BASE + "/TaskResults/1"
    finally:
        untrusted.stop()
        trusted.stop()
        iiq.close()
