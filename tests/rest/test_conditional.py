"""Conditional GETs: reads carry a strong ETag of their body; If-None-Match with it gives 304.
Anonymous reads may be stored by shared caches, reads with a token only privately."""

from __future__ import annotations

import pytest

from domain.db import run
from rest_api.etag import is_current
from tests.factories import make_post
from tests.rest.helpers import problem

pytestmark = pytest.mark.django_db(transaction=True)

READS = [
    "/api/v1/posts",
    "/api/v1/posts/hello",
    "/api/v1/posts/hello/comments",
    "/api/v1/tags",
    "/api/v1/tags/greeting",
    "/api/v1/categories",
]


@pytest.fixture
def hello(user):
    return make_post(user, "Hello", tags=["greeting"])


@pytest.mark.parametrize("url", READS)
async def test_a_read_is_304_when_the_etag_matches(client, hello, url):
    response = await client.get(url)
    assert response.status_code == 200
    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert response.headers["cache-control"] == "public, max-age=0, must-revalidate"
    assert response.headers["vary"] == "Authorization"

    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


async def test_a_write_changes_the_etag(client, hello, user_auth):
    etag = (await client.get("/api/v1/posts/hello")).headers["etag"]
    await client.patch("/api/v1/posts/hello", json={"title": "Hi"}, headers=user_auth)
    response = await client.get("/api/v1/posts/hello", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.json()["title"] == "Hi"
    assert response.headers["etag"] != etag


async def test_reads_with_a_token_are_private(client, hello, user_auth):
    response = await client.get("/api/v1/posts/hello", headers=user_auth)
    assert response.headers["cache-control"] == "private, max-age=0, must-revalidate"


async def test_a_draft_is_never_304_for_someone_who_may_not_see_it(
    client, user, user_auth, other_auth
):
    await run(make_post, user, "Draft", status="draft")
    etag = (await client.get("/api/v1/posts/draft", headers=user_auth)).headers["etag"]
    response = await client.get(
        "/api/v1/posts/draft", headers={**other_auth, "If-None-Match": etag}
    )
    problem(response, 404, "not_found")


@pytest.mark.parametrize(
    ("header", "current"),
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"other", W/"abc"', True),
        ('"other"', False),
        ("*", True),
        ("abc", False),
    ],
)
def test_if_none_match_parsing(header, current):
    assert is_current(header, '"abc"') is current
