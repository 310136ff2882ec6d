"""Posts: list with filters, ordering and pagination; read; create, replace, update, delete;
publish, unpublish, views; and who may do each."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from domain.blog.models import Post
from domain.db import run
from tests.factories import make_category, make_post, make_posts
from tests.rest.helpers import fields, problem

pytestmark = pytest.mark.django_db(transaction=True)


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


# LIST
# ------------------------------------------------------------------------------


async def test_list_shows_published_posts_newest_first_without_bodies(client, user):
    await run(make_posts, user, 3)
    await run(make_post, user, "Hidden draft", status="draft")
    response = await client.get("/api/v1/posts")
    body = response.json()
    assert len(body["items"]) == 3
    assert body["next"] is None
    published = [item["published_at"] for item in body["items"]]
    assert published == sorted(published, reverse=True)
    item = body["items"][0]
    assert "body" not in item
    assert item["author"] == {"id": user.pk, "username": "alice", "display_name": "alice"}


async def test_list_filters_by_category_including_descendants(client, user):
    def tree() -> None:
        python = make_category("Python")
        django = make_category("Django", parent=python)
        make_post(user, "Top", category=python)
        make_post(user, "Nested", category=django)
        make_post(user, "Elsewhere", category=make_category("Go"))

    await run(tree)
    assert set(slugs(await client.get("/api/v1/posts?category=python"))) == {"top", "nested"}
    assert slugs(await client.get("/api/v1/posts?category=django")) == ["nested"]
    assert slugs(await client.get("/api/v1/posts?category=missing")) == []


async def test_list_filters_by_tag_author_and_text(client, user, other_user):
    def posts() -> None:
        make_post(user, "Async views", tags=["django"], body="Threads and event loops.")
        make_post(other_user, "Unicode", tags=["python"], body="Strings and bytes.")

    await run(posts)
    assert slugs(await client.get("/api/v1/posts?tag=django")) == ["async-views"]
    assert slugs(await client.get("/api/v1/posts?author=bob")) == ["unicode"]
    assert slugs(await client.get("/api/v1/posts", params={"q": "event loop"})) == ["async-views"]
    assert slugs(await client.get("/api/v1/posts", params={"q": "bytes -threads"})) == ["unicode"]
    assert slugs(await client.get("/api/v1/posts?tag=django&author=bob")) == []


async def test_drafts_are_listed_for_their_author_only(client, user, user_auth, editor_auth):
    await run(make_post, user, "Mine", status="draft")
    problem(await client.get("/api/v1/posts?status=draft"), 401, "not_authenticated")
    assert slugs(await client.get("/api/v1/posts?status=draft", headers=user_auth)) == ["mine"]
    assert slugs(await client.get("/api/v1/posts?status=draft", headers=editor_auth)) == ["mine"]


async def test_drafts_of_others_are_not_listed(client, other_user, user_auth):
    await run(make_post, other_user, "Theirs", status="draft")
    assert slugs(await client.get("/api/v1/posts?status=draft", headers=user_auth)) == []


async def test_orderings(client, user):
    await run(make_post, user, "Banana")
    await run(make_post, user, "Apple")
    assert slugs(await client.get("/api/v1/posts?ordering=title")) == ["apple", "banana"]
    assert slugs(await client.get("/api/v1/posts?ordering=-title")) == ["banana", "apple"]
    assert fields(await client.get("/api/v1/posts?ordering=views")) == {"ordering"}


async def test_pages_follow_next_links_to_the_end_without_gaps(client, user):
    created = await run(make_posts, user, 7)
    seen: list[str] = []
    url: str | None = "/api/v1/posts?limit=3&tag="
    pages = 0
    while url:
        response = await client.get(url)
        seen += slugs(response)
        url = response.json()["next"]
        pages += 1
        if url:
            query = parse_qs(urlsplit(url).query, keep_blank_values=True)
            assert url.startswith("/api/v1/posts?"), "relative, no host"
            assert (query["limit"], query["tag"]) == (["3"], [""]), "same filters"
    assert pages == 3
    assert seen == [post.slug for post in reversed(created)]


async def test_a_page_is_stable_when_newer_posts_arrive(client, user):
    await run(make_posts, user, 4)
    first = (await client.get("/api/v1/posts?limit=2")).json()
    expected = slugs(await client.get(first["next"]))
    await run(make_post, user, "Breaking")
    assert slugs(await client.get(first["next"])) == expected


@pytest.mark.parametrize("limit", ["0", "101", "-1", "many"])
async def test_limit_out_of_range_is_invalid(client, limit):
    assert fields(await client.get(f"/api/v1/posts?limit={limit}")) == {"limit"}


@pytest.mark.parametrize("cursor", ["garbage", "W10", "eyJhIjoxfQ"])
async def test_a_bad_cursor_is_invalid(client, cursor):
    assert fields(await client.get(f"/api/v1/posts?cursor={cursor}")) == {"cursor"}


async def test_a_cursor_of_another_ordering_is_invalid(client, user):
    await run(make_posts, user, 3)
    next_url = (await client.get("/api/v1/posts?limit=1")).json()["next"]
    cursor = parse_qs(urlsplit(next_url).query)["cursor"][0]
    assert fields(await client.get(f"/api/v1/posts?ordering=title&cursor={cursor}")) == {"cursor"}


async def test_unknown_query_parameters_are_refused(client):
    assert fields(await client.get("/api/v1/posts?categroy=python")) == {"categroy"}


# READ
# ------------------------------------------------------------------------------


async def test_get_a_post_with_its_relations(client, user):
    def post() -> None:
        make_post(user, "Hello", category=make_category("Python"), tags=["b", "a"], body="x y")

    await run(post)
    response = await client.get("/api/v1/posts/hello")
    assert response.status_code == 200
    body = response.json()
    assert body["body"] == "x y"
    assert body["category"]["slug"] == "python"
    assert [tag["slug"] for tag in body["tags"]] == ["a", "b"]


async def test_a_draft_is_visible_to_its_author_and_editors_only(
    client, user, user_auth, other_auth, editor_auth
):
    await run(make_post, user, "Secret", status="draft")
    problem(await client.get("/api/v1/posts/secret"), 404, "not_found")
    problem(await client.get("/api/v1/posts/secret", headers=other_auth), 404, "not_found")
    for headers in (user_auth, editor_auth):
        response = await client.get("/api/v1/posts/secret", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["slug"], body["title"], body["status"]) == ("secret", "Secret", "draft")
        assert body["author"]["username"] == "alice"


async def test_a_missing_post_is_not_found(client):
    problem(await client.get("/api/v1/posts/nope"), 404, "not_found")


# CREATE
# ------------------------------------------------------------------------------


async def test_create_a_draft(client, user_auth):
    await run(make_category, "Python")
    payload = {"title": "New post", "body": "Text", "category": "python", "tags": ["Web"]}
    response = await client.post("/api/v1/posts", json=payload, headers=user_auth)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == "/api/v1/posts/new-post"
    assert body["slug"] == "new-post"
    assert body["status"] == "draft"
    assert body["author"]["username"] == "alice"
    assert [tag["name"] for tag in body["tags"]] == ["Web"]
    assert (await client.get("/api/v1/posts/new-post", headers=user_auth)).json() == body


async def test_create_published_with_an_explicit_slug(client, user_auth):
    payload = {"title": "Live", "slug": "live-now", "publish": True}
    body = (await client.post("/api/v1/posts", json=payload, headers=user_auth)).json()
    assert body["slug"] == "live-now"
    assert body["status"] == "published"
    assert (await client.get("/api/v1/posts/live-now")).status_code == 200


async def test_creating_needs_a_token(client):
    response = await client.post("/api/v1/posts", json={"title": "x"})
    problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_taken_slug_is_a_conflict(client, user, user_auth):
    await run(make_post, user, "Taken")
    payload = {"title": "Other", "slug": "taken"}
    problem(await client.post("/api/v1/posts", json=payload, headers=user_auth), 409, "conflict")
    assert await run(Post.objects.count) == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "title"),
        ({"title": 3}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "tags": "a,b"}, "tags"),
        ({"title": "ok", "tags": ["#"]}, "tags"),
        ({"title": "ok", "category": "missing"}, "category"),
        ({"title": "ok", "slug": "not a slug"}, "slug"),
        ({"title": "ok", "colour": "red"}, "colour"),
    ],
)
async def test_invalid_posts_name_the_field_and_write_nothing(client, user_auth, payload, field):
    response = await client.post("/api/v1/posts", json=payload, headers=user_auth)
    assert field in fields(response)
    assert not await run(Post.objects.exists)


# REPLACE AND UPDATE
# ------------------------------------------------------------------------------


async def test_replace_sets_every_field(client, user, user_auth):
    await run(lambda: make_post(user, "Old", category=make_category("Python"), tags=["a"]))
    payload = {"title": "New", "body": "B", "summary": "S", "category": None, "tags": ["z"]}
    response = await client.put("/api/v1/posts/old", json=payload, headers=user_auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["body"], body["summary"]) == ("New", "B", "S")
    assert body["category"] is None
    assert [t["slug"] for t in body["tags"]] == ["z"]
    assert body["slug"] == "old", "the slug changes only when sent"


async def test_replace_needs_every_field(client, user, user_auth):
    await run(make_post, user, "Old")
    response = await client.put("/api/v1/posts/old", json={"title": "New"}, headers=user_auth)
    assert fields(response) == {"body", "summary", "category", "tags"}


async def test_patch_changes_only_what_is_sent(client, user, user_auth):
    await run(lambda: make_post(user, "Old", category=make_category("Python"), summary="keep"))
    response = await client.patch("/api/v1/posts/old", json={"title": "New"}, headers=user_auth)
    body = response.json()
    assert body["title"] == "New"
    assert body["summary"] == "keep"
    assert body["category"]["slug"] == "python"
    body = (
        await client.patch("/api/v1/posts/old", json={"category": None}, headers=user_auth)
    ).json()
    assert body["category"] is None
    assert body["title"] == "New"


async def test_patch_renames_only_with_an_explicit_slug(client, user, user_auth):
    await run(make_post, user, "Old")
    response = await client.patch("/api/v1/posts/old", json={"slug": "new"}, headers=user_auth)
    assert response.json()["slug"] == "new"
    problem(await client.get("/api/v1/posts/old"), 404, "not_found")


async def test_patch_to_a_taken_slug_is_a_conflict(client, user, user_auth):
    await run(make_post, user, "First")
    await run(make_post, user, "Second")
    response = await client.patch("/api/v1/posts/second", json={"slug": "first"}, headers=user_auth)
    problem(response, 409, "conflict")


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"title": None}, "title"), ({"tags": None}, "tags"), ({"slug": None}, "slug")],
)
async def test_patch_refuses_null_for_required_fields(client, user, user_auth, payload, field):
    await run(make_post, user, "Old")
    assert fields(await client.patch("/api/v1/posts/old", json=payload, headers=user_auth)) == {
        field
    }


async def test_a_failed_update_changes_nothing(client, user, user_auth):
    await run(make_post, user, "Old", tags=["a"])
    payload = {"title": "New", "body": "", "summary": "", "category": "missing", "tags": ["b"]}
    response = await client.put("/api/v1/posts/old", json=payload, headers=user_auth)
    assert fields(response) == {"category"}
    body = (await client.get("/api/v1/posts/old")).json()
    assert body["title"] == "Old"
    assert [t["slug"] for t in body["tags"]] == ["a"]


async def test_only_the_author_or_an_editor_may_edit(
    client, user, other_auth, editor_auth, user_auth
):
    await run(make_post, user, "Mine")
    change = {"title": "Changed"}
    problem(await client.patch("/api/v1/posts/mine", json=change), 401, "not_authenticated")
    response = await client.patch("/api/v1/posts/mine", json=change, headers=other_auth)
    problem(response, 403, "permission_denied")
    assert (await client.get("/api/v1/posts/mine")).json()["title"] == "Mine", "refused: no change"
    response = await client.patch("/api/v1/posts/mine", json=change, headers=editor_auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["slug"], body["title"]) == ("mine", "Changed")
    assert body["author"]["username"] == "alice", "an editor's change keeps the author"
    assert (await client.get("/api/v1/posts/mine")).json()["title"] == "Changed"


async def test_editing_a_draft_of_someone_else_is_not_found(client, user, other_auth):
    await run(make_post, user, "Draft", status="draft")
    response = await client.patch("/api/v1/posts/draft", json={"title": "x"}, headers=other_auth)
    problem(response, 404, "not_found")


# DELETE, PUBLISH, VIEWS
# ------------------------------------------------------------------------------


async def test_delete(client, user, user_auth, other_auth):
    await run(make_post, user, "Doomed")
    problem(
        await client.delete("/api/v1/posts/doomed", headers=other_auth), 403, "permission_denied"
    )
    response = await client.delete("/api/v1/posts/doomed", headers=user_auth)
    assert response.status_code == 204
    assert response.content == b""
    problem(await client.get("/api/v1/posts/doomed"), 404, "not_found")
    problem(await client.delete("/api/v1/posts/doomed", headers=user_auth), 404, "not_found")


async def test_publish_and_unpublish(client, user, user_auth, other_auth):
    await run(make_post, user, "Draft", status="draft")
    problem(await client.post("/api/v1/posts/draft/publish"), 401, "not_authenticated")
    problem(await client.post("/api/v1/posts/draft/publish", headers=other_auth), 404, "not_found")
    published = (await client.post("/api/v1/posts/draft/publish", headers=user_auth)).json()
    assert published["status"] == "published"
    assert published["published_at"]
    assert (await client.get("/api/v1/posts/draft")).status_code == 200
    problem(
        await client.post("/api/v1/posts/draft/unpublish", headers=other_auth),
        403,
        "permission_denied",
    )
    response = await client.post("/api/v1/posts/draft/unpublish", headers=user_auth)
    assert response.json()["status"] == "draft"
    problem(await client.get("/api/v1/posts/draft"), 404, "not_found")


async def test_views_are_counted_by_post_not_by_reading(client, user):
    await run(make_post, user, "Read me")
    await client.get("/api/v1/posts/read-me")
    assert (await client.post("/api/v1/posts/read-me/views")).json() == {"view_count": 1}
    assert (await client.post("/api/v1/posts/read-me/views")).json() == {"view_count": 2}
    problem(await client.post("/api/v1/posts/missing/views"), 404, "not_found")
