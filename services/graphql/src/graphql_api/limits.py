"""Limits on what one operation may ask for, checked before anything runs, in time linear in the
document's size.

:class:`OperationLimits` replaces Strawberry's validation step and checks, cheapest first:

1. **The document's shape** (:func:`measure`), before any of graphql-core's rules: depth and
   aliases (the semantics and messages of Strawberry's ``QueryDepthLimiter`` and
   ``MaxAliasesLimiter``); the number of fields the document selects once every fragment spread
   is replaced by its fragment (``max_selections``); and the pairs of selections that meet in one
   place of the response, the same field twice or two fragments side by side (``max_overlaps``).
   Each fragment is measured once and its numbers are reused at every spread, so ``...F ...F``
   nested 30 deep takes 30 steps, not 2^30. This comes first because graphql-core's
   OverlappingFieldsCanBeMerged compares every such pair (``{ tags { nodes { id } } ... }`` 280
   times in 2000 tokens took about a second), and Strawberry's depth and alias rules walked a
   fragment again at every spread.
2. **graphql-core's rules** (and introspection when it is off), cached per document.
3. **The operation's arguments**, coerced as execution will coerce them (a JSON ``100000.0`` for an
   ``Int`` is the integer 100000): text that cannot be stored and lengths
   (:mod:`domain.inputs`), page sizes, and the cost.

The cost is the number of objects an operation may return, counting each paginated field as its
``first`` multiplied by the ``first`` of every paginated field around it. So
``posts(first: 50) { edges { node { comments(first: 10) { ... } } } }`` costs 50 + 50 x 10 = 550.
Unpaginated lists (a post's tags, at most 10; a category's children) count as one. A selection
set's cost is linear in the multiplier around it, so each fragment's cost is computed once, for a
multiplier of one, and scaled at every spread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    Node,
    NoFragmentCyclesRule,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    validate,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.schema import validate_document

from domain import inputs
from domain.errors import InvalidInput
from graphql_api.config import Config
from graphql_api.errors import ErrorCode, domain_name

PAGE_ARGUMENT = "first"
_VALIDATION_FAILED = {"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value}
# Counts saturate here, the largest integer JSON clients read exactly (a document of 2000 tokens
# can select 2^190 fields).
CEILING = 2**53 - 1


@dataclass(frozen=True, kw_only=True)
class ShapeLimits:
    max_depth: int
    max_aliases: int
    max_selections: int
    max_overlaps: int

    @classmethod
    def of(cls, config: Config) -> ShapeLimits:
        return cls(
            max_depth=config.max_depth,
            max_aliases=config.max_aliases,
            max_selections=config.max_selections,
            max_overlaps=config.max_overlaps,
        )


class OperationLimits(SchemaExtension):
    """Refuse operations over a limit, before graphql-core's rules when the limit is the shape."""

    def __init__(self, *, config: Config, rules: Sequence[type[ASTValidationRule]] = ()) -> None:
        """``rules``: validation rules of our own, run (and cached) with graphql-core's."""
        self.shape = ShapeLimits.of(config)
        self.max_cost = config.max_cost
        introspection = () if config.introspection else DisableIntrospection().validation_rules
        self.extra_rules: tuple[type[ASTValidationRule], ...] = (*introspection, *rules)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        schema = context.schema._schema
        rules = (*context.validation_rules, *self.extra_rules)
        shape, errors = checked_document(schema, context.graphql_document, rules, self.shape)
        if not errors:
            errors = operation_errors(
                schema, shape, context.operation_name, context.variables, max_cost=self.max_cost
            )
        # Set, even when empty, so that Strawberry does not validate again.
        context.pre_execution_errors = list(errors)
        yield


# 1. THE SHAPE
# ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Measure:
    """Of a selection set, with every fragment spread inside it expanded."""

    depth: int = 0  # fields with a selection set on the longest path (introspection: none)
    aliases: int = 0
    selections: int = 0  # fields
    deepest: Node | None = None  # the selection the longest path starts with


@dataclass(eq=False)
class Shape:
    """A document, measured. ``order`` lists its fragments so that each comes after the
    fragments it spreads (when there is no cycle)."""

    document: DocumentNode
    operations: list[OperationDefinitionNode]
    fragments: dict[str, FragmentDefinitionNode]
    spreads: dict[str, set[str]]
    order: list[str]
    has_cycle: bool
    measures: dict[str, _Measure] = field(default_factory=dict)
    # id(operation) -> what its cost walk visits (:func:`_cost_plan`), made at its first run.
    cost_plans: dict[int, _CostPlan] = field(default_factory=dict)

    def reachable(self, roots: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        stack = [name for name in roots if name in self.fragments]
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(n for n in self.spreads[name] if n in self.fragments)
        return seen


def measure(document: DocumentNode) -> Shape:
    """Measure ``document``: each fragment once, in ``order``, then each operation."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments.setdefault(definition.name.value, definition)
    spreads = {name: _spread_names(f.selection_set) for name, f in fragments.items()}
    order, has_cycle = _dependency_order(spreads)
    shape = Shape(document, operations, fragments, spreads, order, has_cycle)
    for name in order:
        shape.measures[name] = _measure(fragments[name].selection_set, shape.measures)
    return shape


def _spread_names(selection_set: SelectionSetNode) -> set[str]:
    names: set[str] = set()
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.add(selection.name.value)
            elif selection.selection_set is not None:
                stack.append(selection.selection_set)
    return names


def _dependency_order(spreads: Mapping[str, set[str]]) -> tuple[list[str], bool]:
    """Fragments in post-order (each after those it spreads), and whether spreads form a cycle;
    iterative, as a chain of spreads may be longer than Python's recursion limit."""
    order: list[str] = []
    state: dict[str, bool] = {}  # False: on the current path; True: done
    has_cycle = False
    for root in spreads:
        if root in state:
            continue
        state[root] = False
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(spreads[root]))]
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[name] = True
                order.append(name)
            elif child in spreads:
                if child not in state:
                    state[child] = False
                    stack.append((child, iter(spreads[child])))
                elif state[child] is False:
                    has_cycle = True
    return order, has_cycle


def _measure(selection_set: SelectionSetNode, fragments: Mapping[str, _Measure]) -> _Measure:
    """Recursive in the nesting of selection sets only, which the parser bounds (200)."""
    depth = aliases = selections = 0
    deepest: Node | None = None
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            # Unknown fragments and cycles measure nothing here; graphql-core's rules refuse them.
            inner = fragments.get(selection.name.value, _Measure())
            inner_depth = inner.depth
        else:
            inner = _Measure()
            if selection.selection_set is not None:
                inner = _measure(selection.selection_set, fragments)
            inner_depth = inner.depth
            if isinstance(selection, FieldNode):
                selections += 1
                aliases += selection.alias is not None
                is_introspection = selection.name.value.startswith("__")
                has_children = selection.selection_set is not None
                inner_depth = 1 + inner.depth if has_children and not is_introspection else 0
        aliases += inner.aliases
        selections += inner.selections
        if inner_depth > depth or deepest is None:
            depth, deepest = max(depth, inner_depth), selection
    return _Measure(depth, min(aliases, CEILING), min(selections, CEILING), deepest)


def checked_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    limits: ShapeLimits,
) -> tuple[Shape, tuple[GraphQLError, ...]]:
    """The document measured, and its errors: of its shape if any (graphql-core's rules do not
    run then), else graphql-core's. Cached per document object: the parser cache hands out the
    same one for the same text."""
    return _checked_document(schema, _Same(document), rules, limits)


class _Same:
    """A document as a cache key, compared by identity. graphql-core's nodes are frozen
    dataclasses, so hashing a document walks the whole tree (~20 us for the benchmark's page,
    on every request)."""

    __slots__ = ("document",)

    def __init__(self, document: DocumentNode) -> None:
        self.document = document

    def __hash__(self) -> int:
        return id(self.document)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.document is self.document


@lru_cache(maxsize=128)
def _checked_document(
    schema: GraphQLSchema,
    key: _Same,
    rules: tuple[type[ASTValidationRule], ...],
    limits: ShapeLimits,
) -> tuple[Shape, tuple[GraphQLError, ...]]:
    document = key.document
    shape = measure(document)
    if shape.has_cycle:
        # The cheap standard rule says it best; the expansion below assumes there is none.
        return shape, tuple(validate(schema, document, [NoFragmentCyclesRule]))
    errors = shape_errors(shape, limits)
    if errors:
        return shape, tuple(errors)
    return shape, tuple(validate_document(schema, document, rules))


def shape_errors(shape: Shape, limits: ShapeLimits) -> list[GraphQLError]:
    errors = []
    aliases = selections = 0
    for operation in shape.operations:
        measured = _measure(operation.selection_set, shape.measures)
        aliases = min(aliases + measured.aliases, CEILING)
        selections = min(selections + measured.selections, CEILING)
        if measured.depth > limits.max_depth:
            name = operation.name.value if operation.name else "anonymous"
            errors.append(
                GraphQLError(
                    f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
                    measured.deepest,
                    extensions=_VALIDATION_FAILED,
                )
            )
    if aliases > limits.max_aliases:
        errors.append(
            GraphQLError(
                f"{aliases} aliases found. Allowed: {limits.max_aliases}",
                extensions=_VALIDATION_FAILED,
            )
        )
    # graphql-core's rules also check fragments no operation uses: count each of those that no
    # fragment spreads either as if it were spread once (the others are inside them).
    used = shape.reachable(n for op in shape.operations for n in _spread_names(op.selection_set))
    spread = set().union(*shape.spreads.values())
    unused = [name for name in shape.order if name not in used and name not in spread]
    selections = min(selections + sum(shape.measures[n].selections for n in unused), CEILING)
    if selections > limits.max_selections:
        errors.append(
            GraphQLError(
                f"The document selects {selections} fields once its fragments are expanded; "
                f"the limit is {limits.max_selections}.",
                extensions={
                    **_VALIDATION_FAILED,
                    "selections": selections,
                    "maxSelections": limits.max_selections,
                },
            )
        )
        return errors  # too big to expand for the next check
    roots = [op.selection_set for op in shape.operations]
    roots += [shape.fragments[name].selection_set for name in unused]
    overlaps = _overlaps(roots, shape.fragments)
    if overlaps.pairs > limits.max_overlaps:
        assert overlaps.field is not None
        text = (
            f"The document selects the same things again too often: {overlaps.pairs} pairs of "
            f"fields or fragments meet in one place; the limit is {limits.max_overlaps}."
        )
        if overlaps.repeats > 1:
            name = _response_name(overlaps.field)
            text += f" `{name}` alone is selected {overlaps.repeats} times in one place."
        errors.append(
            GraphQLError(
                text,
                overlaps.field,
                extensions={
                    **_VALIDATION_FAILED,
                    "overlaps": overlaps.pairs,
                    "maxOverlaps": limits.max_overlaps,
                },
            )
        )
    return errors


@dataclass
class _Overlaps:
    """Pairs of selections that meet in one place of the response: two fields with the same
    response name, or two fragments spread there. graphql-core's OverlappingFieldsCanBeMerged
    compares each such pair, so this is the size of its work."""

    pairs: int = 0
    field: FieldNode | None = None  # of the most repeated response field
    repeats: int = 0


def _overlaps(
    roots: Sequence[SelectionSetNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> _Overlaps:
    """Merge the selections of each place as execution does, fragments expanded, and count the
    pairs. Linear in the expanded size, which the selection limit bounds; there is no cycle."""
    found = _Overlaps()
    pending: list[list[SelectionSetNode]] = [[root] for root in roots]
    while pending:
        groups: dict[str, list[FieldNode]] = {}
        spreads = 0
        stack = pending.pop()
        while stack:
            for selection in stack.pop().selections:
                if isinstance(selection, FieldNode):
                    groups.setdefault(_response_name(selection), []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    stack.append(selection.selection_set)
                elif (fragment := fragments.get(selection.name.value)) is not None:
                    spreads += 1
                    stack.append(fragment.selection_set)
        found.pairs += spreads * (spreads - 1) // 2
        for fields in groups.values():
            found.pairs += len(fields) * (len(fields) - 1) // 2
            if len(fields) > found.repeats:
                found.field, found.repeats = fields[0], len(fields)
            children = [f.selection_set for f in fields if f.selection_set is not None]
            if children:
                pending.append(children)
    return found


def _response_name(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


# 3. THE ARGUMENTS: TEXT, LENGTHS, PAGE SIZES AND COST
# ------------------------------------------------------------------------------


def operation_errors(
    schema: GraphQLSchema,
    shape: Shape,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    *,
    max_cost: int,
) -> list[GraphQLError]:
    """The refusals of the operation that will run, with its variables coerced; none when it
    cannot run at all (no such operation, variables of the wrong type), which execution
    reports."""
    operation = get_operation_ast(shape.document, operation_name)
    root = schema.get_root_type(operation.operation) if operation else None
    if operation is None or root is None:
        return []
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if not isinstance(coerced, VariableValues):
        return []
    plan = shape.cost_plans.get(id(operation))
    if plan is None:
        plan = shape.cost_plans[id(operation)] = _cost_plan(schema, shape, operation, root)
    walk = _ArgumentWalk(coerced)
    for name, counted in plan.fragments:
        walk.fragment_costs[name] = walk.cost(counted)
    cost = walk.cost(plan.operation)
    if cost > max_cost:
        walk.errors.append(
            GraphQLError(
                f"This operation may return up to {cost} objects; the limit is "
                f"{max_cost}. Ask for smaller pages (`first`) or nest fewer lists.",
                operation,
                extensions={
                    "code": ErrorCode.QUERY_TOO_COMPLEX.value,
                    "cost": cost,
                    "maxCost": max_cost,
                },
            )
        )
    return walk.errors


@dataclass(frozen=True, slots=True)
class _Counted:
    """A field that takes arguments (their text is checked, ``first`` multiplies), with the
    fields inside it that take arguments too."""

    node: FieldNode
    definition: GraphQLField
    paginated: bool
    inner: _Counts


# What a selection set's cost depends on, in document order: its fields that take arguments,
# and (by name) the fragments it spreads; fields without arguments count what is inside them, so
# they are left out and what is inside them is listed in their place.
_Counts = tuple["_Counted | str", ...]


@dataclass(frozen=True, slots=True)
class _CostPlan:
    """An operation's counts, and those of the fragments it reaches, each fragment after those
    it spreads. Depends on the document alone, so it is made once per document and operation;
    the arguments are read for each run."""

    fragments: tuple[tuple[str, _Counts], ...]
    operation: _Counts


def _cost_plan(
    schema: GraphQLSchema, shape: Shape, operation: OperationDefinitionNode, root: GraphQLObjectType
) -> _CostPlan:
    fragments = []
    for name in _ordered(shape, shape.reachable(_spread_names(operation.selection_set))):
        fragment = shape.fragments[name]
        parent = schema.get_type(fragment.type_condition.name.value)
        fragments.append((name, _counts(schema, fragment.selection_set, parent)))
    return _CostPlan(tuple(fragments), _counts(schema, operation.selection_set, root))


def _counts(
    schema: GraphQLSchema, selections: SelectionSetNode, parent: GraphQLNamedType | None
) -> _Counts:
    """Recursive in the nesting of selection sets only, which the parser bounds (200)."""
    counts: list[_Counted | str] = []
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                continue
            definition = parent.fields.get(selection.name.value)
            if definition is None:
                continue  # __typename and introspection
            inner: _Counts = ()
            if selection.selection_set:
                inner = _counts(schema, selection.selection_set, get_named_type(definition.type))
            if definition.args:
                paginated = PAGE_ARGUMENT in definition.args
                counts.append(_Counted(selection, definition, paginated, inner))
            else:
                counts.extend(inner)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            counts.extend(_counts(schema, selection.selection_set, target))
        else:
            counts.append(selection.name.value)
    return tuple(counts)


def _ordered(shape: Shape, names: set[str]) -> list[str]:
    return [name for name in shape.order if name in names]


class _ArgumentWalk:
    """Visits each field of an operation that takes arguments once (a fragment's once, before
    the operation's), with its arguments as execution will see them."""

    def __init__(self, variables: VariableValues) -> None:
        self.variables = variables
        self.fragment_costs: dict[str, int] = {}
        self.errors: list[GraphQLError] = []

    def cost(self, counts: _Counts) -> int:
        """Of a selection set inside a multiplier of one."""
        total = 0
        for counted in counts:
            if isinstance(counted, str):
                total += self.fragment_costs.get(counted, 0)
            else:
                total += self._field(counted)
        return min(total, CEILING)

    def _field(self, counted: _Counted) -> int:
        node = counted.node
        try:
            arguments = get_argument_values(counted.definition, node, self.variables)
        except GraphQLError:
            return 0  # a null for a non-null argument: execution refuses the field and subtree
        for name, value in arguments.items():
            if not self._check_text(node, name, value):
                break
        if not counted.paginated:
            return self.cost(counted.inner)
        size = self._page_size(node, arguments.get(PAGE_ARGUMENT))
        return min(size * (1 + self.cost(counted.inner)), CEILING)

    def _page_size(self, node: FieldNode, size: int | None) -> int:
        maximum = inputs.page_size_max()
        if size is None:
            return maximum
        try:
            return inputs.page_size(size)
        except InvalidInput:
            self.errors.append(
                GraphQLError(
                    f"`{PAGE_ARGUMENT}` on `{node.name.value}` must be between 1 and "
                    f"{maximum}, not {size}.",
                    node,
                    extensions={"code": ErrorCode.BAD_USER_INPUT.value},
                )
            )
            return max(1, min(size, maximum))

    def _check_text(self, node: FieldNode, path: str, value: Any) -> bool:
        """Whether the strings in the argument at ``path`` may reach the domain: text that
        PostgreSQL can store, no longer than the domain allows. Reports the first that may not."""
        if isinstance(value, Mapping):
            return all(self._check_text(node, f"{path}.{k}", v) for k, v in value.items())
        if isinstance(value, list | tuple):
            return all(self._check_text(node, path, item) for item in value)
        if not isinstance(value, str):
            return True
        name = domain_name(path.rpartition(".")[2])
        problem = inputs.text_problem(value) or inputs.length_problem(name, value)
        if problem:
            self.errors.append(
                GraphQLError(
                    f"`{path}` on `{node.name.value}`: {problem}",
                    node,
                    extensions={
                        "code": ErrorCode.BAD_USER_INPUT.value,
                        "fields": {path: [problem]},
                    },
                )
            )
        return problem is None
