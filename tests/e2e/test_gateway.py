"""The gateway: routing, static files, request IDs, limits, headers."""

from __future__ import annotations

import re
import uuid

from tests.e2e.stack import Stack


def test_gateway_health_and_unknown_paths(stack: Stack):
    with stack.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        for path in ("/", "/nope", "/apix", "/graphqlx", "/static"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/problem+json"
        redirect = client.get("/admin")
        assert redirect.status_code == 301
        assert redirect.headers["location"] == "/admin/"


def test_each_service_is_ready_through_its_prefix(stack: Stack):
    with stack.client() as client:
        for path in ("/admin/health/ready", "/api/health/ready", "/graphql/health/ready"):
            response = client.get(path)
            assert response.status_code == 200, path
            checks = response.json()["checks"]
            assert checks["database"] == checks["redis"] == "ok", (path, checks)


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
        response = client.get("/api/health/live", headers={"X-Request-ID": request_id})
        assert response.headers["x-request-id"] == request_id
        generated = client.get("/api/health/live").headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated)
        refused = client.get("/api/health/live", headers={"X-Request-ID": "bad id with spaces"})
        assert refused.headers["x-request-id"] != "bad id with spaces"
    assert request_id in stack.logs("rest")


def test_oversized_bodies_are_refused_at_the_gateway(stack: Stack):
    with stack.client() as client:
        response = client.post(
            "/api/v1/posts",
            content=b"x" * (2 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413


def test_token_requests_are_rate_limited_at_the_gateway(stack: Stack, token: str):
    # (`token` is obtained first, so that other tests need no token request after this one.)
    with stack.client() as client:
        statuses = [
            client.post("/api/v1/auth/token", json={"username": "x", "password": "y"}).status_code
            for _ in range(12)
        ]
    assert 429 in statuses
    assert 500 not in statuses
