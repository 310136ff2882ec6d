"""Categories: the tree, a category with its posts, and changes, which need permissions.
Deleting a category never deletes its posts or sub-categories."""

from __future__ import annotations

import pytest

from domain.blog.models import Category, Post
from domain.db import run
from tests.factories import make_category, make_post
from tests.rest.helpers import fields, problem

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tree(user):
    """Python > Django > Async, and Go; one post in Python, one in Django."""
    python = make_category("Python")
    django = make_category("Django", parent=python)
    make_category("Async", parent=django)
    make_category("Go")
    make_category("Retired", is_active=False)
    make_post(user, "Top", category=python)
    make_post(user, "Nested", category=django)
    return python


async def test_the_tree_of_active_categories(client, tree):
    body = (await client.get("/api/v1/categories")).json()
    roots = body["items"]
    assert [node["slug"] for node in roots] == ["go", "python"]
    python = roots[1]
    assert python["post_count"] == 1
    assert python["children"][0]["slug"] == "django"
    assert python["children"][0]["children"][0]["slug"] == "async"


async def test_a_category_with_its_posts_and_its_descendants_posts(client, tree):
    body = (await client.get("/api/v1/categories/python?limit=1")).json()
    assert body["name"] == "Python"
    assert body["post_count"] == 1
    assert [post["slug"] for post in body["posts"]["items"]] == ["nested"]
    next_url = body["posts"]["next"]
    assert next_url.startswith("/api/v1/posts?category=python&limit=1&cursor=")
    rest = (await client.get(next_url)).json()
    assert [post["slug"] for post in rest["items"]] == ["top"]
    assert rest["next"] is None


async def test_inactive_and_missing_categories(client, tree, user_auth, editor_auth):
    problem(await client.get("/api/v1/categories/retired"), 404, "not_found")
    problem(await client.get("/api/v1/categories/retired", headers=user_auth), 404, "not_found")
    response = await client.get("/api/v1/categories/retired", headers=editor_auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["slug"], body["name"], body["is_active"]) == ("retired", "Retired", False)
    assert body["posts"]["items"] == []
    problem(await client.get("/api/v1/categories/missing"), 404, "not_found")


async def test_create_needs_the_permission(client, tree, user_auth, editor_auth):
    payload = {"name": "Rust", "parent": "python", "description": "Fast."}
    problem(await client.post("/api/v1/categories", json=payload), 401, "not_authenticated")
    response = await client.post("/api/v1/categories", json=payload, headers=user_auth)
    problem(response, 403, "permission_denied")
    response = await client.post("/api/v1/categories", json=payload, headers=editor_auth)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/categories/rust"
    body = response.json()
    assert body["slug"] == "rust"
    assert body["parent_id"] == tree.pk
    assert body["post_count"] == 0


async def test_create_with_a_taken_slug_or_a_missing_parent(client, tree, editor_auth):
    response = await client.post(
        "/api/v1/categories", json={"name": "Py", "slug": "python"}, headers=editor_auth
    )
    problem(response, 409, "conflict")
    response = await client.post(
        "/api/v1/categories", json={"name": "Orphan", "parent": "missing"}, headers=editor_auth
    )
    assert fields(response) == {"parent"}


async def test_update_a_category(client, tree, user_auth, editor_auth):
    change = {"name": "Go!", "parent": "python"}
    problem(
        await client.patch("/api/v1/categories/go", json=change, headers=user_auth),
        403,
        "permission_denied",
    )
    response = await client.patch("/api/v1/categories/go", json=change, headers=editor_auth)
    assert response.json()["name"] == "Go!"
    assert response.json()["parent_id"] == tree.pk
    response = await client.patch(
        "/api/v1/categories/go", json={"parent": None, "slug": "golang"}, headers=editor_auth
    )
    assert response.json()["parent_id"] is None
    assert response.json()["slug"] == "golang"


async def test_a_category_cannot_move_under_its_descendant(client, tree, editor_auth):
    response = await client.patch(
        "/api/v1/categories/python", json={"parent": "async"}, headers=editor_auth
    )
    assert fields(response) == {"parent"}


async def test_deleting_an_empty_category(client, tree, user_auth, editor_auth):
    problem(
        await client.delete("/api/v1/categories/go", headers=user_auth), 403, "permission_denied"
    )
    response = await client.delete("/api/v1/categories/go", headers=editor_auth)
    assert response.status_code == 204
    problem(await client.get("/api/v1/categories/go"), 404, "not_found")


async def test_deleting_a_non_empty_category_is_a_conflict_and_deletes_nothing(
    client, tree, editor_auth
):
    response = await client.delete("/api/v1/categories/django", headers=editor_auth)
    assert "move_to" in problem(response, 409, "conflict")["detail"]
    assert await run(Category.objects.filter(slug="django").exists)
    assert await run(Post.objects.count) == 2


async def test_deleting_with_move_to_moves_posts_and_children(client, tree, editor_auth):
    response = await client.delete("/api/v1/categories/django?move_to=go", headers=editor_auth)
    assert response.status_code == 204
    go = (await client.get("/api/v1/categories/go")).json()
    assert [post["slug"] for post in go["posts"]["items"]] == ["nested"]
    roots = (await client.get("/api/v1/categories")).json()["items"]
    assert [child["slug"] for child in roots[0]["children"]] == ["async"]
    assert await run(Post.objects.count) == 2


async def test_move_to_must_be_outside_the_deleted_subtree(client, tree, editor_auth):
    response = await client.delete("/api/v1/categories/django?move_to=async", headers=editor_auth)
    assert fields(response) == {"move_to"}
    response = await client.delete("/api/v1/categories/django?move_to=missing", headers=editor_auth)
    assert fields(response) == {"move_to"}
