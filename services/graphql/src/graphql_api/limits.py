"""Limits on what one operation may ask for, checked before anything runs.

* depth, aliases and tokens: Strawberry's own limiters (:func:`static_rules`, ``MaxTokensLimiter``);
* size: every ``first`` argument lies between 1 and ``PAGE_SIZE_MAX``;
* cost: the number of objects an operation may return, counting each paginated field as its
  ``first`` multiplied by the ``first`` of every paginated field around it. So
  ``posts(first: 50) { edges { node { comments(first: 10) { ... } } } }`` costs 50 + 50 x 10 = 550.
  Unpaginated lists (a post's tags, at most 10; a category's children) count as one.

The cost depends on the operation's variables, so its rule is made for each set of integer
variables (and remembered, so Strawberry's ValidationCache still hits for repeated requests).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from graphql.pyutils import Undefined
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from graphql_api.config import Config
from graphql_api.errors import ErrorCode

PAGE_ARGUMENT = "first"


def static_rules(config: Config) -> list[type[ASTValidationRule]]:
    """Depth, aliases and (when off) introspection, as rule classes made once per schema, so
    validation results can be cached."""
    rules = [
        *QueryDepthLimiter(max_depth=config.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=config.max_aliases).validation_rules,
    ]
    if not config.introspection:
        rules += DisableIntrospection().validation_rules
    return rules


class QueryCostLimiter(SchemaExtension):
    """Refuse operations whose cost exceeds ``max_cost`` or whose page sizes are out of range."""

    def __init__(self, *, max_cost: int, max_page_size: int) -> None:
        self.max_cost = max_cost
        self.max_page_size = max_page_size

    def on_operation(self) -> Iterator[None]:
        variables = self.execution_context.variables or {}
        integers = frozenset(
            (name, value)
            for name, value in variables.items()
            if isinstance(value, int) and not isinstance(value, bool)
        )
        rule = cost_rule(self.max_cost, self.max_page_size, integers)
        self.execution_context.validation_rules = (*self.execution_context.validation_rules, rule)
        yield


@lru_cache(maxsize=256)
def cost_rule(
    max_cost: int, max_page_size: int, variables: frozenset[tuple[str, int]]
) -> type[ValidationRule]:
    values = dict(variables)

    class QueryCostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            root = self.context.schema.get_root_type(node.operation)
            if root is None:
                return
            defaults = {
                definition.variable.name.value: definition.default_value
                for definition in node.variable_definitions or ()
            }
            walk = _CostWalk(self, {**_literal_ints(defaults), **values}, max_page_size)
            cost = walk.cost(node.selection_set, root, 1, frozenset())
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"This operation may return up to {cost} objects; the limit is "
                        f"{max_cost}. Ask for smaller pages (`first`) or nest fewer lists.",
                        node,
                        extensions={
                            "code": ErrorCode.QUERY_TOO_COMPLEX.value,
                            "cost": cost,
                            "maxCost": max_cost,
                        },
                    )
                )

    return QueryCostRule


def _literal_ints(nodes: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(node.value) for name, node in nodes.items() if isinstance(node, IntValueNode)}


class _CostWalk:
    """Walks an operation's selections (through fragments) adding up paginated fields."""

    def __init__(
        self, rule: ValidationRule, variables: Mapping[str, int], max_page_size: int
    ) -> None:
        self.rule = rule
        self.variables = variables
        self.max_page_size = max_page_size
        self.reported: set[int] = set()

    def cost(
        self,
        selections: SelectionSetNode,
        parent: GraphQLNamedType | None,
        multiplier: int,
        fragments: frozenset[str],
    ) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, multiplier, fragments)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self._type(condition.name.value) if condition else parent
                total += self.cost(selection.selection_set, target, multiplier, fragments)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.rule.context.get_fragment(name)
                if fragment is None or name in fragments:
                    continue  # reported by the standard rules
                target = self._type(fragment.type_condition.name.value)
                total += self.cost(fragment.selection_set, target, multiplier, fragments | {name})
        return total

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        multiplier: int,
        fragments: frozenset[str],
    ) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0  # reported by the standard rules
        total = 0
        if PAGE_ARGUMENT in definition.args:
            multiplier *= self._page_size(node, definition)
            total += multiplier
        if node.selection_set:
            child = get_named_type(definition.type)
            total += self.cost(node.selection_set, child, multiplier, fragments)
        return total

    def _page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        size = definition.args[PAGE_ARGUMENT].default_value
        for argument in node.arguments or ():
            if argument.name.value != PAGE_ARGUMENT:
                continue
            if isinstance(argument.value, IntValueNode):
                size = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                size = self.variables.get(argument.value.name.value, size)
        if size is None or size is Undefined:
            return self.max_page_size
        if not 1 <= size <= self.max_page_size and id(node) not in self.reported:
            self.reported.add(id(node))
            self.rule.report_error(
                GraphQLError(
                    f"`first` on `{node.name.value}` must be between 1 and "
                    f"{self.max_page_size}, not {size}.",
                    node,
                    extensions={"code": ErrorCode.BAD_USER_INPUT.value},
                )
            )
        return max(1, min(size, self.max_page_size))

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.rule.context.schema.get_type(name)
