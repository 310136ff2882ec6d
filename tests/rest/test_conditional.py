"""Conditional GETs: reads carry a strong ETag of their body; If-None-Match with it gives 304.
Anonymous reads may be stored by shared caches, reads with a token only privately."""

from __future__ import annotations

import pytest

from domain import db
from domain.blog.models import Category, Post
from domain.db import run
from rest_api.etag import is_current
from tests.factories import make_category, make_post, make_tag
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


async def test_a_draft_read_from_the_cache_is_still_refused_to_another_viewer(
    client, user, user_auth, other_auth
):
    """The draft's read model is cached whoever read it; the visibility check runs on every read,
    cache hit or not."""
    await run(make_post, user, "Draft", status="draft")

    def reads_of_posts(log: db.QueryLog) -> list[str]:
        return [sql for sql in log.statements if "blog_post" in sql]

    with db.track_queries(capture=True) as log:
        assert (await client.get("/api/v1/posts/draft", headers=user_auth)).status_code == 200
    assert reads_of_posts(log), "the author's read loaded the post"
    with db.track_queries(capture=True) as log:
        refused = await client.get("/api/v1/posts/draft", headers=other_auth)
    problem(refused, 404, "not_found")
    assert reads_of_posts(log) == [], "the second viewer's was served from the cache"
    problem(await client.get("/api/v1/posts/draft"), 404, "not_found")


# ETAGS FOLLOW THE CONTENT
# ------------------------------------------------------------------------------
# A client holding an ETag must get 200 with the new body after any write that changes what the
# URL shows, through the APIs or not (the admin saves models directly).


async def revalidated(client, url: str, etag: str):
    response = await client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200, f"{url}: still 304 after the write"
    assert response.headers["etag"] != etag
    return response.json()


async def etags(client, *urls: str) -> dict[str, str]:
    return {url: (await client.get(url)).headers["etag"] for url in urls}


async def test_list_etags_change_when_the_lists_content_does(client, hello, user_auth):
    held = await etags(client, "/api/v1/posts", "/api/v1/tags", "/api/v1/tags/greeting")
    response = await client.post(
        "/api/v1/posts",
        json={"title": "Second", "tags": ["greeting"], "publish": True},
        headers=user_auth,
    )
    assert response.status_code == 201, response.text
    posts = await revalidated(client, "/api/v1/posts", held["/api/v1/posts"])
    assert [post["slug"] for post in posts["items"]] == ["second", "hello"]
    tags = await revalidated(client, "/api/v1/tags", held["/api/v1/tags"])
    assert [(tag["slug"], tag["post_count"]) for tag in tags["items"]] == [("greeting", 2)]
    tag = await revalidated(client, "/api/v1/tags/greeting", held["/api/v1/tags/greeting"])
    assert [post["slug"] for post in tag["posts"]["items"]] == ["second", "hello"]


async def test_etags_change_when_a_comment_is_added(client, hello, other_auth):
    held = await etags(client, "/api/v1/posts/hello", "/api/v1/posts/hello/comments")
    response = await client.post(
        "/api/v1/posts/hello/comments", json={"body": "First!"}, headers=other_auth
    )
    assert response.status_code == 201, response.text
    comments = await revalidated(
        client, "/api/v1/posts/hello/comments", held["/api/v1/posts/hello/comments"]
    )
    assert [comment["body"] for comment in comments["items"]] == ["First!"]
    post = await revalidated(client, "/api/v1/posts/hello", held["/api/v1/posts/hello"])
    assert post["comment_count"] == 1


async def test_etags_change_after_a_write_outside_the_services(client, user, hello):
    """As the admin writes: models saved through the ORM, in another thread; a field first,
    then the post's tags (a many-to-many change, with signals of its own)."""
    await run(make_category, "News")
    urls = ("/api/v1/posts", "/api/v1/posts/hello", "/api/v1/categories", "/api/v1/tags")
    held = await etags(client, *urls)

    def edit_in_the_admin() -> None:
        post = Post.objects.get(slug="hello")
        post.title = "Hello from the admin"
        post.category = Category.objects.get(slug="news")
        post.save()

    await run(edit_in_the_admin)
    detail = await revalidated(client, "/api/v1/posts/hello", held["/api/v1/posts/hello"])
    assert (detail["title"], detail["category"]["slug"]) == ("Hello from the admin", "news")
    listed = await revalidated(client, "/api/v1/posts", held["/api/v1/posts"])
    assert listed["items"][0]["title"] == "Hello from the admin"
    tree = await revalidated(client, "/api/v1/categories", held["/api/v1/categories"])
    assert [(node["slug"], node["post_count"]) for node in tree["items"]] == [("news", 1)]

    pick = await run(make_tag, "admin-pick")
    held = await etags(client, *urls)
    await run(lambda: Post.objects.get(slug="hello").tags.add(pick))
    tags = await revalidated(client, "/api/v1/tags", held["/api/v1/tags"])
    assert [tag["slug"] for tag in tags["items"]] == ["admin-pick", "greeting"]
    detail = await revalidated(client, "/api/v1/posts/hello", held["/api/v1/posts/hello"])
    assert [tag["slug"] for tag in detail["tags"]] == ["admin-pick", "greeting"]


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
