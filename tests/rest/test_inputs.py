"""Input bounds and text that cannot be stored: always a 422 problem naming the input, never a
500. The bounds are the domain's (domain/inputs.py), the same as GraphQL's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings

from domain import db, inputs
from tests.factories import make_post, make_user
from tests.rest.helpers import fields, problem

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/posts?q=%00", "q"),
        ("/api/v1/posts?q=a%00b&limit=5", "q"),
        ("/api/v1/posts?tag=%00", "tag"),
        ("/api/v1/posts?cursor=%00", "cursor"),
        ("/api/v1/posts/%00", "path"),
        ("/api/v1/posts/a%00b/comments", "path"),
        ("/api/v1/tags/%00", "path"),
        ("/api/v1/categories/x%00", "path"),
        # Percent-escapes that are not UTF-8: servers would pass U+FFFD on.
        ("/api/v1/posts/%ff", "path"),
        ("/api/v1/posts/%ED%A0%80", "path"),
        ("/api/v1/posts?q=%ff", "q"),
        ("/api/v1/posts?%ff=x", "query"),
    ],
)
async def test_urls_that_are_not_text_are_a_422_problem(client, url, field):
    response = await client.get(url)
    body = problem(response, 422, "invalid")
    assert body["errors"] == [{"field": field, "message": inputs.NOT_TEXT}]


async def test_text_is_still_text(client):
    assert (await client.get("/api/v1/posts?q=caf%C3%A9+cr%C3%A8me")).status_code == 200
    assert (await client.get("/api/v1/posts/caf%C3%A9")).status_code == 404


def raw_json(payload: dict[str, Any]) -> dict[str, Any]:
    """Request arguments for a JSON body as a client may send it (``json.dumps`` escapes a lone
    surrogate; httpx's own encoder would refuse it)."""
    return {"content": json.dumps(payload), "headers": {"Content-Type": "application/json"}}


@pytest.mark.parametrize(
    ("credentials", "field"),
    [
        ({"username": "admin\x00", "password": "x"}, "username"),
        ({"username": "\ud800", "password": "x"}, "username"),
        ({"username": "alice", "password": "pass\udfff"}, "password"),
        ({"username": "alice", "password": "x", "name": "laptop\x00"}, "name"),
    ],
)
async def test_token_requests_with_text_that_cannot_be_stored_are_a_422(
    client, user, credentials, field
):
    response = await client.post("/api/v1/auth/token", **raw_json(credentials))
    assert fields(response) == {field}


async def test_bodies_with_text_that_cannot_be_stored_are_a_422(client, user_auth):
    post = {"title": "Hello", "body": "a\x00b", "tags": ["fine", "bad\ud800"]}
    response = await client.post(
        "/api/v1/posts",
        content=json.dumps(post),
        headers={**user_auth, **raw_json(post)["headers"]},
    )
    assert fields(response) == {"body", "tags"}


@pytest.mark.parametrize(
    ("url", "field", "limit"),
    [
        ("/api/v1/posts?q={}", "q", settings.SEARCH_MAX_LENGTH),
        ("/api/v1/posts?category={}", "category", inputs.SLUG_MAX_LENGTH),
        ("/api/v1/posts?tag={}", "tag", inputs.SLUG_MAX_LENGTH),
        ("/api/v1/posts?author={}", "author", inputs.USERNAME_MAX_LENGTH),
        ("/api/v1/posts?cursor={}", "cursor", inputs.CURSOR_MAX_LENGTH),
        ("/api/v1/posts/{}", "slug", inputs.SLUG_MAX_LENGTH),
        ("/api/v1/posts/{}/comments", "slug", inputs.SLUG_MAX_LENGTH),
        ("/api/v1/categories/{}", "slug", inputs.SLUG_MAX_LENGTH),
        ("/api/v1/tags/{}", "slug", inputs.SLUG_MAX_LENGTH),
    ],
)
async def test_lengths_are_the_domains(client, url, field, limit):
    at_limit = await client.get(url.format("x" * limit))
    assert at_limit.status_code != 422 or field == "cursor"  # a made-up cursor is not one of ours
    response = await client.get(url.format("x" * (limit + 1)))
    body = problem(response, 422, "invalid")
    assert [error["field"] for error in body["errors"]] == [field]


async def test_slugs_in_bodies_are_bounded(client, user_auth):
    long = "x" * (inputs.SLUG_MAX_LENGTH + 1)
    response = await client.post(
        "/api/v1/posts", json={"title": "t", "slug": long, "category": long}, headers=user_auth
    )
    assert fields(response) == {"slug", "category"}


LETTERS = "\U0001f600\U0001f601\U0001f602"  # three faces, four bytes each in UTF-8


async def test_the_cursor_of_the_longest_titles_still_works(client):
    """A title ordering puts the title in the cursor: 198 characters of four bytes make a cursor
    of about 1.1 KB (the old bound, 500 characters, refused it)."""

    def posts() -> None:
        author = make_user()
        for n, letter in enumerate(LETTERS):
            make_post(author, f"{n} " + letter * 198)

    await db.run(posts)
    first = (await client.get("/api/v1/posts?ordering=title&limit=1")).json()
    assert len(first["next"]) > 1000
    second = await client.get(first["next"])
    assert second.status_code == 200, second.text
    assert second.json()["items"][0]["title"] == "1 " + LETTERS[1] * 198
