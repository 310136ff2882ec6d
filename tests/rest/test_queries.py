"""What a read costs in SQL: a list page is a constant number of statements whatever its size,
and a cached read runs none."""

from __future__ import annotations

import pytest

from domain.db import run
from tests.factories import make_category, make_comment, make_post, make_posts

pytestmark = pytest.mark.django_db(transaction=True)


def rich_posts(author, count: int) -> None:
    """``count`` posts, each with a category, three tags and a comment."""
    for post in make_posts(author, count, category=make_category(), tags=["a", "b", "c"]):
        make_comment(post, author)


async def page_cost(counted_get, expected_items: int) -> int:
    response, queries = await counted_get("/api/v1/posts?limit=20")
    items = response.json()["items"]
    assert len(items) == expected_items
    assert all(len(item["tags"]) == 3 and item["category"] for item in items)
    return queries


async def test_a_list_page_costs_the_same_for_5_and_20_posts(counted_get, user):
    await run(rich_posts, user, 5)
    five = await page_cost(counted_get, 5)
    await run(rich_posts, user, 15)  # the write makes the cached page stale
    twenty = await page_cost(counted_get, 20)
    assert five == twenty == 1  # posts with author, category, comment count and tags


@pytest.fixture
def hello(user):
    post = make_post(user, "Hello", category=make_category("Python"), tags=["greeting"])
    make_comment(post, user)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/posts",
        "/api/v1/posts/hello",
        "/api/v1/posts/hello/comments",
        "/api/v1/categories",
        "/api/v1/categories/python",
        "/api/v1/tags",
        "/api/v1/tags/greeting",
    ],
)
async def test_a_cached_read_runs_no_sql(counted_get, hello, url):
    first, queries = await counted_get(url)
    assert first.status_code == 200
    assert queries > 0
    second, queries = await counted_get(url)
    assert second.json() == first.json()
    assert queries == 0
