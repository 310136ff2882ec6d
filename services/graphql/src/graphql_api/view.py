"""The ASGI endpoint at ``/graphql``: queries (by POST, or by GET, with Automatic Persisted Queries)
and mutations over HTTP, subscriptions over WebSocket (graphql-transport-ws only), and GraphiQL on
``GET`` when enabled."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from domain import inputs
from domain.errors import Unavailable
from graphql_api import persisted
from graphql_api.config import Config
from graphql_api.context import Context
from graphql_api.errors import is_outage
from graphql_api.pubsub import CommentFeed
from graphql_api.sockets import Sockets, TransportWSHandler


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self, schema: BaseSchema, *, config: Config, feed: CommentFeed, sockets: Sockets
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if config.graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=config.ws_init_timeout),
            max_subscriptions_per_connection=config.max_subscriptions,
        )
        self.feed = feed
        self.sockets = sockets
        self.config = config

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = Context(request=request, response=response, feed=self.feed)
        if not self.is_websocket_request(request):
            await context.authenticate(request.headers.get("authorization"))
        return context

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET that names a persisted query by hash has no `query` parameter either.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def execute_single(  # type: ignore[override]
        self, *, request_data: GraphQLRequestData, **kwargs: Any
    ) -> ExecutionResult:
        """Execute one operation, its query taken from the persisted-query store when the
        request names one by hash (:mod:`graphql_api.persisted`). A query or operation name
        that is not text (a lone surrogate from JSON) is refused here: nothing could hash, store
        or even echo it; variables are checked with the arguments (:mod:`graphql_api.limits`)."""
        if inputs.has_unstorable_text([request_data.query, request_data.operation_name]):
            refusal = GraphQLError(inputs.NOT_TEXT, extensions={"code": "BAD_USER_INPUT"})
            return ExecutionResult(data=None, errors=[refusal])
        try:
            request_data = await persisted.resolve(request_data, ttl=self.config.apq_ttl)
        except persisted.PersistedQueryError as refusal:
            return ExecutionResult(data=None, errors=[refusal.error])
        return await super().execute_single(request_data=request_data, **kwargs)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Sign the connection in from ``connection_init``'s ``{"Authorization": "Bearer ..."}``;
        unusable credentials close it with 4403."""
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        if authorization is not None and not isinstance(authorization, str):
            raise ConnectionRejectionError()
        await context.authenticate(authorization)
        if context.credentials_error is not None:
            raise ConnectionRejectionError()
        return UNSET

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        if isinstance(response_data, Mapping) and is_outage(response_data):
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = str(Unavailable.retry_after)
        return super().create_response(response_data, sub_response)

    def encode_json(self, data: object) -> str:
        # Text, not bytes: WebSocket messages of graphql-transport-ws are text frames.
        return orjson.dumps(data).decode()
