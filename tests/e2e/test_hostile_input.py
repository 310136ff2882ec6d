"""Hostile input through the gateway, on the real stack: every request answered with a clear 4xx,
promptly (a generous bound per request: the in-process tests prove linear time)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from tests.e2e.clients import admin_login
from tests.e2e.stack import SUPERUSER, Stack

NOT_TEXT = "Must be text without NUL characters or unpaired surrogates."
# Generous: the gateway, a busy 2-core machine; the document took 1.18 s before.
PROMPT = 0.5


def timed(send: Callable[[], httpx.Response]) -> httpx.Response:
    started = time.perf_counter()
    response = send()
    elapsed = time.perf_counter() - started
    assert elapsed < PROMPT, f"{elapsed:.2f} s"
    return response


def exploding(levels: int) -> str:
    fragments = " ".join(
        f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels)
    )
    return f"query {{ ...F0 }} {fragments} fragment F{levels} on Query {{ __typename }}"


@pytest.mark.parametrize("levels", [18, 30, 190])
def test_a_fragment_explosion_is_refused_promptly(stack: Stack, levels):
    with stack.client() as client:
        client.post("/graphql", json={"query": "{ __typename }"})  # a warm connection
        response = timed(lambda: client.post("/graphql", json={"query": exploding(levels)}))
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "once its fragments are expanded" in error["message"]


def test_float_variables_do_not_skip_the_page_limits(stack: Stack):
    query = (
        "query($n: Int!) { categories { posts(first: $n) { title comments(first: $n) { body } } } }"
    )
    with stack.client() as client:
        response = timed(
            lambda: client.post("/graphql", json={"query": query, "variables": {"n": 100000.0}})
        )
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/posts?q=%00", 422),
        ("/api/v1/posts?q=%ff", 422),
        ("/api/v1/tags/%ff", 422),
        ("/api/v1/posts/a%00b", 400),  # nginx refuses a NUL in a path itself
    ],
)
def test_rest_answers_text_that_cannot_be_stored_with_a_4xx(stack: Stack, path, status):
    with stack.client() as client:
        response = timed(lambda: client.get(path))
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["errors"][0]["message"] == NOT_TEXT


def test_a_nul_in_a_username_is_a_422(stack: Stack):
    with stack.client() as client:
        response = timed(
            lambda: client.post(
                "/api/v1/auth/token", json={"username": "admin\x00", "password": "x"}
            )
        )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "username", "message": NOT_TEXT}]


def test_graphql_answers_a_nul_in_a_variable_with_bad_user_input(stack: Stack):
    with stack.client() as client:
        response = timed(
            lambda: client.post(
                "/graphql",
                json={
                    "query": "query($s: String!) { post(slug: $s) { id } }",
                    "variables": {"s": "a\x00b"},
                },
            )
        )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_admin_answers_a_nul_in_a_search_with_a_400(stack: Stack):
    with stack.client() as client:
        admin_login(client, SUPERUSER, stack.superuser_password)
        response = timed(lambda: client.get("/admin/blog/post/?q=%00"))
    assert response.status_code == 400
    assert NOT_TEXT in response.text
