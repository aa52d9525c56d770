"""`preflight serve` against the CLI on the same snapshot: every endpoint, authentication and Bulk.

Each test talks to a real server process on 127.0.0.1 (an ephemeral port the server prints on
stdout) with `requests`; the operational behaviour (budgets, reload, TLS, metrics, drain) is in
test_serve_ops.py, which reuses the harness below.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import test_cli

requests = pytest.importorskip("requests")

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DEMO = EXAMPLES / "demo-snapshot"
BASE = "/identityiq/scim/v2"
SCIM_JSON = "application/scim+json"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"


def cli() -> str:
    """The preflight binary under test (test_cli.py says how it is found)."""
    return test_cli._cli()


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([cli(), *args], input=stdin, capture_output=True, text=True, timeout=120)


class Server:
    """One `preflight serve` process on 127.0.0.1, port chosen by the kernel."""

    def __init__(self, snapshots: list[Path], *args: str, log_dir: Path, tls: bool = False) -> None:
        self.snapshots = snapshots
        self.args = list(args)
        self.log_path = log_dir / f"serve-{os.getpid()}-{time.monotonic_ns()}.log"
        self.scheme = "https" if tls else "http"
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.info: dict[str, Any] = {}

    def start(self, wait_ready: bool = True) -> "Server":
        command = [cli(), "serve", "--listen", "127.0.0.1:0", "--threads", "2"]
        for s in self.snapshots:
            command += ["--snapshot", str(s)]
        command += self.args
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            self.log.close()
            self.proc.stdout.close()
            raise AssertionError(f"serve exited {self.proc.returncode}: {self.log_path.read_text()}")
        self.info = json.loads(line)
        assert self.info["event"] == "listening"
        self.port = self.info["port"]
        if wait_ready:
            try:
                self.wait_ready()
            except BaseException:
                self.stop()
                raise
        return self

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def wait_ready(self, **kwargs: Any) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/readyz", timeout=2, **kwargs).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise AssertionError("the server never became ready: " + self.log_path.read_text())

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text().splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out


def post(server: Server, path: str, body: Any, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return requests.post(server.url + path, data=data, headers={"Content-Type": SCIM_JSON, **(headers or {})},
                         timeout=30, **kwargs)


def get(server: Server, path: str, **kwargs: Any) -> Any:
    return requests.get(server.url + path, timeout=30, **kwargs)


def scim_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(SCIM_JSON)
    body = response.json()
    assert body["schemas"] == [ERROR_URN]
    assert body["status"] == str(status)
    return body


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small snapshot made by the benchmark's workload generator, with its requests."""
    out = tmp_path_factory.mktemp("gen") / "w"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "gen_workload.py"), "--out", str(out),
                    "--identities", "300", "--constraints", "40", "--requests", "40", "--allow-small",
                    "--jobs", "1"], check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server([DEMO], "--access-log", "-", log_dir=tmp_path_factory.mktemp("logs")).start()
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def gen_server(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server([generated / "xml"], log_dir=tmp_path_factory.mktemp("logs")).start()
    yield server
    assert server.stop() == 0


# --- CheckedPolicyViolations


def test_check_is_byte_identical_to_the_cli(demo: Server) -> None:
    body = (EXAMPLES / "request.json").read_text()
    expected = run_cli("check", "--snapshot", str(DEMO), "--request", str(EXAMPLES / "request.json"))
    assert expected.returncode == 0, expected.stderr
    for base in ("/identityiq/scim/v2", "/scim/v2"):
        response = post(demo, base + "/CheckedPolicyViolations", body)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == SCIM_JSON
        assert response.text == expected.stdout.rstrip("\n")
    assert json.loads(expected.stdout) == json.loads((EXAMPLES / "expected-response.json").read_text())


def test_generated_requests_answer_as_the_cli_does(gen_server: Server, generated: Path, tmp_path: Path) -> None:
    lines = (generated / "requests.jsonl").read_text().splitlines()[:12]
    for i, line in enumerate(lines):
        request_file = tmp_path / f"r{i}.json"
        request_file.write_text(line)
        expected = run_cli("check", "--snapshot", str(generated / "xml"), "--request", str(request_file))
        assert expected.returncode == 0, expected.stderr
        response = post(gen_server, BASE + "/CheckedPolicyViolations", line)
        assert response.status_code == 200
        assert response.text == expected.stdout.rstrip("\n")


def test_check_errors_are_the_cli_errors(demo: Server, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    for body in ['{"identity": "Ryan.Russell"}', "{not json", '{"plan": {"value": "{}", "type": "application/xml"}}']:
        bad.write_text(body)
        expected = run_cli("check", "--snapshot", str(DEMO), "--request", str(bad))
        assert expected.returncode == 2
        response = post(demo, BASE + "/CheckedPolicyViolations", body)
        error = scim_error(response, 400)
        assert response.text == expected.stdout.rstrip("\n")
        assert error["scimType"] == "invalidValue" or error["scimType"] == "invalidSyntax"


def test_check_attributes_and_excluded_attributes(demo: Server) -> None:
    body = (EXAMPLES / "request.json").read_text()
    full = post(demo, BASE + "/CheckedPolicyViolations", body).json()
    only = post(demo, BASE + "/CheckedPolicyViolations?attributes=violations", body).json()
    assert only == {"schemas": full["schemas"], "violations": full["violations"]}
    urn = "urn:ietf:params:scim:schemas:sailpoint:1.0:CheckedPolicyViolation:identity"
    two = post(demo, BASE + "/CheckedPolicyViolations?attributes=" + urn + ",policies", body).json()
    assert two == {"schemas": full["schemas"], "identity": full["identity"], "policies": full["policies"]}
    less = post(demo, BASE + "/CheckedPolicyViolations?excludedAttributes=plan,policies", body).json()
    assert less == {k: v for k, v in full.items() if k not in ("plan", "policies")}


def test_check_status_201_variant(tmp_path: Path) -> None:
    server = Server([DEMO], "--check-status", "201", log_dir=tmp_path).start()
    try:
        response = post(server, BASE + "/CheckedPolicyViolations", (EXAMPLES / "request.json").read_text())
        assert response.status_code == 201
        assert response.json()["violations"][0]["constraintName"] == "IT SOD-117"
    finally:
        assert server.stop() == 0


def test_custom_base_path(tmp_path: Path) -> None:
    server = Server([DEMO], "--base-path", "/iiq/scim/v2/", log_dir=tmp_path).start()
    try:
        body = (EXAMPLES / "request.json").read_text()
        assert post(server, "/iiq/scim/v2/CheckedPolicyViolations", body).status_code == 200
        scim_error(post(server, "/scim/v2/CheckedPolicyViolations", body), 404)
    finally:
        assert server.stop() == 0


def test_base_path_at_the_root(tmp_path: Path) -> None:
    server = Server([DEMO], "--base-path", "/", log_dir=tmp_path).start()
    try:
        body = (EXAMPLES / "request.json").read_text()
        assert post(server, "/CheckedPolicyViolations", body).status_code == 200
        assert get(server, "/Users").json()["totalResults"] == 2
        assert get(server, "/healthz").status_code == 200
    finally:
        assert server.stop() == 0


def test_every_response_names_its_snapshot(demo: Server) -> None:
    for response in (get(demo, "/healthz"), get(demo, BASE + "/Users"),
                     post(demo, BASE + "/CheckedPolicyViolations", "{}")):
        header = response.headers["X-Preflight-Snapshot"]
        fields = dict(part.strip().split("=", 1) for part in header.split(";"))
        assert fields["generation"] == "1"
        assert fields["hash"] == demo.info["hash"] and len(fields["hash"]) >= 16


# --- Queries


@pytest.mark.parametrize("resource", ["Users", "Accounts", "Entitlements", "Roles", "Applications"])
def test_list_is_the_cli_query(gen_server: Server, generated: Path, resource: str) -> None:
    expected = run_cli("query", "--snapshot", str(generated / "xml"), resource, "--count", "1000")
    assert expected.returncode == 0, expected.stderr
    response = get(gen_server, f"{BASE}/{resource}")
    assert response.status_code == 200
    assert response.text == expected.stdout.rstrip("\n")
    listing = response.json()
    assert listing["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]


def test_query_parameters_are_the_cli_options(gen_server: Server, generated: Path) -> None:
    expected = run_cli("query", "--snapshot", str(generated / "xml"), "Users", "--filter", 'userName sw "User.00001"',
                       "--attributes", "userName,active", "--sort-by", "userName", "--sort-order", "descending",
                       "--start-index", "2", "--count", "3")
    assert expected.returncode == 0, expected.stderr
    response = get(gen_server, BASE + "/Users", params={
        "filter": 'userName sw "User.00001"', "attributes": "userName,active", "sortBy": "userName",
        "sortOrder": "descending", "startIndex": "2", "count": "3"})
    assert response.status_code == 200
    assert response.text == expected.stdout.rstrip("\n")
    search = post(gen_server, BASE + "/Users/.search", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": 'userName sw "User.00001"',
        "attributes": ["userName", "active"], "sortBy": "userName", "sortOrder": "descending", "startIndex": 2,
        "count": 3})
    assert search.status_code == 200
    assert search.text == response.text


def test_resource_by_id(gen_server: Server) -> None:
    listing = get(gen_server, BASE + "/Users", params={"count": "2"}).json()
    for user in listing["Resources"]:
        one = get(gen_server, f"{BASE}/Users/{user['id']}")
        assert one.status_code == 200
        assert one.json() == user
    roles = get(gen_server, BASE + "/Roles", params={"count": "1", "attributes": "name"}).json()["Resources"]
    one = get(gen_server, f"{BASE}/Roles/{roles[0]['id']}", params={"attributes": "name"})
    assert one.json() == roles[0]
    scim_error(get(gen_server, BASE + "/Users/no-such-id"), 404)


def test_bad_filter_is_a_scim_error(gen_server: Server) -> None:
    error = scim_error(get(gen_server, BASE + "/Users", params={"filter": "userName eq"}), 400)
    assert error["scimType"] == "invalidFilter"
    error = scim_error(get(gen_server, BASE + "/Users", params={"count": "many"}), 400)
    scim_error(post(gen_server, BASE + "/Users/.search", "[1,2"), 400)


def test_discovery_documents(demo: Server) -> None:
    config = get(demo, BASE + "/ServiceProviderConfig").json()
    assert config["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert config["bulk"]["supported"] is True and config["filter"]["maxResults"] == 1000
    assert config["patch"]["supported"] is False
    types = get(demo, BASE + "/ResourceTypes").json()
    assert {t["endpoint"] for t in types["Resources"]} == {
        "/Users", "/Accounts", "/Entitlements", "/Roles", "/Applications", "/CheckedPolicyViolations"}
    assert get(demo, BASE + "/ResourceTypes/User").json()["schema"] == "urn:ietf:params:scim:schemas:core:2.0:User"
    schemas = get(demo, BASE + "/Schemas").json()
    ids = {s["id"] for s in schemas["Resources"]}
    assert "urn:ietf:params:scim:schemas:sailpoint:1.0:CheckedPolicyViolation" in ids
    assert schemas["totalResults"] == len(ids) == 8
    one = get(demo, BASE + "/Schemas/urn:ietf:params:scim:schemas:sailpoint:1.0:CheckedPolicyViolation").json()
    assert {a["name"] for a in one["attributes"]} >= {"identity", "plan", "policies", "violations"}
    scim_error(get(demo, BASE + "/Schemas/urn:nope"), 404)


def test_anything_else_is_501_naming_the_endpoint(demo: Server) -> None:
    for method, path in [("PUT", "/Users/x"), ("DELETE", "/Users/x"), ("POST", "/Users"), ("PATCH", "/Roles/r"),
                         ("GET", "/CheckedPolicyViolations"), ("POST", "/LaunchedWorkflows"), ("GET", "/Workflows")]:
        response = requests.request(method, demo.url + BASE + path, data="{}", timeout=10)
        error = scim_error(response, 501)
        assert f"{method} {BASE}{path}" in error["detail"]
    scim_error(get(demo, "/somewhere/else"), 404)


# --- Bulk


def test_bulk_answers_each_operation_as_the_cli(gen_server: Server, generated: Path, tmp_path: Path) -> None:
    lines = (generated / "requests.jsonl").read_text().splitlines()[:6]
    operations = [{"method": "POST", "path": "/CheckedPolicyViolations", "bulkId": f"b{i}", "data": json.loads(l)}
                  for i, l in enumerate(lines)]
    operations.append({"method": "POST", "path": "/CheckedPolicyViolations", "bulkId": "bad",
                       "data": {"identity": "User.000001"}})
    operations.append({"method": "DELETE", "path": "/Users/2819c223", "bulkId": "del"})
    response = post(gen_server, BASE + "/Bulk", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations})
    assert response.status_code == 200
    bulk = response.json()
    assert bulk["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]
    answers = bulk["Operations"]
    assert [a["bulkId"] for a in answers] == [o["bulkId"] for o in operations]
    for i, line in enumerate(lines):
        request_file = tmp_path / f"r{i}.json"
        request_file.write_text(line)
        expected = run_cli("check", "--snapshot", str(generated / "xml"), "--request", str(request_file))
        assert answers[i]["status"] == "200" and answers[i]["method"] == "POST"
        assert answers[i]["response"] == json.loads(expected.stdout)
    assert answers[-2]["status"] == "400" and answers[-2]["response"]["schemas"] == [ERROR_URN]
    assert answers[-1]["status"] == "501"


def test_bulk_fail_on_errors_and_limits(tmp_path: Path) -> None:
    server = Server([DEMO], "--bulk-max-operations", "3", log_dir=tmp_path).start()
    try:
        bad = {"method": "POST", "path": "/CheckedPolicyViolations", "data": {"identity": "x"}}
        good = {"method": "POST", "path": "/CheckedPolicyViolations",
                "data": json.loads((EXAMPLES / "request.json").read_text())}
        response = post(server, BASE + "/Bulk", {"failOnErrors": 1, "Operations": [good, bad, good]})
        assert [a["status"] for a in response.json()["Operations"]] == ["200", "400"]
        error = scim_error(post(server, BASE + "/Bulk", {"Operations": [good] * 4}), 413)
        assert error["scimType"] == "tooMany"
        scim_error(post(server, BASE + "/Bulk", {"schemas": []}), 400)
        scim_error(post(server, BASE + "/Bulk", "not json"), 400)
        assert server.info["url"].endswith("/identityiq/scim/v2")
        assert get(server, BASE + "/ServiceProviderConfig").json()["bulk"]["maxOperations"] == 3
    finally:
        assert server.stop() == 0


# --- Authentication


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    d = tmp_path_factory.mktemp("auth")
    added = run_cli("credentials", "add", "--user", "portal", "--file", str(d / "users"), stdin="s3cret pass\n")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["user"] == "portal"
    assert "s3cret" not in (d / "users").read_text() and "$argon2id$" in (d / "users").read_text()
    assert (d / "users").stat().st_mode & 0o077 == 0
    made = run_cli("credentials", "token", "--name", "ci", "--file", str(d / "tokens"))
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    assert token not in (d / "tokens").read_text()
    server = Server([DEMO], "--credentials", str(d / "users"), "--tokens", str(d / "tokens"), log_dir=d).start()
    yield server, token
    assert server.stop() == 0


def test_basic_and_bearer_are_accepted(secured: tuple[Server, str]) -> None:
    server, token = secured
    body = (EXAMPLES / "request.json").read_text()
    for _ in range(3):  # the second and later requests use the verified-password memo
        assert post(server, BASE + "/CheckedPolicyViolations", body, auth=("portal", "s3cret pass")).status_code == 200
    response = post(server, BASE + "/CheckedPolicyViolations", body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert get(server, BASE + "/Users", auth=("portal", "s3cret pass")).status_code == 200


def test_everything_else_is_refused_with_identityiqs_detail(secured: tuple[Server, str]) -> None:
    server, token = secured
    body = (EXAMPLES / "request.json").read_text()
    attempts = [
        post(server, BASE + "/CheckedPolicyViolations", body),
        post(server, BASE + "/CheckedPolicyViolations", body, auth=("portal", "wrong")),
        post(server, BASE + "/CheckedPolicyViolations", body, auth=("nobody", "s3cret pass")),
        get(server, BASE + "/Users", headers={"Authorization": f"Bearer {token}x"}),
        get(server, BASE + "/Users", headers={"Authorization": "Basic !!!"}),
        get(server, "/metrics"),
    ]
    for response in attempts:
        error = scim_error(response, 401)
        assert error["detail"] == "User does not have access."
        assert "scimType" not in error
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert get(server, "/healthz").status_code == 200
    assert get(server, "/readyz").status_code == 200
    config = get(server, BASE + "/ServiceProviderConfig", auth=("portal", "s3cret pass")).json()
    assert {s["type"] for s in config["authenticationSchemes"]} == {"httpbasic", "oauthbearertoken"}


def test_refuses_a_public_address_without_credentials() -> None:
    proc = subprocess.run([cli(), "serve", "--snapshot", str(DEMO), "--listen", "0.0.0.0:0"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "without authentication" in proc.stderr


def test_credentials_never_take_the_password_from_argv(tmp_path: Path) -> None:
    proc = run_cli("credentials", "add", "--user", "a", "--password", "x", "--file", str(tmp_path / "u"))
    assert proc.returncode == 2
    proc = run_cli("credentials", "add", "--user", "a", "--file", str(tmp_path / "u"), stdin="")
    assert proc.returncode == 2 and "empty" in proc.stderr
