"""Comments: listed per post (only on posts the viewer may see), added by signed-in users."""

from __future__ import annotations

import pytest

from domain.blog.models import Comment
from domain.db import run
from tests.factories import make_comment, make_post
from tests.rest.helpers import fields, problem

pytestmark = pytest.mark.django_db(transaction=True)


async def test_list_comments_oldest_first_in_pages(client, user, other_user):
    def discussion() -> None:
        post = make_post(user, "Talk")
        for n in range(3):
            make_comment(post, other_user, f"Comment {n}")

    await run(discussion)
    first = (await client.get("/api/v1/posts/talk/comments?limit=2")).json()
    assert [c["body"] for c in first["items"]] == ["Comment 0", "Comment 1"]
    assert first["items"][0]["author"]["username"] == "bob"
    assert first["next"].startswith("/api/v1/posts/talk/comments?limit=2&cursor=")
    second = (await client.get(first["next"])).json()
    assert [c["body"] for c in second["items"]] == ["Comment 2"]
    assert second["next"] is None
    newest = (await client.get("/api/v1/posts/talk/comments?ordering=-created_at")).json()
    assert newest["items"][0]["body"] == "Comment 2"


async def test_comments_of_a_hidden_draft_are_not_found(client, user, user_auth, other_auth):
    await run(lambda: make_comment(make_post(user, "Draft", status="draft"), user))
    problem(await client.get("/api/v1/posts/draft/comments"), 404, "not_found")
    problem(await client.get("/api/v1/posts/draft/comments", headers=other_auth), 404, "not_found")
    response = await client.get("/api/v1/posts/draft/comments", headers=user_auth)
    assert len(response.json()["items"]) == 1


async def test_add_a_comment(client, user, other_auth):
    await run(make_post, user, "Talk")
    response = await client.post(
        "/api/v1/posts/talk/comments", json={"body": "  First!  "}, headers=other_auth
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["body"] == "First!"
    assert body["author"]["username"] == "bob"
    listed = (await client.get("/api/v1/posts/talk/comments")).json()["items"]
    assert listed == [body]


async def test_commenting_needs_a_token_and_a_visible_post(client, user, other_auth):
    await run(make_post, user, "Draft", status="draft")
    response = await client.post("/api/v1/posts/draft/comments", json={"body": "Hi"})
    problem(response, 401, "not_authenticated")
    response = await client.post(
        "/api/v1/posts/draft/comments", json={"body": "Hi"}, headers=other_auth
    )
    problem(response, 404, "not_found")
    assert not await run(Comment.objects.exists)


@pytest.mark.parametrize(("payload", "field"), [({}, "body"), ({"body": "  "}, "body")])
async def test_an_empty_comment_is_invalid(client, user, user_auth, payload, field):
    await run(make_post, user, "Talk")
    response = await client.post("/api/v1/posts/talk/comments", json=payload, headers=user_auth)
    assert fields(response) == {field}
