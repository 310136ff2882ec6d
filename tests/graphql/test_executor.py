"""The executor's short path for plain scalar attributes (graphql_api/executor.py) answers exactly
what graphql-core's own executor answers: the same data in the same key order, the same errors at
the same paths, null propagated to the same parent; and it is taken for the fields it is for."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import strawberry
import strawberry.extensions
from starlette.applications import Starlette
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api import executor as executor_module
from graphql_api import schema as schema_module
from graphql_api.executor import Executor
from tests import factories
from tests.graphql.helpers import GraphQLClient, client_of

pytestmark = pytest.mark.django_db(transaction=True)

# Aliases, a scalar after an object field, the same field twice, a fragment, __typename, an
# enum, datetimes, a null category, an empty tag list and an argument-taking field.
PAGE = """
query Page($first: Int) {
  posts(first: $first) {
    edges {
      node {
        __typename
        heading: title
        author { displayName username id }
        slug
        ...Counts
        category { name parent { slug } }
        title
        status
        publishedAt
        tags { name slug }
        comments(first: 2) { body author { username } }
      }
      cursor
    }
    pageInfo { hasNextPage endCursor }
  }
}
fragment Counts on Post { commentCount viewCount readTimeMinutes createdAt }
"""


@pytest.fixture
def posts(user: Any, other_user: Any) -> None:
    tech = factories.make_category("Tech")
    python = factories.make_category("Python", parent=tech)
    first = factories.make_post(user, "Typed Django", category=python, tags=["python", "web"])
    factories.make_post(other_user, "No category, no tags")
    factories.make_comment(first, other_user, "First!")


async def _answer(app: Starlette, token: str) -> str:
    async with client_of(app) as http:
        result = await GraphQLClient(http)(PAGE, {"first": 10}, token=token)
    return json.dumps(result)  # the text: key order is part of the answer


async def test_a_page_is_the_same_as_graphql_core_executes_it(
    make_app: Callable[..., Starlette], posts: None, user_token: str, monkeypatch
):
    # Signed in: no response cache between the two apps.
    ours = await _answer(make_app(), user_token)
    monkeypatch.setattr(schema_module, "Executor", StrawberryGraphQLCoreExecutionContext)
    stock = await _answer(make_app(), user_token)

    assert ours == stock
    data = json.loads(ours)["data"]["posts"]["edges"]
    assert [edge["node"]["heading"] for edge in data] == ["No category, no tags", "Typed Django"]
    assert list(data[1]["node"])[:4] == ["__typename", "heading", "author", "slug"]


async def test_plain_scalars_get_no_resolve_info(
    make_app: Callable[..., Starlette], posts: None, user_token: str, monkeypatch
):
    """The short path is taken: it relies on Strawberry marking its attribute resolvers, and
    this fails if that mark goes away."""
    asked: list[str] = []
    build = Executor.build_resolve_info

    def counting(self: Executor, field: Any, nodes: Any, parent: Any, path: Any) -> Any:
        asked.append(f"{parent.name}.{nodes[0].name.value}")
        return build(self, field, nodes, parent, path)

    monkeypatch.setattr(Executor, "build_resolve_info", counting)
    await _answer(make_app(), user_token)

    # Resolvers and lists keep graphql-core's path; scalars and objects read as attributes don't.
    assert {"Query.posts", "Post.comments", "Post.tags", "Category.parent"} <= set(asked)
    plain = {"Post.title", "Post.slug", "Post.status", "Author.username", "Tag.name"}
    assert plain.isdisjoint(asked)
    assert {"PostEdge.node", "Post.author", "Post.category"}.isdisjoint(asked)


# Errors, on a schema of its own: a null in a non-null field, a value the scalar refuses.


@strawberry.type
class Item:
    name: str
    count: int
    note: str | None


@strawberry.type
class Holder:
    item: Item  # a non-null object read as an attribute

    @strawberry.field
    async def later(self) -> int:  # an awaited field beside it
        if self.item is not None and self.item.count == 2:
            raise ValueError("not later")
        return 7


@strawberry.type
class Box:
    item: Item | None
    items: list[Item | None]


@strawberry.type
class Query:
    @strawberry.field
    def box(self) -> Box:
        good = Item(name="good", count=1, note=None)
        nameless = Item(name=None, count=2, note="x")  # type: ignore[arg-type]
        uncountable = Item(name="bad", count="many", note=None)  # type: ignore[arg-type]
        return Box(item=nameless, items=[good, uncountable, nameless])

    @strawberry.field
    def holders(self) -> list[Holder | None]:
        one, two = Item(name="one", count=1, note=None), Item(name="two", count=2, note=None)
        return [Holder(item=None), Holder(item=one), Holder(item=two)]  # type: ignore[arg-type]


ERRORS = "{ box { item { note name count } items { name count note } } }"


@pytest.mark.parametrize("case", ["plain", "aliased"])
async def test_field_errors_are_graphql_cores(case: str):
    query = ERRORS if case == "plain" else ERRORS.replace("{ note name", "{ n: note label: name")
    ours = await strawberry.Schema(Query, execution_context_class=Executor).execute(query)
    stock = await strawberry.Schema(Query).execute(query)

    assert ours.data == stock.data
    assert json.dumps(ours.data) == json.dumps(stock.data)
    assert [(e.message, e.path) for e in ours.errors] == [(e.message, e.path) for e in stock.errors]
    assert ours.data == {"box": {"item": None, "items": [
        {"name": "good", "count": 1, "note": None}, None, None,
    ]}}  # fmt: skip
    assert len(ours.errors) == 3


def test_a_field_is_planned_once_per_type():
    schema = strawberry.Schema(Query, execution_context_class=Executor)
    item = schema._schema.get_type("Item")
    shape = executor_module._shape(schema._schema, item, "name")  # type: ignore[arg-type]
    assert executor_module._shape(schema._schema, item, "name") is shape  # type: ignore[arg-type]
    assert shape.kind is executor_module._Kind.SCALAR
    assert shape.read(Item(name="n", count=0, note=None)) == "n"  # type: ignore[misc]
    later = executor_module._shape(schema._schema, schema._schema.get_type("Holder"), "later")  # type: ignore[arg-type]
    assert later.kind is executor_module._Kind.OTHER


class Shout(strawberry.extensions.SchemaExtension):
    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        value = _next(root, info, *args, **kwargs)
        return value.upper() if isinstance(value, str) else value


async def test_an_extension_that_wraps_resolvers_sees_every_field():
    schema = strawberry.Schema(Query, extensions=[Shout], execution_context_class=Executor)
    result = await schema.execute("{ box { items { name } } }")
    assert result.data == {"box": {"items": [{"name": "GOOD"}, {"name": "BAD"}, None]}}


async def test_object_errors_are_graphql_cores():
    """A null non-null object, and an error in an awaited field beside an object read as an
    attribute: each nulls its holder, at the same path and with the same message."""
    query = "{ holders { item { name count } later } }"
    ours = await strawberry.Schema(Query, execution_context_class=Executor).execute(query)
    stock = await strawberry.Schema(Query).execute(query)

    assert json.dumps(ours.data) == json.dumps(stock.data)
    assert ours.data == {"holders": [None, {"item": {"name": "one", "count": 1}, "later": 7}, None]}
    assert [(e.message, e.path) for e in ours.errors] == [(e.message, e.path) for e in stock.errors]
    assert [e.path for e in ours.errors] == [["holders", 0, "item"], ["holders", 2, "later"]]


async def _an_item() -> Item:
    return Item(name="later", count=3, note=None)


async def test_an_object_attribute_holding_an_awaitable_is_awaited_as_graphql_core_does():
    query = "{ holders { item { name } } }"

    @strawberry.type
    class AwaitingQuery:
        @strawberry.field
        def holders(self) -> list[Holder]:
            return [Holder(item=_an_item())]  # type: ignore[arg-type]

    ours = await strawberry.Schema(AwaitingQuery, execution_context_class=Executor).execute(query)
    stock = await strawberry.Schema(AwaitingQuery).execute(query)
    assert ours.errors is None
    assert ours.data == stock.data == {"holders": [{"item": {"name": "later"}}]}
