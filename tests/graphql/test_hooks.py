"""The schema's extension runner (graphql_api/hooks.py) runs every kind of hook Strawberry
accepts, in Strawberry's order, and looks each class's hooks up once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import strawberry
from strawberry.extensions import SchemaExtension

from graphql_api import hooks
from graphql_api.schema import Schema


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"


def recording(log: list[str], label: str) -> type[SchemaExtension]:
    """An extension class with a hook of each kind Strawberry takes."""

    class Recording(SchemaExtension):
        def on_operation(self) -> Iterator[None]:  # a generator
            log.append(f"{label} operation start")
            yield
            log.append(f"{label} operation end")

        async def on_parse(self) -> AsyncIterator[None]:  # an async generator
            log.append(f"{label} parse start")
            yield
            log.append(f"{label} parse end")

        def on_validate(self) -> None:  # type: ignore[override]  # a plain function
            log.append(f"{label} validate")

        async def on_execute(self) -> None:  # type: ignore[override]  # a coroutine function
            log.append(f"{label} execute")

    return Recording


async def run_with(schema_class: type[strawberry.Schema]) -> list[str]:
    log: list[str] = []
    schema = schema_class(query=Query, extensions=[recording(log, "a"), recording(log, "b")])
    result = await schema.execute("{ hello }")
    assert result.errors is None
    assert result.data == {"hello": "hi"}
    return log


async def test_every_kind_of_hook_runs_as_strawberry_runs_it():
    ours = await run_with(Schema)
    assert ours == await run_with(strawberry.Schema)
    assert ours == [
        "a operation start", "b operation start", "a parse start", "b parse start",
        "b parse end", "a parse end", "a validate", "b validate", "a execute", "b execute",
        "b operation end", "a operation end",
    ]  # fmt: skip


async def test_a_class_hooks_are_looked_up_once():
    hooks._hook.cache_clear()
    log: list[str] = []
    schema = Schema(query=Query, extensions=[recording(log, "a")])
    for _ in range(3):
        assert (await schema.execute("{ hello }")).errors is None
    # The class's four hooks, in the first operation only.
    assert hooks._hook.cache_info().misses == 4
    assert log.count("a validate") == 3
