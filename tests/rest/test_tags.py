"""Tags: the list with post counts, and a tag with its posts."""

from __future__ import annotations

import pytest

from tests.factories import make_post, make_tag
from tests.rest.helpers import problem

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tagged(user):
    make_post(user, "One", tags=["python", "web"])
    make_post(user, "Two", tags=["python"])
    make_post(user, "Draft", tags=["python"], status="draft")
    make_tag("unused")


async def test_list_tags_with_published_post_counts(client, tagged):
    first = (await client.get("/api/v1/tags?limit=2")).json()
    assert [(t["slug"], t["post_count"]) for t in first["items"]] == [("python", 2), ("unused", 0)]
    second = (await client.get(first["next"])).json()
    assert [t["slug"] for t in second["items"]] == ["web"]
    assert second["next"] is None


async def test_a_tag_with_its_posts(client, tagged):
    body = (await client.get("/api/v1/tags/python?limit=1")).json()
    assert body["name"] == "python"
    assert body["post_count"] == 2
    assert [post["slug"] for post in body["posts"]["items"]] == ["two"]
    rest = (await client.get(body["posts"]["next"])).json()
    assert [post["slug"] for post in rest["items"]] == ["one"]


async def test_a_missing_tag_is_not_found(client):
    problem(await client.get("/api/v1/tags/missing"), 404, "not_found")


async def test_posts_of_a_tag_are_also_a_post_list_filter(client, tagged):
    body = (await client.get("/api/v1/posts?tag=web")).json()
    assert [post["slug"] for post in body["items"]] == ["one"]
