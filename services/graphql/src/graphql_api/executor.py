"""graphql-core's executor with a short path for the fields most responses are made of.

A response is mostly fields read off the domain's read models: a 20-post page has some 560
scalars (``title``, ``publishedAt``, ``author { username }``, ...) and 60 objects (each edge's
node, each post's author and category) against ~80 other fields. For each, graphql-core makes a
``GraphQLResolveInfo`` and the argument values, calls Strawberry's attribute resolver (three calls
deep, and it ignores both), and completes the value through the generic non-null / list / leaf /
object dispatch: about half of a page miss's CPU (docs/benchmarks.md).

Here a field whose resolver is Strawberry's plain attribute read and that has no arguments is
read directly: a scalar or enum is coerced, an object (of a type that needs no ``is_type_of``
check) has its selection executed. What a field takes is worked out once per type, and a
selection set's steps once per operation. The spec's rules stay: a null in a non-null field, a
value the scalar refuses and an error inside an object's selection are field errors at the
field's path, propagated as graphql-core propagates them, and the response keeps the order of
the selection. Every other field (resolvers, lists, abstract types), and every field while a
schema extension wraps the resolvers, takes graphql-core's own path. An attribute holding an
awaitable is awaited for an object, as graphql-core would; for a scalar it is a field error
(no read model here holds one).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter


class _Kind(Enum):
    SCALAR = "scalar"  # read and coerced here
    OBJECT = "object"  # read here, its selection executed
    OTHER = "other"  # graphql-core's execute_field


class _Shape(NamedTuple):
    """What a field of a type takes to execute."""

    kind: _Kind
    field: GraphQLField | None
    read: Callable[[Any], Any] | None
    type: Any  # the field's type without its non-null wrapper
    non_null: bool


class _Step(NamedTuple):
    """One field of a selection set."""

    response_name: str
    field_details_list: FieldDetailsList
    shape: _Shape


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


def _shape_of(field: GraphQLField | None) -> _Shape:
    read = _reader(field) if field is not None else None
    if field is None or read is None:
        return _Shape(_Kind.OTHER, field, None, None, False)
    non_null = is_non_null_type(field.type)
    inner = field.type.of_type if non_null else field.type  # type: ignore[union-attr]
    if is_leaf_type(inner):
        kind = _Kind.SCALAR
    elif is_object_type(inner) and inner.is_type_of is None:
        kind = _Kind.OBJECT
    else:
        kind = _Kind.OTHER
    return _Shape(kind, field, read, inner, non_null)


# (id(type), field name) -> (type, shape): a schema's types live as long as the process, and
# every operation plans its selection sets again (types are not hashable by value).
_shapes: dict[tuple[int, str], tuple[GraphQLObjectType, _Shape]] = {}


def _shape(schema: GraphQLSchema, parent_type: GraphQLObjectType, field_name: str) -> _Shape:
    key = (id(parent_type), field_name)
    entry = _shapes.get(key)
    if entry is None or entry[0] is not parent_type:
        shape = _shape_of(schema.get_field(parent_type, field_name))
        entry = _shapes[key] = (parent_type, shape)
    return entry[1]


class Executor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(grouped field set) -> (it, its steps): graphql-core collects a selection set once
        # per operation (collect_subfields), so every post of a page shares one plan.
        self._plans: dict[int, tuple[GroupedFieldSet, tuple[_Step, ...]]] = {}

    def _steps(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> tuple[_Step, ...]:
        entry = self._plans.get(id(grouped_field_set))
        if entry is None or entry[0] is not grouped_field_set:
            steps = tuple(
                _Step(name, details, _shape(self.schema, parent_type, details[0].node.name.value))
                for name, details in grouped_field_set.items()
            )
            entry = self._plans[id(grouped_field_set)] = (grouped_field_set, steps)
        return entry[1]

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's ``execute_fields``, with each field executed as its step says."""
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        awaitable_names: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for step in self._steps(parent_type, grouped_field_set):
                name = step.response_name
                if step.shape.kind is _Kind.SCALAR:
                    results[name] = self._scalar(step, parent_type, source_value, path)
                    continue
                if step.shape.kind is _Kind.OBJECT:
                    result = self._object(step, parent_type, source_value, path, position_context)
                else:
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        step.field_details_list,
                        Path(path, name, parent_type.name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                results[name] = result
                if is_awaitable(result):
                    awaitable_names.append(name)
        except Exception:
            if awaitable_names:
                # As graphql-core does: the siblings' errors must still be observed.
                self.settle_in_background([results[name] for name in awaitable_names])
            raise

        if not awaitable_names:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_names) == 1:
                results[awaitable_names[0]] = await results[awaitable_names[0]]
            else:
                values = await gather_with_cancel(*(results[name] for name in awaitable_names))
                results.update(zip(awaitable_names, values, strict=True))
            return results

        return get_results()

    def _null(self, step: _Step, parent_type: GraphQLObjectType) -> None:
        if step.shape.non_null:
            name = step.field_details_list[0].node.name.value
            raise TypeError(f"Cannot return null for non-nullable field {parent_type.name}.{name}.")

    def _scalar(
        self, step: _Step, parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> Any:
        try:
            value = step.shape.read(source)  # type: ignore[misc]
            if value is None or value is Undefined:
                return self._null(step, parent_type)
            return self.complete_leaf_value(step.shape.type, value)
        except Exception as raw_error:
            self._field_error(raw_error, step, Path(path, step.response_name, parent_type.name))
            return None

    def _object(
        self,
        step: _Step,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
        position_context: Any,
    ) -> Any:
        field_path = Path(path, step.response_name, parent_type.name)
        try:
            value = step.shape.read(source)  # type: ignore[misc]
            if value is None or value is Undefined:
                return self._null(step, parent_type)
            if self.is_awaitable(value):  # an attribute holding an awaitable: the long way
                nodes = [details.node for details in step.field_details_list]
                info = self.build_resolve_info(step.shape.field, nodes, parent_type, field_path)  # type: ignore[arg-type]
                return self.complete_awaitable_value(
                    step.shape.field.type,  # type: ignore[union-attr]
                    step.field_details_list,
                    info,
                    field_path,
                    value,
                    position_context,
                )
            completed = self.collect_and_execute_subfields(
                step.shape.type, step.field_details_list, field_path, value, position_context
            )
        except Exception as raw_error:
            self._field_error(raw_error, step, field_path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def awaited() -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self._field_error(raw_error, step, field_path)
                return None

        return awaited()

    def _field_error(self, raw_error: Exception, step: _Step, path: Path) -> None:
        self.handle_field_error(raw_error, step.shape.field.type, step.field_details_list, path)  # type: ignore[union-attr]
