"""One error shape for everything: unknown routes, wrong methods, bodies that are not JSON or are
too large, failures of PostgreSQL, and bugs. None of them is a bare 500 or leaks a traceback."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.db import OperationalError

from domain import db
from domain.blog.models import Post
from domain.db import run
from rest_api.routers import tags as tags_router
from tests.factories import make_post
from tests.rest.helpers import problem

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_unknown_route_is_a_404_problem(client):
    problem(await client.get("/api/v1/nothing"), 404, "not_found")
    problem(await client.get("/api/v1/posts/"), 404, "not_found")  # no slash redirects


async def test_a_wrong_method_is_a_405_problem_with_allow(client):
    response = await client.put("/api/v1/posts")
    body = problem(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}
    assert "GET" in body["detail"]


@pytest.mark.parametrize("body", [b"{", b'{"title": "x",}', b"\xff\xfe", b"nul"])
async def test_malformed_json_is_a_400_problem(client, user_auth, body):
    headers = {**user_auth, "Content-Type": "application/json"}
    response = await client.post("/api/v1/posts", content=body, headers=headers)
    problem(response, 400, "malformed_json")
    assert not await run(Post.objects.exists)


async def test_json_of_the_wrong_shape_is_a_422_problem(client, user_auth):
    response = await client.post("/api/v1/posts", json=["title"], headers=user_auth)
    problem(response, 422, "invalid")


async def test_a_body_that_is_not_json_is_a_415_problem(client, user_auth):
    headers = {**user_auth, "Content-Type": "text/plain"}
    response = await client.post("/api/v1/posts", content=b'{"title": "x"}', headers=headers)
    problem(response, 415, "unsupported_media_type")


async def test_an_oversized_body_is_refused_before_it_is_read(client, user_auth):
    huge = {"title": "x", "body": "x" * settings.API_MAX_BODY_BYTES}
    response = await client.post("/api/v1/posts", json=huge, headers=user_auth)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert not await run(Post.objects.exists)


async def test_an_oversized_streamed_body_is_a_413_problem(client, user_auth):
    async def chunks():
        yield b'{"title": "x", "body": "'
        for _ in range(settings.API_MAX_BODY_BYTES // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    headers = {**user_auth, "Content-Type": "application/json"}
    response = await client.post("/api/v1/posts", content=chunks(), headers=headers)
    assert "content-length" not in response.request.headers
    problem(response, 413, "payload_too_large")
    assert not await run(Post.objects.exists)


async def test_a_bug_is_a_generic_500_problem_logged_with_the_request_id(
    client, monkeypatch, caplog
):
    async def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(tags_router, "atag_list", broken)
    with caplog.at_level(logging.ERROR, logger="rest_api.problems"):
        response = await client.get("/api/v1/tags", headers={"X-Request-ID": "trace-me-1"})
    body = problem(response, 500, "internal_error")
    assert body["request_id"] == "trace-me-1"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    [record] = caplog.records
    assert record.request_id == "trace-me-1"
    assert record.exc_info


async def test_an_unreachable_database_is_a_503_problem(client, monkeypatch):
    def refused(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tags_router, "atag_list", db.to_async(refused))
    response = await client.get("/api/v1/tags")
    problem(response, 503, "unavailable")
    assert response.headers["retry-after"] == "5"


async def test_a_client_request_id_is_echoed(client, user):
    await run(make_post, user, "Hello")
    response = await client.get("/api/v1/posts/hello", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
