"""The gateway: routing, static files, request IDs, limits, its own errors, headers.

Rate-limit tests send from a container of their own on the stack's network (a client address
of their own), so the buckets of 127.0.0.1, which every other test uses, stay untouched.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import uuid
from typing import Any

import httpx

from tests.e2e.stack import Stack

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
HEALTH_PATHS = [
    f"/{prefix}/health/{kind}"
    for prefix in ("admin", "api", "graphql")
    for kind in ("live", "ready")
]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A problem document like the services' own, for the request that got it."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json", response.text[:300]
    problem = response.json()
    assert set(problem) == PROBLEM_FIELDS, problem
    assert problem["type"] == "about:blank"
    assert (problem["status"], problem["code"]) == (status, code), problem
    assert problem["request_id"] == response.headers["x-request-id"]
    return problem


# A client elsewhere on the network: sends REQUESTS (a JSON list of [method, path, headers, body])
# to the gateway, PARALLEL at a time, and prints [[status, headers, body], ...].
_CLIENT = """
import concurrent.futures, json, urllib.error, urllib.request
requests = json.loads(REQUESTS)
def send(request):
    method, path, headers, body = request
    data = None if body is None else body.encode()
    # The services accept the names the gateway is published under, not "gateway".
    req = urllib.request.Request("http://gateway:8080" + path, data=data, method=method,
                                 headers={"Host": "127.0.0.1", **headers})
    try:
        response = urllib.request.urlopen(req, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    return [response.status, dict(response.headers), response.read().decode()]
with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
    print(json.dumps(list(pool.map(send, requests))))
"""


def from_elsewhere(
    stack: Stack, requests: list[tuple[str, str, dict[str, str], str | None]], parallel: int = 1
) -> list[tuple[int, dict[str, str], str]]:
    code = f"REQUESTS = {json.dumps(json.dumps(requests))}\nPARALLEL = {parallel}\n{_CLIENT}"
    return [tuple(row) for row in json.loads(stack.run_python(code))]  # type: ignore[misc]


def header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def test_gateway_health_and_unknown_paths(stack: Stack):
    with stack.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        for path in ("/", "/nope", "/apix", "/graphqlx", "/static", "/static/admin/missing.css"):
            assert_problem(client.get(path), 404, "not_found")
        redirect = client.get("/admin")
        assert redirect.status_code == 301
        assert redirect.headers["location"] == "/admin/"


def test_health_paths_are_not_reachable_through_the_gateway(stack: Stack):
    with stack.client() as client:
        for path in HEALTH_PATHS:
            assert_problem(client.get(path), 404, "not_found")
            # However it is spelled: nginx matches the normalised path.
            assert client.get(path.replace("/health/", "//health/./")).status_code == 404
            assert client.get(path.replace("health", "%68ealth")).status_code == 404
    # The services still answer them, to whoever runs beside them (the container runtime).
    for service in ("admin", "rest", "graphql"):
        (container,) = stack.containers(service)
        status, body = stack.readiness(container)
        assert status == 200, (service, body)
        assert body["checks"]["database"] == body["checks"]["redis"] == "ok", (service, body)


def test_static_files_are_served_with_long_caching_for_hashed_names(stack: Stack):
    with stack.client() as client:
        login = client.get("/admin/login/").text
        css = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login)
        assert css, "the admin links hashed static files"
        response = client.get(css.group(1), headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert "immutable" in response.headers["cache-control"]
        assert response.headers.get("content-encoding") == "gzip"
        assert client.get("/static/admin/css/missing.css").status_code == 404


def test_request_ids_are_passed_through_to_the_services_logs(stack: Stack):
    request_id = f"e2e-{uuid.uuid4().hex}"
    with stack.client() as client:
        response = client.get("/api/v1/tags", headers={"X-Request-ID": request_id})
        assert response.headers["x-request-id"] == request_id
        generated = client.get("/api/v1/tags").headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated)
        refused = client.get("/api/v1/tags", headers={"X-Request-ID": "bad id with spaces"})
        assert refused.headers["x-request-id"] != "bad id with spaces"
    assert request_id in stack.logs("rest")


def raw_request(stack: Stack, request_line: bytes) -> httpx.Response:
    """Send a request line no HTTP client would write, and parse what comes back."""
    host, port = stack.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request_line + b"\r\nHost: gateway\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(line.split(": ", 1)) for line in header_lines]
    return httpx.Response(int(status_line.split()[1]), headers=headers, content=body)


def test_requests_refused_before_there_is_a_uri_are_problems(stack: Stack):
    """nginx refuses these while it reads the request line; their error pages must not need the
    URI it never got (a named location does: that was a 500 with nginx's HTML page)."""
    with stack.client() as client:
        assert_problem(client.get("/api/v1/posts/a%00b"), 400, "bad_request")
        assert_problem(client.get("/graphql%00"), 400, "bad_request")
        assert_problem(client.get("/api/v1/posts", params={"q": "x" * 20_000}), 414, "uri_too_long")
    assert_problem(raw_request(stack, b"GET /a b c HTTP/1.1"), 400, "bad_request")
    assert_problem(raw_request(stack, b"GET /%00 HTTP/1.1"), 400, "bad_request")
    assert "empty URI" not in stack.logs("gateway")


def test_oversized_bodies_are_refused_at_the_gateway(stack: Stack):
    with stack.client() as client:
        response = client.post(
            "/api/v1/posts",
            content=b"x" * (2 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
        )
    assert_problem(response, 413, "payload_too_large")


def test_methods_the_gateway_refuses_itself_are_problems_with_allow(stack: Stack):
    with stack.client() as client:
        for method, path in (("POST", "/healthz"), ("DELETE", "/static/admin/css/base.css")):
            response = client.request(method, path)
            assert_problem(response, 405, "method_not_allowed")
            assert response.headers["allow"] == "GET, HEAD"
        traced = client.request("TRACE", "/api/v1/posts")
        assert_problem(traced, 405, "method_not_allowed")
        assert "GET" in traced.headers["allow"]


def test_a_service_that_is_down_or_stalled_is_a_problem_not_an_html_page(stack: Stack):
    (graphql,) = stack.containers("graphql")
    timeout = float(stack.settings["GATEWAY_READ_TIMEOUT"])
    query = {"query": "{ __typename }"}
    with stack.client(timeout=timeout + 20) as client:
        # Stalled: it accepts the connection and never answers.
        subprocess.run(["docker", "pause", graphql], check=True, timeout=60)
        try:
            started = time.monotonic()
            stalled = client.post("/graphql", json=query)
            waited = time.monotonic() - started
        finally:
            subprocess.run(["docker", "unpause", graphql], check=True, timeout=60)
        assert_problem(stalled, 504, "gateway_timeout")
        assert timeout - 1 < waited < timeout + 5

        # Down: no replica at all (until DNS forgets the stopped one, its address does not
        # answer a connection: a timeout, 504).
        stack.compose_command("stop", "graphql")
        try:
            deadline = time.monotonic() + 10
            while (down := client.post("/graphql", json=query)).status_code != 502:
                assert_problem(down, 504, "gateway_timeout")
                assert time.monotonic() < deadline, "DNS forgot the stopped replica"
            assert_problem(down, 502, "bad_gateway")
            assert_problem(client.get("/graphql", params=query), 502, "bad_gateway")
        finally:
            stack.compose_command("start", "graphql")
            stack.wait_ready("graphql")
        deadline = time.monotonic() + 10
        while client.post("/graphql", json=query).status_code != 200:
            assert time.monotonic() < deadline, "the gateway found the restarted replica"
            time.sleep(0.2)


def test_token_requests_are_rate_limited_at_the_gateway(stack: Stack):
    # Each attempt a different user, so only the gateway's limit can answer 429.
    attempts = [
        (
            "POST",
            "/api/v1/auth/token",
            {"Content-Type": "application/json"},
            json.dumps({"username": f"nobody-{n}", "password": "wrong"}),
        )
        for n in range(12)
    ]
    # All at once, so the bucket does not refill meanwhile: 1 + a burst of 5 get through (to a
    # 401 each), the others are refused.
    answers = from_elsewhere(stack, attempts, parallel=len(attempts))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [401] * 6 + [429] * 6, statuses
    for _, headers, body in [answer for answer in answers if answer[0] == 429]:
        assert header(headers, "content-type") == "application/problem+json"
        problem = json.loads(body)
        assert problem["code"] == "rate_limited"
        assert problem["request_id"] == header(headers, "x-request-id")
        assert header(headers, "retry-after") == "6"  # 10 a minute: one more every 6 s
    # Revoking a token is not a login attempt.
    [(status, _, _)] = from_elsewhere(
        stack, [("DELETE", "/api/v1/auth/token", {"Authorization": "Bearer nope"}, None)]
    )
    assert status == 401


_ADMIN_LOGINS = """
import concurrent.futures, http.cookiejar, json, re, urllib.error, urllib.parse, urllib.request
opener = urllib.request.build_opener(
    urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
def call(method, data=None):
    req = urllib.request.Request("http://gateway:8080/admin/login/", method=method,
                                 data=data and urllib.parse.urlencode(data).encode(),
                                 headers={"Host": "127.0.0.1"})
    try:
        response = opener.open(req, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    return response.status, response.headers.get("Content-Type"), response.read().decode()
_, _, page = call("GET")
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
# All at once, so the bucket does not refill meanwhile.
with concurrent.futures.ThreadPoolExecutor(9) as pool:
    answers = list(pool.map(lambda n: call("POST", {"username": f"nobody-{n}", "password": "x",
                                                     "csrfmiddlewaretoken": token}), range(9)))
answers.append(call("GET"))
print(json.dumps([[status, kind, "Please enter the correct" in body]
                  for status, kind, body in answers]))
"""


def test_admin_logins_are_rate_limited_at_the_gateway_but_the_form_is_not(stack: Stack):
    answers = json.loads(stack.run_python(_ADMIN_LOGINS))
    posts, form = answers[:-1], answers[-1]
    # Six wrong passwords get the form back with its error; the gateway refuses the others.
    assert sorted(status for status, _, _ in posts) == [200] * 6 + [429] * 3, answers
    assert all(wrong for status, _, wrong in posts if status == 200)
    assert {kind for status, kind, _ in posts if status == 429} == {"application/problem+json"}
    assert form[0] == 200  # fetching the form is never limited


def test_graphql_posts_are_rate_limited_per_address_but_gets_are_not(stack: Stack):
    body = json.dumps({"query": "{ __typename }"})
    posts = [("POST", "/graphql", {"Content-Type": "application/json"}, body)] * 150
    answers = from_elsewhere(stack, posts, parallel=16)
    statuses = [status for status, _, _ in answers]
    # 30 a second with bursts of 60: 150 at once cannot all pass, and at least the burst does.
    assert set(statuses) == {200, 429}, statuses
    assert 60 <= statuses.count(200) < 150
    refused = [(headers, body) for status, headers, body in answers if status == 429]
    for headers, text in refused:
        assert header(headers, "retry-after") == "1"
        assert json.loads(text)["code"] == "rate_limited"
    gets = [("GET", "/graphql?query=%7B__typename%7D", {}, None)] * 150
    assert {status for status, _, _ in from_elsewhere(stack, gets, parallel=16)} == {200}


_HELD_REQUESTS = """
import json, select, socket, time, urllib.error, urllib.request
def get():
    request = urllib.request.Request("http://gateway:8080/api/v1/tags",
                                     headers={"Host": "127.0.0.1"})
    try:
        response = urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        response = error
    return response.status, dict(response.headers), response.read().decode()
held = []
for _ in range(100):
    sock = socket.create_connection(("gateway", 8080), timeout=10)
    sock.sendall(b"POST /api/v1/posts HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n"
                 b"Content-Type: application/json\\r\\nContent-Length: 1000\\r\\n\\r\\n")
    held.append(sock)
deadline = time.monotonic() + 10
while (answer := get())[0] != 429 and time.monotonic() < deadline:
    time.sleep(0.1)
answered = [s for s in held if select.select([s], [], [], 0)[0]]
for sock in held:
    sock.close()
deadline = time.monotonic() + 10
while (after := get())[0] != 200 and time.monotonic() < deadline:
    time.sleep(0.1)
print(json.dumps({"limited": answer, "answered_early": len(answered), "after": after[0]}))
"""


def test_concurrent_requests_per_address_are_limited(stack: Stack):
    """From one address, 100 requests in progress (each has sent its headers and not its body,
    so nginx holds it until the body times out): the next request is refused, and once they are
    gone requests pass again."""
    result = json.loads(stack.run_python(_HELD_REQUESTS))
    assert result["answered_early"] == 0, result
    status, headers, body = result["limited"]
    assert status == 429, result
    problem = json.loads(body)
    assert problem["code"] == "rate_limited"
    assert "in progress" in problem["detail"]
    assert header(headers, "retry-after") == "1"
    assert result["after"] == 200, result


def test_the_rest_schema_declares_the_gateways_429_everywhere(stack: Stack):
    with stack.client() as client:
        schema = client.get("/api/openapi.json").json()
    assert not [path for path in schema["paths"] if "/health/" in path], "unreachable paths"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            response = operation["responses"].get("429")
            assert response, (method, path)
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
            assert "Retry-After" in response["headers"], (method, path)


def closed_connections(stack: Stack, service: str) -> int:
    """Connections between the gateway and the service's port 8000 that were closed within the
    last minute: whichever side closes a TCP connection keeps it in TIME_WAIT that long."""
    count = 0
    for container, port_column in (
        (stack.containers("gateway")[0], 2),
        (stack.containers(service)[0], 1),
    ):
        tables = subprocess.run(
            ["docker", "exec", container, "cat", "/proc/net/tcp", "/proc/net/tcp6"],
            capture_output=True, text=True, timeout=30, check=False,
        ).stdout  # fmt: skip
        rows = [line.split() for line in tables.splitlines() if ":" in line]
        count += sum(1 for row in rows if row[port_column].endswith(":1F40") and row[3] == "06")
    return count


def test_the_gateway_keeps_connections_to_the_services_alive(stack: Stack):
    """Requests reuse idle upstream connections rather than opening and closing one each."""
    before = {service: closed_connections(stack, service) for service in ("rest", "graphql")}
    with stack.client() as client:
        for _ in range(20):
            assert client.get("/api/v1/tags").status_code == 200
            assert client.get("/graphql", params={"query": "{ __typename }"}).status_code == 200
    for service, count in before.items():
        assert closed_connections(stack, service) - count <= 2, service
