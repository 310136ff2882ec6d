"""The per-request context every resolver receives (``info.context``).

The viewer is resolved once per HTTP request from its ``Authorization: Bearer`` header, and once
per WebSocket connection from the ``connection_init`` payload's ``Authorization`` entry, by the same
domain function the REST service uses. A token that is sent but unusable is not silently treated as
anonymous: HTTP operations fail with ``UNAUTHENTICATED`` (see :class:`OperationContext`); a
WebSocket is closed with 4403.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import strawberry
from django.contrib.auth.models import AnonymousUser
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from domain.asgi.auth import authenticate_bearer, bearer_token
from domain.asgi.http_cache import SCOPE_HEADER
from domain.errors import DomainError
from graphql_api.dataloaders import Loaders
from graphql_api.errors import graphql_error
from graphql_api.pubsub import CommentFeed


@dataclass(eq=False, kw_only=True)
class Context:
    request: Request | WebSocket
    response: Response | WebSocket
    feed: CommentFeed
    user: Any = field(default_factory=AnonymousUser)
    # The bearer token the viewer was resolved from (revokeToken defaults to it).
    token: str | None = None
    # Credentials that were sent but could not be used; the operation fails with it.
    credentials_error: DomainError | None = None
    loaders: Loaders = field(default_factory=lambda: Loaders(AnonymousUser()))
    # Filled from connection_init by Strawberry's WebSocket handler.
    connection_params: dict[str, Any] | None = None

    @property
    def client_ip(self) -> str:
        """The client's address (the gateway's X-Forwarded-For, trusted by uvicorn)."""
        client = self.request.client
        return client.host if client else "unknown"

    async def authenticate(self, authorization: str | None) -> None:
        """Resolve the viewer from an ``Authorization`` value; call once per request."""
        try:
            self.user = await authenticate_bearer(authorization)
            self.token = bearer_token(authorization)
        except DomainError as error:
            self.credentials_error = error

    def renew_loaders(self) -> None:
        """Start with empty DataLoaders: per operation, and per subscription event."""
        self.loaders = Loaders(self.user)


Info: TypeAlias = strawberry.Info[Context, None]


class OperationContext(SchemaExtension):
    """Per operation: fresh DataLoaders (a WebSocket's operations share one context, and
    nothing may be cached from one to the next), no execution if the credentials sent could not
    be used, and, over HTTP, who may share the response (:mod:`domain.asgi.http_cache`): a
    query's result without errors is the same for every anonymous viewer (public); anything a
    signed-in viewer reads is theirs (private); mutations are neither."""

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        if isinstance(context, Context):
            context.renew_loaders()
        yield
        if not isinstance(context, Context) or isinstance(context.response, WebSocket):
            return
        result = execution.result
        if result is None or result.errors or execution.operation_type != OperationType.QUERY:
            return
        anonymous = context.credentials_error is None and not context.user.is_authenticated
        context.response.headers[SCOPE_HEADER.decode()] = "public" if anonymous else "private"

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.credentials_error is not None:
            raise graphql_error(context.credentials_error)
        yield
