"""``obtainToken`` at most once per operation.

Each ``obtainToken`` runs a password check, so aliases (``a: obtainToken(...) b: obtainToken(...)``)
would turn one request into many guesses; the login throttle would count them all, but one
request should not be able to spend a whole allowance (or a thread per guess). Fields are
collected the way GraphQL executes them: two selections with the same response name merge into
one call. Each fragment is read once, however often it is spread, so the rule is linear in the
document's size.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
)

FIELD = "obtainToken"


class OneObtainTokenPerOperation(ValidationRule):
    def __init__(self, context: Any) -> None:
        super().__init__(context)
        # A fragment's calls, shared by every operation of the document.
        self._fragments: dict[str, frozenset[str]] = {}

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        if node.operation != OperationType.MUTATION:
            return
        calls = self._calls(node.selection_set, set())
        if len(calls) > 1:
            self.report_error(
                GraphQLError(
                    f"`{FIELD}` may be asked for once per operation, not {len(calls)} times.",
                    node,
                )
            )

    def _calls(self, selections: SelectionSetNode, entered: set[str]) -> frozenset[str]:
        """The response names of the ``obtainToken`` calls at this level (two at most: more
        need not be told apart), reading each fragment once."""
        calls: set[str] = set()
        for selection in selections.selections:
            if len(calls) > 1:
                break
            if isinstance(selection, FieldNode):
                if selection.name.value == FIELD:
                    calls.add((selection.alias or selection.name).value)
            elif isinstance(selection, InlineFragmentNode):
                calls |= self._calls(selection.selection_set, entered)
            elif isinstance(selection, FragmentSpreadNode):
                calls |= self._fragment(selection.name.value, entered)
        return frozenset(sorted(calls)[:2])

    def _fragment(self, name: str, entered: set[str]) -> frozenset[str]:
        if name in self._fragments:
            return self._fragments[name]
        fragment: FragmentDefinitionNode | None = self.context.get_fragment(name)
        if fragment is None or name in entered:
            return frozenset()  # unknown or cyclic: reported by the standard rules
        entered.add(name)
        self._fragments[name] = self._calls(fragment.selection_set, entered)
        return self._fragments[name]
