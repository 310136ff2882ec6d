"""ASGI middleware of the GraphQL service (the shared ones are in :mod:`domain.asgi.middleware`)."""

from __future__ import annotations

import logging

from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from domain.asgi.middleware import ASGIApp, Message, Receive, Scope, Send
from graphql_api.sockets import FULL_CODE, Sockets

logger = logging.getLogger(__name__)


class WebSocketAdmissionMiddleware:
    """Hold WebSockets to this process's caps (:meth:`Sockets.admit`: in all, and per client
    address).

    A socket over a cap is accepted and closed at once with 1013 (Try Again Later) and the reason:
    a browser can read a close code and reason, not the status of a refused handshake, and
    graphql-ws clients retry 1013 with backoff. The application never sees it.
    """

    def __init__(self, app: ASGIApp, *, sockets: Sockets) -> None:
        self.app = app
        self.sockets = sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        refusal = self.sockets.admit(address)
        if refusal is not None:
            logger.info("websocket refused: %s", refusal)
            await self._refuse(scope, receive, send, refusal)
            return
        # One line per socket as it opens (the access log line comes when it closes).
        logger.info("websocket opened (%s open on this process)", self.sockets.open)
        try:
            await self.app(scope, receive, send)
        finally:
            self.sockets.release(address)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, reason: str) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        accept: Message = {"type": "websocket.accept"}
        if GRAPHQL_TRANSPORT_WS_PROTOCOL in scope.get("subprotocols", ()):
            accept["subprotocol"] = GRAPHQL_TRANSPORT_WS_PROTOCOL
        await send(accept)
        await send({"type": "websocket.close", "code": FULL_CODE, "reason": reason})


class WebSocketMessageLimitMiddleware:
    """Close a WebSocket (1009, "message too big") whose client sends a message over
    ``max_bytes``: the body limit bounds HTTP requests only."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive":
                size = len((message.get("text") or "").encode()) + len(message.get("bytes") or b"")
                if size > self.max_bytes:
                    await send(
                        {"type": "websocket.close", "code": 1009, "reason": "Message too big"}
                    )
                    return {"type": "websocket.disconnect", "code": 1009}
            return message

        await self.app(scope, limited_receive, send)
