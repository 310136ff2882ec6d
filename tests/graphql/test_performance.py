"""Performance rules: a constant number of SQL statements however many posts a query returns, ORM
work that does not serialise on one thread, and no resolver that could block the event loop."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import pytest
from django.db import connection
from graphql import parse
from strawberry.types.base import StrawberryObjectDefinition

from domain import db
from domain.blog import selectors
from domain.blog.cache import blog_cache
from domain.pagination import Page
from graphql_api.blog.queries import _fields
from tests import factories
from tests.graphql.helpers import GraphQLClient

pytestmark = pytest.mark.django_db(transaction=True)

POSTS = """
query($first: Int!) {
  posts(first: $first) {
    edges { node {
      title
      author { username }
      category { name parent { name } }
      tags { name }
      comments(first: 3) { body author { displayName } }
    } }
  }
}
"""
# The post page with its authors, categories (and their parents) and tags, then the comments with
# their authors.
EXPECTED_QUERIES = 2


@pytest.fixture
def fifty_posts(user: Any, other_user: Any, editor: Any) -> None:
    readers = [other_user, editor, *(factories.make_user() for _ in range(3))]
    roots = [factories.make_category(f"Root {n}") for n in range(3)]
    leaves = [factories.make_category(f"Leaf {n}", parent=roots[n % 3]) for n in range(6)]
    for n, post in enumerate(factories.make_posts(user, 50)):
        post.category = leaves[n % 6]
        post.save()
        post.tags.set([factories.make_tag(f"tag{n % 7}"), factories.make_tag(f"tag{n % 5}x")])
        for reader in readers[n % 3 : n % 3 + 2]:
            factories.make_comment(post, reader)


async def statements_of(gql: GraphQLClient, first: int, *, cold: bool = True) -> list[str]:
    """The SQL statements one request runs (the request's own log nests in this one); ``cold``
    empties the blog cache first."""
    if cold:
        await db.run(blog_cache.invalidate)
    with db.track_queries(capture=True) as log:
        data = await gql.data(POSTS, {"first": first})
    edges = data["posts"]["edges"]
    assert len(edges) == first
    assert all(edge["node"]["comments"] and edge["node"]["tags"] for edge in edges)
    assert all(edge["node"]["category"]["parent"] for edge in edges)
    return log.statements


async def test_the_query_count_does_not_grow_with_the_page(fifty_posts, gql):
    few = await statements_of(gql, 5)
    many = await statements_of(gql, 50)
    print(f"\nSQL statements: {len(few)} for 5 posts, {len(many)} for 50 posts")
    assert len(few) == len(many) == EXPECTED_QUERIES, "\n".join(many)
    # Served again, the page and every batch come from the domain's cache.
    assert await statements_of(gql, 50, cold=False) == []


def sleep_in_postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.2)")


async def test_resolvers_query_concurrently_not_on_one_thread(gql, monkeypatch):
    """Eight requests at once take a fraction of the time of the same eight one by one, both
    measured here (a ratio, not seconds: a loaded machine slows both)."""

    async def slow_tags(**kwargs: Any) -> Page[Any]:
        await db.run(sleep_in_postgres)
        return Page(items=(), next_cursor=None)

    monkeypatch.setattr(selectors, "atag_list", slow_tags)
    # A page size of its own per request: none is answered from the shared response cache.
    sizes = iter(range(1, 100))

    def query() -> str:
        return f"{{ tags(first: {next(sizes)}) {{ nodes {{ slug }} }} }}"

    async def one_by_one() -> float:
        started = time.perf_counter()
        for _ in range(8):
            assert await gql.data(query()) == {"tags": {"nodes": []}}
        return time.perf_counter() - started

    async def eight_at_once() -> float:
        started = time.perf_counter()
        results = await asyncio.gather(*(gql.data(query()) for _ in range(8)))
        assert results == [{"tags": {"nodes": []}}] * 8
        return time.perf_counter() - started

    await eight_at_once()  # opens the pool's connections
    serial, concurrent = await one_by_one(), await eight_at_once()
    print(
        f"\n8 requests, each with a 200 ms query: one by one {serial:.3f} s,"
        f" at once {concurrent:.3f} s ({serial / concurrent:.1f}x)"
    )
    assert concurrent < 0.5 * serial, (concurrent, serial)


def test_every_resolver_is_async(app):
    """Plain fields read attributes of records (no I/O); a resolver that could query is async."""
    schema = app.state.schema
    resolvers = {
        f"{concrete.definition.name}.{field.name}": field.base_resolver
        for concrete in schema.schema_converter.type_map.values()
        if isinstance(concrete.definition, StrawberryObjectDefinition)
        for field in concrete.definition.fields
        if field.base_resolver is not None
    }
    assert "Category.parent" in resolvers
    assert "Subscription.comment_added" in resolvers
    assert [name for name, resolver in resolvers.items() if not resolver.is_async] == []


BODIES = {
    "a fragment on edges": "{ posts(first: 5) { edges { node { ...Text } } } }"
    " fragment Text on Post { title body }",
    "an inline fragment on nodes": "{ posts(first: 5) { nodes { ... on Post { body } } } }",
    "no body": "{ posts(first: 5) { nodes { title } } }",
}


@pytest.mark.parametrize("selection", BODIES)
async def test_a_page_that_returns_bodies_loads_them_with_the_page(fifty_posts, gql, selection):
    """One statement: the page reads `body` when the selection asks for it, in whatever
    fragment, and leaves it out otherwise (a missed body would cost a second statement)."""
    await db.run(blog_cache.invalidate)
    with db.track_queries(capture=True) as log:
        data = await gql.data(BODIES[selection])
    posts = data["posts"].get("nodes") or [edge["node"] for edge in data["posts"]["edges"]]
    assert len(posts) == 5
    if selection != "no body":
        assert all(post["body"] for post in posts)
    assert len(log.statements) == 1, "\n".join(log.statements)
    reads_body = "body" in log.statements[0].split(" FROM ")[0]
    assert reads_body == (selection != "no body")


def test_bodies_are_found_through_a_chain_of_fragments_longer_than_the_recursion_limit():
    depth = sys.getrecursionlimit() + 100
    chain = " ".join(f"fragment F{n} on Post {{ ...F{n + 1} }}" for n in range(depth))
    document = parse(
        f"{{ posts {{ nodes {{ ...F0 }} }} }} {chain} fragment F{depth} on Post {{ body }}",
        max_tokens=None,
    )
    fragments = {d.name.value: d for d in document.definitions[1:]}
    nodes = document.definitions[0].selection_set.selections[0].selection_set.selections[0]
    assert [field.name.value for field in _fields(nodes.selection_set, fragments)] == ["body"]
