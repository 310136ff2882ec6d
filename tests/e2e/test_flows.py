"""What clients do, through the gateway only: the admin, REST and GraphQL on one shared domain."""

from __future__ import annotations

import asyncio
import time
import uuid

from tests.e2e.clients import admin_login, admin_post, graphql
from tests.e2e.live import Subscriber, comment, create_post, until_all_hear_a_probe
from tests.e2e.stack import SUPERUSER, Stack

POST_BY_SLUG = "query ($slug: String!) { post(slug: $slug) { title status author { username } } }"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_a_post_written_in_the_admin_is_at_once_in_rest_and_graphql(stack: Stack, auth):
    slug = unique("from-the-admin")
    with stack.client() as api:
        # Warm every cache that could go stale: the list, the post's 404, the GraphQL read.
        assert api.get("/api/v1/posts").status_code == 200
        assert api.get(f"/api/v1/posts/{slug}").status_code == 404
        assert graphql(api, POST_BY_SLUG, {"slug": slug})["post"] is None
        me = api.get("/api/v1/me", headers=auth).json()

        with stack.client() as browser:
            admin_login(browser, SUPERUSER, stack.superuser_password)
            response = admin_post(
                browser,
                "/admin/blog/post/add/",
                {
                    "title": "Written in the admin",
                    "slug": slug,
                    "author": me["id"],
                    "summary": "",
                    "body": "Saved by an editor in the Django admin.",
                    "status": "published",
                    "published_at_0": "",
                    "published_at_1": "",
                },
            )
            assert response.status_code == 302, response.text[:2000]

        detail = api.get(f"/api/v1/posts/{slug}")
        assert detail.status_code == 200
        assert detail.json()["title"] == "Written in the admin"
        assert api.get("/api/v1/posts").json()["items"][0]["slug"] == slug
        post = graphql(api, POST_BY_SLUG, {"slug": slug})["post"]
        assert post == {
            "title": "Written in the admin",
            "status": "PUBLISHED",
            "author": {"username": SUPERUSER},
        }


def test_the_rest_flow_with_a_token(stack: Stack, auth):
    with stack.client() as api:
        created = api.post(
            "/api/v1/posts",
            json={"title": "A REST draft", "body": "word " * 300, "tags": ["e2e", "rest"]},
            headers={**auth, "Idempotency-Key": unique("key")},
        )
        assert created.status_code == 201, created.text
        slug = created.json()["slug"]
        assert api.get(f"/api/v1/posts/{slug}").status_code == 404  # a draft, to the public

        url = f"/api/v1/posts/{slug}"
        patched = api.patch(url, json={"summary": "Now summarised"}, headers=auth)
        assert patched.json()["summary"] == "Now summarised"
        assert api.post(f"{url}/publish", headers=auth).json()["status"] == "published"

        public = api.get(f"/api/v1/posts/{slug}")
        assert public.status_code == 200
        assert public.json()["read_time_minutes"] == 2
        etag = public.headers["etag"]
        assert api.get(f"/api/v1/posts/{slug}", headers={"If-None-Match": etag}).status_code == 304

        comment = api.post(f"/api/v1/posts/{slug}/comments", json={"body": "First!"}, headers=auth)
        assert comment.status_code == 201
        comments = api.get(f"/api/v1/posts/{slug}/comments").json()["items"]
        assert [c["body"] for c in comments] == ["First!"]
        assert api.post(f"/api/v1/posts/{slug}/views").json()["view_count"] == 1
        tagged = api.get("/api/v1/posts", params={"tag": "e2e"}).json()["items"]
        assert slug in {p["slug"] for p in tagged}
        found = api.get("/api/v1/posts", params={"q": "REST draft"}).json()["items"]
        assert found[0]["slug"] == slug

        assert api.delete(f"/api/v1/posts/{slug}", headers=auth).status_code == 204
        assert api.get(f"/api/v1/posts/{slug}").status_code == 404


def test_a_revoked_token_stops_working(stack: Stack):
    token = stack.obtain_token("short-lived")
    headers = {"Authorization": f"Bearer {token}"}
    with stack.client() as api:
        assert api.get("/api/v1/me", headers=headers).status_code == 200
        assert api.delete("/api/v1/auth/token", headers=headers).status_code == 204
        response = api.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"


def test_the_graphql_flow_with_a_token(stack: Stack, auth):
    with stack.client() as api:
        created = graphql(
            api,
            """mutation ($input: CreatePostInput!) {
                createPost(input: $input) { post { slug status } errors { field message code } }
            }""",
            {"input": {"title": "A GraphQL post", "tags": ["e2e"], "publish": True}},
            headers=auth,
        )["createPost"]
        assert created["errors"] == []
        slug = created["post"]["slug"]
        added = graphql(
            api,
            """mutation ($slug: String!) {
                addComment(input: {postSlug: $slug, body: "Via GraphQL"}) {
                    comment { body author { username } } errors { code }
                }
            }""",
            {"slug": slug},
            headers=auth,
        )["addComment"]
        assert added == {
            "comment": {"body": "Via GraphQL", "author": {"username": SUPERUSER}},
            "errors": [],
        }
        data = graphql(
            api,
            """{ posts(first: 5) { edges { node {
                    slug author { username } category { name } tags { slug }
                    comments(first: 3) { body author { username } }
                } } pageInfo { hasNextPage endCursor } } }""",
        )
        nodes = [edge["node"] for edge in data["posts"]["edges"]]
        mine = next(node for node in nodes if node["slug"] == slug)
        assert mine["tags"] == [{"slug": "e2e"}]
        assert mine["comments"] == [{"body": "Via GraphQL", "author": {"username": SUPERUSER}}]
        me = graphql(api, "{ me { username } }", headers=auth)["me"]
        assert me == {"username": SUPERUSER}


def test_a_subscription_over_the_gateway_hears_a_comment_written_through_rest(stack: Stack, auth):
    slug = create_post(stack, auth, "Live comments")

    async def round_trip() -> dict:
        subscriber = await Subscriber.connect(stack, auth)
        try:
            await subscriber.subscribe(slug)
            # Registered once it hears a probe: no sleep, no event lost to a race.
            await until_all_hear_a_probe(stack, auth, slug, [subscriber])
            await asyncio.to_thread(comment, stack, auth, slug, "Heard live")
            return await subscriber.next_real_comment()
        finally:
            await subscriber.close()

    heard = asyncio.run(round_trip())
    assert heard == {"body": "Heard live", "author": {"username": SUPERUSER}}


def test_expired_idempotency_keys_are_purged_while_the_stack_runs(stack: Stack, auth):
    """The scheduler service purges on its own (every IDEMPOTENCY_PURGE_INTERVAL, short here),
    not only when the migration job runs at deploy."""
    key = unique("purge-me")
    with stack.client() as api:
        created = api.post(
            "/api/v1/posts",
            json={"title": "Created once"},
            headers={**auth, "Idempotency-Key": key},
        )
    assert created.status_code == 201, created.text

    def sql(statement: str) -> str:
        # The key is ours (letters, digits and dashes), so it can sit in the statement as is.
        command = ["exec", "-T", "postgres", "psql", "-U", "fastdjango", "-d", "fastdjango"]
        return stack.compose_command(*command, "-tAc", statement).strip()

    count = f"SELECT count(*) FROM core_idempotencyrecord WHERE key = '{key}'"  # noqa: S608
    assert sql(count) == "1"
    age = "UPDATE core_idempotencyrecord SET created_at = now() - interval '2 days' WHERE key = "
    sql(f"{age}'{key}'")
    deadline = time.monotonic() + 60
    while sql(count) != "0":
        assert time.monotonic() < deadline, "the expired key is still there"
        time.sleep(1)
    assert stack.containers("scheduler"), "the scheduler keeps running"
    assert "expired idempotency records" in stack.logs("scheduler")
