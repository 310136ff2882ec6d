"""A POST retried with the same Idempotency-Key writes once, even when the retries race."""

from __future__ import annotations

import asyncio

import pytest

from domain.blog.models import Comment, Post
from domain.db import run
from tests.factories import make_post
from tests.rest.helpers import fields, problem

pytestmark = pytest.mark.django_db(transaction=True)


def create(client, headers, key, title="Once"):
    return client.post(
        "/api/v1/posts", json={"title": title}, headers={**headers, "Idempotency-Key": key}
    )


async def test_a_retry_returns_the_first_post(client, user_auth):
    first = await create(client, user_auth, "key-1")
    again = await create(client, user_auth, "key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await run(Post.objects.count) == 1
    assert (await create(client, user_auth, "key-2")).json()["id"] != first.json()["id"]


async def test_racing_retries_create_one_post(client, user_auth):
    responses = await asyncio.gather(*(create(client, user_auth, "race") for _ in range(6)))
    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert await run(Post.objects.count) == 1


async def test_a_key_reused_for_another_post_is_a_conflict(client, user_auth):
    await create(client, user_auth, "key", title="One")
    problem(await create(client, user_auth, "key", title="Two"), 409, "conflict")
    assert await run(Post.objects.count) == 1


async def test_keys_are_per_user(client, user_auth, other_auth):
    mine = await create(client, user_auth, "key")
    theirs = await create(client, other_auth, "key")
    assert mine.json()["id"] != theirs.json()["id"]


async def test_a_failed_post_does_not_use_up_its_key(client, user_auth):
    problem(await create(client, user_auth, "key", title=" "), 422, "invalid")
    assert (await create(client, user_auth, "key", title="Fixed")).status_code == 201


async def test_a_key_too_long_is_invalid(client, user_auth):
    assert fields(await create(client, user_auth, "k" * 256)) == {"Idempotency-Key"}


async def test_a_retried_comment_is_added_once(client, user, other_auth):
    await run(make_post, user, "Talk")
    headers = {**other_auth, "Idempotency-Key": "comment-1"}
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/posts/talk/comments", json={"body": "Hi"}, headers=headers)
            for _ in range(4)
        )
    )
    assert len({response.json()["id"] for response in responses}) == 1
    assert await run(Comment.objects.count) == 1


async def test_a_replay_after_the_post_was_deleted_is_404_not_a_500(client, user_auth):
    first = await create(client, user_auth, "key")
    assert (
        await client.delete(f"/api/v1/posts/{first.json()['slug']}", headers=user_auth)
    ).status_code == 204
    again = await create(client, user_auth, "key")
    assert "deleted" in problem(again, 404, "not_found")["detail"]
    assert await run(Post.objects.count) == 0


async def test_a_replayed_comment_on_a_deleted_post_is_404_not_a_500(client, user, other_auth):
    await run(make_post, user, "Talk")
    headers = {**other_auth, "Idempotency-Key": "comment-1"}
    first = await client.post("/api/v1/posts/talk/comments", json={"body": "Hi"}, headers=headers)
    assert first.status_code == 201, first.text
    await run(Post.objects.filter(slug="talk").delete)
    again = await client.post("/api/v1/posts/talk/comments", json={"body": "Hi"}, headers=headers)
    assert "deleted" in problem(again, 404, "not_found")["detail"]
    assert await run(Comment.objects.count) == 0
