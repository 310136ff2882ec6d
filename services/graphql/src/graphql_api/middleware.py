"""ASGI middleware of the GraphQL service (the shared ones are in :mod:`domain.asgi.middleware`)."""

from __future__ import annotations

from domain.asgi.middleware import ASGIApp, Message, Receive, Scope, Send


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
