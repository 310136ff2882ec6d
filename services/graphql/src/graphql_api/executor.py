"""graphql-core's executor with a short path for the fields most responses are made of.

A response is mostly fields read off the domain's read models: a 20-post page has some 560
scalars (``title``, ``publishedAt``, ``author { username }``, ...) and 60 objects (each edge's
node, each post's author and category) against ~80 other fields. For each, graphql-core makes a
``GraphQLResolveInfo`` and the argument values, calls Strawberry's attribute resolver (three calls
deep, and it ignores both), and completes the value through the generic non-null / list / leaf /
object dispatch: about half of a page miss's CPU (docs/benchmarks.md).

Here a field whose resolver is Strawberry's plain attribute read and that has no arguments is
read directly: a scalar or enum is coerced, an object (of a type that needs no ``is_type_of``
check) has its selection executed, and a list of either (a page's edges, a post's tags) has each
item completed so. What a field takes is worked out once per type; a selection set's steps, and
each object field's own subfields, once per document (the parser cache keeps one per text), so
every item of a list and every later operation share them, unless ``@skip``, ``@include`` or
``@defer`` make the subfields depend on the variables: then once per operation. The
spec's rules stay: a null in a non-null field or item, a value the scalar refuses and an error
inside an object's selection are field errors at the field's (or item's) path, propagated as
graphql-core propagates them, and the response keeps the order of the selection. Every other
field (resolvers, abstract types, a list that is not a list or tuple, a ``@stream``ed list, a
selection holding a ``@defer``), and every field while a schema extension wraps the resolvers,
takes graphql-core's own path. An awaitable attribute or list item is awaited as graphql-core
would; for a scalar it is a field error (no read model here holds one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    Undefined,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, FragmentDetails, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from graphql.type.scalars import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    serialize_boolean,
    serialize_id,
    serialize_int,
    serialize_string,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter


class _Kind(Enum):
    SCALAR = "scalar"  # read and coerced here
    OBJECT = "object"  # read here, its selection executed
    LIST = "list"  # a list of scalars or of objects, read here, each item completed here
    OTHER = "other"  # graphql-core's execute_field


class _Shape(NamedTuple):
    """What a field of a type takes to execute."""

    kind: _Kind
    field: GraphQLField | None
    read: Callable[[Any], Any] | None
    type: Any  # the field's type without its non-null wrapper
    non_null: bool
    item: _Item | None = None  # what a list's items are
    leaf: _Leaf | None = None  # how a scalar's value is coerced


class _Leaf(NamedTuple):
    """How a scalar or enum's values are coerced."""

    type: Any
    coerce: Callable[[Any], Any]  # its coerce_output_value
    exact: type | None  # values of this type are returned as they are
    int_as_str: bool  # an int is returned as its decimal string (ID)
    int_in_range: bool  # an int within GraphQL's 32-bit range is returned as it is (Int)


class _Item(NamedTuple):
    """The items of a list field."""

    type: Any  # as declared, non-null wrapper included (for graphql-core's error handling)
    inner: Any  # without it
    non_null: bool
    leaf: _Leaf | None  # for items that are scalars


class _Step:
    """One field of a selection set, and (once it is first needed) its own selection's steps."""

    __slots__ = ("field_details_list", "response_name", "shape", "subfields", "varies")

    def __init__(
        self, response_name: str, field_details_list: FieldDetailsList, shape: _Shape
    ) -> None:
        self.response_name = response_name
        self.field_details_list = field_details_list
        self.shape = shape
        # Its selection's steps, kept here when they are the same for every operation.
        self.subfields: tuple[_Step, ...] | None = None
        # Whether what its selection collects can depend on the variables (None: not yet known).
        self.varies: bool | None = None


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
    item = None
    if _plain(inner):
        kind = _Kind.SCALAR if is_leaf_type(inner) else _Kind.OBJECT
    elif is_list_type(inner) and _plain(_unwrapped(inner.of_type)):
        kind = _Kind.LIST
        item_inner = _unwrapped(inner.of_type)
        item = _Item(inner.of_type, item_inner, item_inner is not inner.of_type, _leaf(item_inner))
    else:
        kind = _Kind.OTHER
    leaf = _leaf(inner) if kind is _Kind.SCALAR else None
    return _Shape(kind, field, read, inner, non_null, item, leaf)


def _leaf(type_: Any) -> _Leaf | None:
    if not is_leaf_type(type_):
        return None
    coerce = type_.coerce_output_value
    return _Leaf(type_, coerce, _EXACT.get(coerce), coerce is serialize_id, coerce is serialize_int)


# graphql-core's String and ID return a str as it is, its Boolean a bool (its ID an int as
# str(value), its Int an int in range as it is): a page's ids, slugs, titles, names and counts.
_EXACT: dict[Callable[[Any], Any], type] = {
    serialize_string: str,
    serialize_id: str,
    serialize_boolean: bool,
}


def _unwrapped(type_: Any) -> Any:
    return type_.of_type if is_non_null_type(type_) else type_


def _plain(type_: Any) -> bool:
    """A leaf, or an object type that needs no ``is_type_of`` check."""
    return is_leaf_type(type_) or (is_object_type(type_) and type_.is_type_of is None)


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


def _step_shape(
    schema: GraphQLSchema, parent_type: GraphQLObjectType, details: FieldDetailsList
) -> _Shape:
    shape = _shape(schema, parent_type, details[0].node.name.value)
    if shape.kind is _Kind.LIST and any(
        directive.name.value == "stream"
        for detail in details
        for directive in detail.node.directives or ()
    ):
        return shape._replace(kind=_Kind.OTHER)  # @stream: graphql-core's
    return shape


# Plans outlive operations: the parser cache hands out the same document for the same text,
# and a grouped field set is planned by the nodes it holds, (id(parent type), id(node), ...) ->
# (parent type, steps); the steps hold the nodes, so no id is reused while its plan is kept. A
# field skipped or included by a variable changes the nodes, hence the plan. Cleared when full.
_PLANS_MAX = 2048
_plans: dict[tuple[int, ...], tuple[GraphQLObjectType, tuple[_Step, ...]]] = {}


def _plan(
    schema: GraphQLSchema, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
) -> tuple[_Step, ...]:
    key = (id(parent_type), *(id(d.node) for ds in grouped_field_set.values() for d in ds))
    entry = _plans.get(key)
    if entry is not None:
        return entry[1]
    steps = tuple(
        _Step(name, details, _step_shape(schema, parent_type, details))
        for name, details in grouped_field_set.items()
    )
    if any(
        d.defer_usage is not None or d.fragment_variable_values is not None
        for ds in grouped_field_set.values()
        for d in ds
    ):
        return steps  # particular to this operation's incremental delivery or fragment arguments
    if len(_plans) >= _PLANS_MAX:
        _plans.clear()
    _plans[key] = (parent_type, steps)
    return steps


_COLLECTION_DIRECTIVES = frozenset({"skip", "include", "defer"})


def _varies(details: FieldDetailsList, fragments: Mapping[str, FragmentDetails]) -> bool:
    """Whether collecting the selection of these field nodes can depend on the variables: a
    ``@skip``, ``@include`` or ``@defer`` in it, its inline fragments or the fragments it spreads
    (not in its fields' own selections, which are collected when they are reached)."""
    seen: set[str] = set()
    pending = [detail.node.selection_set for detail in details if detail.node.selection_set]
    while pending:
        for selection in pending.pop().selections:
            if any(d.name.value in _COLLECTION_DIRECTIVES for d in selection.directives or ()):
                return True
            if isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is None or fragment.variable_signatures:
                    return True  # unknown here, or with arguments of its own
                pending.append(fragment.definition.selection_set)
    return False


async def _awaited_into(results: Any, keys: list[Any]) -> Any:
    """``results`` (a dict or a list) with the awaitables under ``keys`` replaced by their values,
    awaited together as graphql-core does (one alone without gathering)."""
    if len(keys) == 1:
        results[keys[0]] = await results[keys[0]]
    else:
        values = await gather_with_cancel(*(results[key] for key in keys))
        for key, value in zip(keys, values, strict=True):
            results[key] = value
    return results


class Executor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(step) -> its selection's steps in this operation (None: it holds a @defer), for the
        # steps whose selection varies with the variables.
        self._subplans: dict[int, tuple[_Step, ...] | None] = {}

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
        steps = _plan(self.schema, parent_type, grouped_field_set)
        return self._run(parent_type, source_value, path, steps, position_context)

    def _run(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        steps: tuple[_Step, ...],
        position_context: Any,
    ) -> Any:
        results: dict[str, Any] = {}
        awaitable_names: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for step in steps:
                name = step.response_name
                kind = step.shape.kind
                if kind is _Kind.SCALAR:
                    results[name] = self._scalar(step, parent_type, source_value, path)
                    continue
                if kind is _Kind.OTHER:
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        step.field_details_list,
                        Path(path, name, parent_type.name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                else:
                    result = self._composite(
                        step, parent_type, source_value, path, position_context
                    )
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
        return _awaited_into(results, awaitable_names)

    def _null_error(self, step: _Step, parent_type: GraphQLObjectType) -> TypeError:
        name = step.field_details_list[0].node.name.value
        return TypeError(f"Cannot return null for non-nullable field {parent_type.name}.{name}.")

    def _scalar(
        self, step: _Step, parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> Any:
        shape = step.shape
        try:
            value = shape.read(source)  # type: ignore[misc]
            if value is None or value is Undefined:
                if shape.non_null:
                    raise self._null_error(step, parent_type)
                return None
            return self._coerced(shape.leaf, value)  # type: ignore[arg-type]
        except Exception as raw_error:
            self._field_error(raw_error, step, Path(path, step.response_name, parent_type.name))
            return None

    def _coerced(self, leaf: _Leaf, value: Any) -> Any:
        """``complete_leaf_value`` of a value that is not null, without its call for a value
        the scalar returns as it is (a page's ids, slugs, titles, names and counts)."""
        kind = type(value)
        if kind is leaf.exact:
            return value
        if kind is int:
            if leaf.int_as_str:
                return str(value)
            if leaf.int_in_range and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
                return value
        coerced = leaf.coerce(value)
        if coerced is None or coerced is Undefined:
            return self.complete_leaf_value(leaf.type, value)  # graphql-core's refusal
        return coerced

    def _composite(
        self,
        step: _Step,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
        position_context: Any,
    ) -> Any:
        """An object's selection, or a list's items, completed here."""
        field_path = Path(path, step.response_name, parent_type.name)
        shape = step.shape
        try:
            value = shape.read(source)  # type: ignore[misc]
            if value is None or value is Undefined:
                if shape.non_null:
                    raise self._null_error(step, parent_type)
                return None
            if shape.kind is _Kind.OBJECT and not self.is_awaitable(value):
                completed = self._select(step, shape.type, field_path, value, position_context)
            elif shape.kind is _Kind.LIST and isinstance(value, list | tuple):
                completed = self._items(step, parent_type, field_path, value, position_context)
            else:  # an awaitable, a generator, an async iterable: graphql-core's way
                return self._long_way(step, parent_type, field_path, value, position_context)
        except Exception as raw_error:
            self._field_error(raw_error, step, field_path)
            return None
        if not self.is_awaitable(completed):
            return completed
        return self._guarded(completed, shape.field.type, step.field_details_list, field_path)  # type: ignore[union-attr]

    def _items(
        self,
        step: _Step,
        parent_type: GraphQLObjectType,
        path: Path,
        values: list[Any] | tuple[Any, ...],
        position_context: Any,
    ) -> Any:
        """graphql-core's ``complete_iterable_value`` for a list of leaves or plain objects."""
        item: _Item = step.shape.item  # type: ignore[assignment]
        details = step.field_details_list
        is_awaitable = self.is_awaitable
        results: list[Any] = []
        pending: list[int] = []
        try:
            for index, value in enumerate(values):
                item_path = Path(path, index, None)
                if is_awaitable(value):
                    info = self.build_resolve_info(
                        step.shape.field,  # type: ignore[arg-type]
                        [detail.node for detail in details],
                        parent_type,
                        path,
                    )
                    results.append(
                        self.complete_awaitable_list_item_value(
                            value, item.type, details, info, item_path, position_context
                        )
                    )
                    pending.append(index)
                    continue
                try:
                    if isinstance(value, Exception):
                        raise value
                    if value is None or value is Undefined:
                        if item.non_null:
                            raise self._null_error(step, parent_type)
                        completed = None
                    elif item.leaf is not None:
                        completed = self._coerced(item.leaf, value)
                    else:
                        completed = self._select(
                            step, item.inner, item_path, value, position_context
                        )
                        if is_awaitable(completed):
                            completed = self._guarded(completed, item.type, details, item_path)
                            pending.append(index)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item.type, details, item_path)
                    completed = None
                results.append(completed)
        except Exception:
            if pending:
                self.settle_in_background([results[index] for index in pending])
            raise

        if not pending:
            return results
        return _awaited_into(results, pending)

    def _select(
        self,
        step: _Step,
        return_type: GraphQLObjectType,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> Any:
        """``collect_and_execute_subfields``, with the subfields' steps kept on the step (for
        every item of a list, and every later operation) or, where the variables decide them, for
        this operation. Inside a deferred fragment (a position context), or where the selection
        holds one, graphql-core's incremental executor does it."""
        if position_context is None:
            steps = step.subfields
            if steps is None:
                steps = self._subfields(step, return_type)
            if steps is not None:
                return self._run(return_type, value, path, steps, None)
        return self.collect_and_execute_subfields(
            return_type, step.field_details_list, path, value, position_context
        )

    def _subfields(self, step: _Step, return_type: GraphQLObjectType) -> tuple[_Step, ...] | None:
        if step.varies is None:
            step.varies = _varies(step.field_details_list, self.fragments)
        if step.varies and id(step) in self._subplans:
            return self._subplans[id(step)]
        grouped, new_defer_usages, _ = self.collect_subfields(return_type, step.field_details_list)
        steps = None if new_defer_usages else _plan(self.schema, return_type, grouped)
        if step.varies:
            self._subplans[id(step)] = steps
        else:
            step.subfields = steps
        return steps

    def _long_way(
        self,
        step: _Step,
        parent_type: GraphQLObjectType,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> Any:
        field: GraphQLField = step.shape.field  # type: ignore[assignment]
        details = step.field_details_list
        info = self.build_resolve_info(
            field, [detail.node for detail in details], parent_type, path
        )
        if self.is_awaitable(value):  # completes and handles its errors itself
            return self.complete_awaitable_value(
                field.type, details, info, path, value, position_context
            )
        completed = self.complete_value(field.type, details, info, path, value, position_context)
        if not self.is_awaitable(completed):
            return completed
        return self._guarded(completed, field.type, details, path)

    def _guarded(
        self, completed: Awaitable[Any], return_type: Any, details: FieldDetailsList, path: Path
    ) -> Awaitable[Any]:
        async def awaited() -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, details, path)
                return None

        return awaited()

    def _field_error(self, raw_error: Exception, step: _Step, path: Path) -> None:
        self.handle_field_error(raw_error, step.shape.field.type, step.field_details_list, path)  # type: ignore[union-attr]
