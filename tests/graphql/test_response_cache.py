"""GraphQL's response cache and Automatic Persisted Queries: a query asked again by an anonymous
client is answered from Redis before Strawberry parses it, with an ETag; writes from any service
make it stale; mutations and what a signed-in viewer reads are never shared; a query registered
by its SHA-256 can be sent by hash, by GET."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from domain import db
from domain.accounts.services import token_issue
from domain.blog.models import Post
from domain.blog.services.posts import post_update
from graphql_api.schema import Schema
from tests.factories import make_post, make_user
from tests.graphql.helpers import codes

pytestmark = pytest.mark.django_db(transaction=True)

POSTS = "{ posts(first: 5) { nodes { slug title author { username } tags { slug } } } }"


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many operations Strawberry executed (parsed, validated, resolved)."""
    counts: Counter[str] = Counter()
    original = Schema.execute

    async def counted(self: Schema, *args: Any, **kwargs: Any) -> Any:
        counts["operations"] += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(Schema, "execute", counted)
    return counts


@pytest.fixture
def hello(user: Any) -> Post:
    return make_post(user, "Hello", tags=["greeting"])


async def post(http: Any, query: str, token: str | None = None, **extra: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post("/graphql", json={"query": query, **extra}, headers=headers)


async def test_a_repeated_anonymous_query_is_answered_before_strawberry(http, hello, executed):
    first = await post(http, POSTS)
    assert first.json()["data"]["posts"]["nodes"][0]["slug"] == "hello"
    assert executed["operations"] == 1
    again = await post(http, POSTS)
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "public, max-age=0, must-revalidate"
    assert executed["operations"] == 1, "served from the cache"

    with db.track_queries() as log:
        conditional = await http.post(
            "/graphql", json={"query": POSTS}, headers={"If-None-Match": first.headers["etag"]}
        )
    assert conditional.status_code == 304
    assert log.count == 0


async def test_mutations_are_never_cached(http, hello, executed):
    mutation = 'mutation { recordPostView(slug: "hello") { viewCount } }'
    views = [
        (await post(http, mutation)).json()["data"]["recordPostView"]["viewCount"] for _ in range(2)
    ]
    assert views[1] == views[0] + 1
    assert executed["operations"] == 2


async def test_what_a_signed_in_viewer_reads_is_never_shared(http, user, editor, executed):
    await db.run(make_post, user, "Draft", status="draft")
    drafts = "{ posts(filter: {status: DRAFT}) { nodes { slug } } }"
    for viewer in (user, editor):
        token = await db.run(lambda viewer=viewer: token_issue(user=viewer).token)
        response = await post(http, drafts, token)
        assert response.json()["data"]["posts"]["nodes"] == [{"slug": "draft"}]
        assert response.headers["cache-control"].startswith("private")
        draft = await post(http, '{ post(slug: "draft") { slug } }', token)
        assert draft.json()["data"]["post"] == {"slug": "draft"}
    executed.clear()
    anonymous = await post(http, drafts)
    assert codes(anonymous.json()) == ["UNAUTHENTICATED"]
    assert (await post(http, '{ post(slug: "draft") { slug } }')).json()["data"]["post"] is None
    assert executed["operations"] == 2, "executed for the anonymous client, not served"


def _through_rest(user: Any) -> Any:
    async def write() -> None:
        from rest_api.main import app
        from tests.graphql.helpers import client_of
        from tests.rest.helpers import bearer

        headers = await db.run(bearer, user)
        async with client_of(app) as rest:
            response = await rest.patch(
                "/api/v1/posts/hello", json={"title": "New"}, headers=headers
            )
        assert response.status_code == 200, response.text

    return write


def _through_graphql(user: Any, http: Any) -> Any:
    async def write() -> None:
        token = await db.run(lambda: token_issue(user=user).token)
        response = await post(
            http,
            'mutation { updatePost(input: {slug: "hello", title: "New"}) { errors { message } } }',
            token,
        )
        assert response.json()["data"]["updatePost"]["errors"] == []

    return write


def _through_the_admin() -> Any:
    def change() -> None:
        browser = Client()
        browser.force_login(make_user(is_staff=True, is_superuser=True))
        post = Post.objects.get(slug="hello")
        response = browser.post(
            f"/admin/blog/post/{post.pk}/change/",
            {
                "title": "New",
                "slug": post.slug,
                "author": post.author_id,
                "summary": post.summary,
                "body": post.body,
                "status": post.status,
                "published_at_0": post.published_at.strftime("%Y-%m-%d"),
                "published_at_1": post.published_at.strftime("%H:%M:%S"),
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]

    async def write() -> None:
        await db.run(change)

    return write


@pytest.mark.parametrize("service", ["rest", "graphql", "admin"])
async def test_a_write_from_any_service_makes_a_cached_query_stale(
    http, hello, user, executed, service
):
    first = await post(http, POSTS)
    await post(http, POSTS)
    assert executed["operations"] == 1
    write = {
        "rest": lambda: _through_rest(user),
        "graphql": lambda: _through_graphql(user, http),
        "admin": _through_the_admin,
    }[service]()
    await write()
    after = await post(http, POSTS)
    assert after.json()["data"]["posts"]["nodes"][0]["title"] == "New"
    assert after.headers["etag"] != first.headers["etag"]


# AUTOMATIC PERSISTED QUERIES
# ------------------------------------------------------------------------------


def persisted(query: str) -> dict[str, Any]:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_an_unknown_hash_is_persisted_query_not_found(http):
    response = await http.post("/graphql", json={"extensions": persisted("{ unknown }")})
    assert response.status_code == 200
    assert codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"


async def test_a_hash_that_is_not_the_querys_is_refused(http, hello):
    response = await http.post(
        "/graphql", json={"query": POSTS, "extensions": persisted("{ something { else } }")}
    )
    assert codes(response.json()) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    # Nothing was registered under the hash.
    retry = await http.post("/graphql", json={"extensions": persisted("{ something { else } }")})
    assert codes(retry.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_registered_query_is_sent_by_hash_with_get_and_etags(http, hello, executed):
    extensions = persisted(POSTS)
    registered = await http.post("/graphql", json={"query": POSTS, "extensions": extensions})
    assert registered.json()["data"]["posts"]["nodes"][0]["slug"] == "hello"

    url = "/graphql?" + urlencode({"extensions": json.dumps(extensions)})
    by_hash = await http.get(url)
    assert by_hash.status_code == 200
    assert by_hash.json()["data"] == registered.json()["data"]
    etag = by_hash.headers["etag"]
    executed.clear()
    again = await http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert executed["operations"] == 0

    await db.run(post_update, actor=hello.author, slug="hello", title="Changed")
    changed = await http.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["data"]["posts"]["nodes"][0]["title"] == "Changed"


async def test_mutations_are_refused_by_get(http, hello):
    mutation = 'mutation { recordPostView(slug: "hello") { viewCount } }'
    response = await http.get("/graphql", params={"query": mutation})
    assert response.status_code in (400, 405)
