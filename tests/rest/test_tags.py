"""Tags: the list with post counts, and a tag with its posts. Only tags of published posts
exist for the API, for everyone: a tag on drafts alone would tell what is being written."""

from __future__ import annotations

import pytest

from tests.factories import make_post, make_tag
from tests.rest.helpers import problem

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tagged(user):
    make_post(user, "One", tags=["python", "web"])
    make_post(user, "Two", tags=["python"])
    make_post(user, "Draft", tags=["python", "secret-topic"], status="draft")
    make_tag("unused")


async def test_list_tags_with_published_post_counts(client, tagged):
    first = (await client.get("/api/v1/tags?limit=1")).json()
    assert [(t["slug"], t["post_count"]) for t in first["items"]] == [("python", 2)]
    second = (await client.get(first["next"])).json()
    assert [(t["slug"], t["post_count"]) for t in second["items"]] == [("web", 1)]
    assert second["next"] is None


async def test_tags_of_drafts_only_or_of_no_post_do_not_exist(client, tagged, editor_auth):
    """Not listed and not found, for staff too: tags are public data, and staff see a draft's
    tags on the draft itself (and every tag in the admin)."""
    for headers in ({}, editor_auth):
        listed = (await client.get("/api/v1/tags", headers=headers)).json()
        assert [t["slug"] for t in listed["items"]] == ["python", "web"]
        for slug in ("secret-topic", "unused"):
            problem(await client.get(f"/api/v1/tags/{slug}", headers=headers), 404, "not_found")
    draft = (await client.get("/api/v1/posts/draft", headers=editor_auth)).json()
    assert [t["slug"] for t in draft["tags"]] == ["python", "secret-topic"]


async def test_a_tag_appears_when_its_first_post_is_published(client, tagged, user_auth):
    problem(await client.get("/api/v1/tags/secret-topic"), 404, "not_found")
    response = await client.post("/api/v1/posts/draft/publish", headers=user_auth)
    assert response.status_code == 200, response.text
    body = (await client.get("/api/v1/tags/secret-topic")).json()
    assert (body["slug"], body["post_count"]) == ("secret-topic", 1)
    assert [post["slug"] for post in body["posts"]["items"]] == ["draft"]


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
