"""graphql-core's executor with a short path for the fields most responses are made of.

A response is mostly scalars read off the domain's read models: a 20-post page has some 560 of
them (``title``, ``publishedAt``, ``author { username }``, ...) against ~140 other fields. For
each, graphql-core makes a path entry, a ``GraphQLResolveInfo`` and the argument values, calls
Strawberry's attribute resolver (three calls deep, and it ignores both), and completes the value
through the generic non-null / list / leaf / object dispatch: about half of a page miss's CPU
(docs/benchmarks.md).

Here a field whose resolver is Strawberry's plain attribute read, with no arguments and a scalar
or enum type, is read and coerced directly; what that takes is worked out once per selection set
and operation. The spec's rules stay: a null in a non-null field and a value the scalar refuses
are field errors at the field's path, propagated as graphql-core propagates them, and the
response keeps the order of the selection. Every other field, and every field while a schema
extension wraps the resolvers, takes graphql-core's own path.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter


class _Attribute(NamedTuple):
    """A scalar field read as an attribute of its source."""

    response_name: str
    field_details_list: FieldDetailsList
    field: GraphQLField
    read: Callable[[Any], Any]
    type: GraphQLLeafType
    non_null: bool


class _Plan(NamedTuple):
    attributes: tuple[_Attribute, ...]
    rest: GroupedFieldSet | None  # the fields graphql-core executes, None if there are none
    attributes_first: bool  # every attribute is selected before every other field


def _reader(field: GraphQLField) -> Callable[[Any], Any] | None:
    # Strawberry marks the resolver it gives a field without a resolver, extensions or
    # permissions: it reads the attribute and never looks at its `info`.
    resolve = field.resolve
    if field.args or not getattr(resolve, "_is_default", False):
        return None
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if getattr(definition, "default_resolver", None) is getattr:
        return attrgetter(definition.python_name)  # type: ignore[union-attr]
    return lambda source: resolve(source, None)  # type: ignore[misc]


# id(field) -> (field, its reader): schema fields live as long as the process, and every
# operation's plans ask again (the fields are not hashable).
_readers: dict[int, tuple[GraphQLField, Callable[[Any], Any] | None]] = {}


def _cached_reader(field: GraphQLField) -> Callable[[Any], Any] | None:
    entry = _readers.get(id(field))
    if entry is None or entry[0] is not field:
        entry = _readers[id(field)] = (field, _reader(field))
    return entry[1]


def _attribute(
    schema: GraphQLSchema,
    parent_type: GraphQLObjectType,
    response_name: str,
    field_details_list: FieldDetailsList,
) -> _Attribute | None:
    field = schema.get_field(parent_type, field_details_list[0].node.name.value)
    read = _cached_reader(field) if field is not None else None
    if read is None:
        return None
    non_null = is_non_null_type(field.type)  # type: ignore[union-attr]
    leaf = field.type.of_type if non_null else field.type  # type: ignore[union-attr]
    if not is_leaf_type(leaf):
        return None
    return _Attribute(response_name, field_details_list, field, read, leaf, non_null)


def _plan(
    schema: GraphQLSchema, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
) -> _Plan:
    attributes: list[_Attribute] = []
    rest: GroupedFieldSet = {}
    for response_name, field_details_list in grouped_field_set.items():
        attribute = _attribute(schema, parent_type, response_name, field_details_list)
        if attribute is None:
            rest[response_name] = field_details_list
        else:
            attributes.append(attribute)
    names = list(grouped_field_set)
    first = names[: len(attributes)] == [attribute.response_name for attribute in attributes]
    return _Plan(tuple(attributes), rest or None, first)


class Executor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(grouped field set) -> (it, its plan): graphql-core collects a selection set once
        # per operation (collect_subfields), so every post of a page shares one.
        self._plans: dict[int, tuple[GroupedFieldSet, _Plan]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        entry = self._plans.get(id(grouped_field_set))
        if entry is None or entry[0] is not grouped_field_set:
            entry = (grouped_field_set, _plan(self.schema, parent_type, grouped_field_set))
            self._plans[id(grouped_field_set)] = entry
        plan = entry[1]

        results = {
            attribute.response_name: self._read(attribute, parent_type, source_value, path)
            for attribute in plan.attributes
        }
        if plan.rest is None:
            return results
        others = super().execute_fields(
            parent_type, source_value, path, plan.rest, position_context
        )

        def merged(others: dict[str, Any]) -> dict[str, Any]:
            if plan.attributes_first:
                results.update(others)
                return results
            ordered = {}
            for name in grouped_field_set:
                if name in results:
                    ordered[name] = results[name]
                elif name in others:
                    ordered[name] = others[name]
            return ordered

        if not self.is_awaitable(others):
            return merged(others)

        async def awaited() -> dict[str, Any]:
            return merged(await others)

        return awaited()

    def _read(
        self,
        attribute: _Attribute,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
    ) -> Any:
        try:
            value = attribute.read(source)
            if value is not None and value is not Undefined:
                return self.complete_leaf_value(attribute.type, value)
            if attribute.non_null:
                name = attribute.field_details_list[0].node.name.value
                raise TypeError(
                    f"Cannot return null for non-nullable field {parent_type.name}.{name}."
                )
            return None
        except Exception as raw_error:
            field_path = Path(path, attribute.response_name, parent_type.name)
            self.handle_field_error(
                raw_error, attribute.field.type, attribute.field_details_list, field_path
            )
            return None
