"""The schema: each area's Query, Mutation and Subscription merged, with the limits and the error
policy as extensions (in the order they run)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import strawberry
from graphql import GraphQLError
from strawberry import extensions
from strawberry.extensions import MaxTokensLimiter, SchemaExtension
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from graphql_api.accounts.limits import OneObtainTokenPerOperation
from graphql_api.accounts.mutations import AccountsMutation
from graphql_api.accounts.queries import AccountsQuery
from graphql_api.blog.mutations import BlogMutation
from graphql_api.blog.queries import BlogQuery
from graphql_api.blog.subscriptions import BlogSubscription
from graphql_api.config import Config
from graphql_api.context import OperationContext
from graphql_api.errors import ErrorPolicy, log_unexpected
from graphql_api.executor import Executor
from graphql_api.hooks import ExtensionsRunner
from graphql_api.limits import OperationLimits

Query = merge_types("Query", (BlogQuery, AccountsQuery))
Mutation = merge_types("Mutation", (BlogMutation, AccountsMutation))
Subscription = merge_types("Subscription", (BlogSubscription,))


class ParserCache(extensions.ParserCache):
    """Strawberry's, except that a document that does not parse is left to Strawberry's own
    parser, so its error goes through the extensions (and gets its code) like any other."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


class Schema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> ExtensionsRunner:
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log what went wrong on our side; a refused request is not an error of the server."""
        log_unexpected(errors)


def build_schema(config: Config) -> Schema:
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=config.max_tokens),
        ParserCache,
        # Validation: the document's shape, graphql-core's rules and ours (cached), then the
        # arguments and the cost.
        lambda: OperationLimits(config=config, rules=(OneObtainTokenPerOperation,)),
        OperationContext,
        lambda: ErrorPolicy(mask=config.mask_errors),
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=Executor,
    )
