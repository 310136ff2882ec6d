"""The executor's short path for plain scalar attributes (graphql_api/executor.py) answers exactly
what graphql-core's own executor answers: the same data in the same key order, the same errors at
the same paths, null propagated to the same parent; and it is taken for the fields it is for."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import IntEnum
from typing import Any, NewType

import pytest
import strawberry
import strawberry.extensions
from starlette.applications import Starlette
from strawberry.schema.config import StrawberryConfig
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


async def test_plain_fields_get_no_resolve_info(
    make_app: Callable[..., Starlette], posts: None, user_token: str, monkeypatch
):
    """The short path is taken: it relies on Strawberry marking its attribute resolvers, and
    this fails if that mark goes away."""
    asked: list[str] = []
    build = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def counting(self: Any, field: Any, nodes: Any, parent: Any, path: Any) -> Any:
        asked.append(f"{parent.name}.{nodes[0].name.value}")
        return build(self, field, nodes, parent, path)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "build_resolve_info", counting)
    await _answer(make_app(), user_token)
    ours = set(asked)
    asked.clear()
    monkeypatch.setattr(schema_module, "Executor", StrawberryGraphQLCoreExecutionContext)
    await _answer(make_app(), user_token)
    stock = set(asked)

    resolvers = {"Query.posts", "Post.comments", "Category.parent"}
    scalars = {"Post.title", "Post.slug", "Post.status", "Author.username", "Tag.name"}
    objects = {"PostEdge.node", "Post.author", "Post.category"}
    lists = {"PostConnection.edges", "Post.tags"}
    assert resolvers | scalars | objects | lists <= stock
    assert resolvers <= ours
    assert ours.isdisjoint(scalars | objects | lists)


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


# Lists read as attributes: items that are null where they may not be, scalars the type
# refuses, awaitable items, and iterables that are not lists.


async def _a_later_item(name: str | None) -> Item:
    return Item(name=name, count=9, note=None)  # type: ignore[arg-type]


@strawberry.type
class Shelf:
    strict: list[Item] | None  # non-null items: one null item nulls the list
    strict_names: list[str] | None
    loose_names: list[str | None]
    counts: list[int] | None
    awaited: list[Item | None]
    generated: list[Item | None]


@strawberry.type
class ShelfQuery:
    @strawberry.field
    def shelves(self) -> list[Shelf]:
        item = Item(name="a", count=1, note=None)
        nameless = Item(name=None, count=2, note=None)  # type: ignore[arg-type]
        return [
            Shelf(
                strict=[item, None],  # type: ignore[list-item]
                strict_names=["x", None],  # type: ignore[list-item]
                loose_names=["x", None],
                counts=[1, "two", 3],  # type: ignore[list-item]
                awaited=[_a_later_item("later"), _a_later_item(None), item],  # type: ignore[list-item]
                generated=(entry for entry in (item, nameless)),  # type: ignore[arg-type]
            ),
            Shelf(
                strict=[item],
                strict_names=None,
                loose_names=[],
                counts=(),  # type: ignore[arg-type]
                awaited=[],
                generated=[],
            ),
        ]


SHELVES = """{ shelves {
  strict { name } strictNames looseNames counts
  awaited { name count } generated { name }
} }"""


async def test_list_errors_are_graphql_cores():
    ours = await strawberry.Schema(ShelfQuery, execution_context_class=Executor).execute(SHELVES)
    stock = await strawberry.Schema(ShelfQuery).execute(SHELVES)

    assert json.dumps(ours.data) == json.dumps(stock.data)
    assert [(e.message, e.path) for e in ours.errors] == [(e.message, e.path) for e in stock.errors]
    first, second = ours.data["shelves"]
    assert first["strict"] is None
    assert first["strictNames"] is None
    assert first["looseNames"] == ["x", None]
    assert first["awaited"] == [{"name": "later", "count": 9}, None, {"name": "a", "count": 1}]
    assert second == {"strict": [{"name": "a"}], "strictNames": None, "looseNames": [],
                      "counts": [], "awaited": [], "generated": []}  # fmt: skip
    assert first["counts"] is None
    assert first["generated"] == [{"name": "a"}, None]
    assert {tuple(e.path) for e in ours.errors} == {
        ("shelves", 0, "strict", 1),
        ("shelves", 0, "strictNames", 1),
        ("shelves", 0, "counts", 1),
        ("shelves", 0, "awaited", 1, "name"),
        ("shelves", 0, "generated", 1, "name"),
    }


@strawberry.type
class Crate:
    items: list[Item]
    item: Item


@strawberry.type
class CrateQuery:
    @strawberry.field
    def crate(self) -> Crate:
        items = [Item(name=name, count=count, note=None) for count, name in enumerate("abc")]
        return Crate(items=items, item=Item(name="x", count=9, note="n"))


async def _incremental(execution_context_class: type) -> list[Any]:
    schema = strawberry.Schema(
        CrateQuery,
        execution_context_class=execution_context_class,
        config=StrawberryConfig(enable_experimental_incremental_execution=True),
    )
    result = await schema.execute(
        "{ crate { items @stream(initialCount: 1) { name } item { name ... @defer { count } } } }"
    )
    answers = [result.initial_result.formatted]  # type: ignore[union-attr]
    answers += [later.formatted async for later in result.subsequent_results]  # type: ignore[union-attr]
    return answers


async def test_stream_and_defer_are_left_to_graphql_core():
    """The project's schema has neither directive; a fork that enables them gets graphql-core's
    incremental delivery, not the short path's one-piece answer."""
    ours = await _incremental(Executor)
    assert ours == await _incremental(StrawberryGraphQLCoreExecutionContext)
    assert ours[0]["data"] == {"crate": {"items": [{"name": "a"}], "item": {"name": "x"}}}
    assert len(ours) == 3


Blank = NewType("Blank", str)
BLANK = StrawberryConfig(
    scalar_map={Blank: strawberry.scalar(name="Blank", serialize=lambda _: None, parse_value=str)}
)


@strawberry.type
class Label:
    text: str
    blank: Blank
    flag: bool


@strawberry.type
class BlankQuery:
    @strawberry.field
    def labels(self) -> list[Label | None]:
        return [Label(text="a", blank=Blank("b"), flag=True)]


async def test_a_scalar_that_coerces_to_null_is_graphql_cores_error():
    query = "{ labels { text blank flag } }"
    ours = await strawberry.Schema(
        BlankQuery, execution_context_class=Executor, config=BLANK
    ).execute(query)
    stock = await strawberry.Schema(BlankQuery, config=BLANK).execute(query)
    assert json.dumps(ours.data) == json.dumps(stock.data) == '{"labels": [null]}'
    assert [(e.message, e.path) for e in ours.errors] == [(e.message, e.path) for e in stock.errors]
    assert ours.errors[0].path == ["labels", 0, "blank"]


@strawberry.type
class Tally:
    count: int | None
    counts: list[int | None]


class Level(IntEnum):
    HIGH = 5


# GraphQL's Int is 32 bits: its bounds answer as they are, one past them is an error; a bool, an
# integral float, numeric text and an int subclass are coerced.
TALLIED = [2**31 - 1, -(2**31), 2**31, -(2**31) - 1, True, 3.0, 3.5, "4", Level.HIGH]


@strawberry.type
class TallyQuery:
    @strawberry.field
    def tallies(self) -> list[Tally]:
        return [Tally(count=value, counts=TALLIED) for value in TALLIED]  # type: ignore[arg-type]


async def test_ints_are_graphql_cores():
    query = "{ tallies { count counts } }"
    ours = await strawberry.Schema(TallyQuery, execution_context_class=Executor).execute(query)
    stock = await strawberry.Schema(TallyQuery).execute(query)
    assert json.dumps(ours.data) == json.dumps(stock.data)
    assert [(e.message, e.path) for e in ours.errors] == [(e.message, e.path) for e in stock.errors]
    assert [tally["count"] for tally in ours.data["tallies"]] == [
        2**31 - 1, -(2**31), None, None, 1, 3, None, 4, 5,
    ]  # fmt: skip


# Plans outlive an operation; what variables include or skip does not.

VARYING = """
query Varying($a: Boolean!, $b: Boolean!) {
  box {
    items { name @include(if: $a) ... on Item { count @skip(if: $b) } ...Note }
    item { count ...Note }
    again: items { name }
  }
}
fragment Note on Item { note @include(if: $b) name }
"""


async def test_a_plan_kept_between_operations_follows_each_ones_variables():
    ours = strawberry.Schema(
        Query, execution_context_class=Executor, extensions=[strawberry.extensions.ParserCache]
    )
    stock = strawberry.Schema(Query)
    for a, b in [(True, True), (False, True), (True, False), (False, False), (True, True)]:
        variables = {"a": a, "b": b}
        mine = await ours.execute(VARYING, variable_values=variables)
        theirs = await stock.execute(VARYING, variable_values=variables)
        assert json.dumps(mine.data) == json.dumps(theirs.data), variables
        assert [(e.message, e.path) for e in mine.errors or ()] == [
            (e.message, e.path) for e in theirs.errors or ()
        ]
    assert list(mine.data["box"]["items"][0]) == ["name", "note"]  # a and b: count skipped


async def test_a_repeated_document_is_not_collected_again(monkeypatch):
    schema = strawberry.Schema(
        Query, execution_context_class=Executor, extensions=[strawberry.extensions.ParserCache]
    )
    collected: list[str] = []
    collect = Executor.collect_subfields

    def counting(self: Executor, return_type: Any, details: Any) -> Any:
        collected.append(return_type.name)
        return collect(self, return_type, details)

    monkeypatch.setattr(Executor, "collect_subfields", counting)
    query = "{ box { items { name count } item { note } } }"
    first = await schema.execute(query)
    assert {"Item", "Box"} <= set(collected)
    collected.clear()
    again = await schema.execute(query)  # the same text: the parser cache's document

    assert again.data == first.data
    assert collected == ["Box"]  # graphql-core's own, under the resolver `box`; none of ours
