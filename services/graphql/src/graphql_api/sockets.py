"""This process's WebSockets: how many are open (caps per process and per client address), and
which are signed in with a token, so that they can be closed when that access ends.

A WebSocket is signed in once, at ``connection_init``, and may stay open for hours. Its token is
checked again:

* when the accounts app announces that the user's access changed (a token revoked or deleted, the
  user deactivated or deleted, their permissions changed: :mod:`domain.accounts.events`);
* before each new operation on it, so the next operation after a revocation is refused even if
  that announcement never came;
* every ``recheck_interval`` seconds, for every signed-in socket of the process (tokens that
  expire, writes that send no signal, announcements lost while Redis was down).

A token that no longer authenticates the same user closes the socket with 4403 and ends its
subscriptions; one that still does refreshes the viewer (fresh permissions).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import Any, Protocol

from starlette.websockets import WebSocket, WebSocketState
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from domain import db
from domain.accounts.services import token_authenticate
from domain.errors import Unavailable
from graphql_api.context import Context
from graphql_api.errors import graphql_error

logger = logging.getLogger(__name__)

REVOKED_CODE, REVOKED_REASON = 4403, "Forbidden: the credentials are no longer valid"
# RFC 6455 "Try Again Later" (1013), which graphql-ws clients retry with backoff.
FULL_CODE = 1013


class SignedInConnection(Protocol):
    """What :class:`Sockets` needs of a signed-in graphql-transport-ws connection."""

    @property
    def token(self) -> str: ...

    @property
    def user_id(self) -> int: ...

    def refresh(self, user: Any) -> None: ...

    async def end(self, code: int, reason: str) -> None: ...


Authenticate = Callable[[Collection[str]], Awaitable[dict[str, Any]]]


def _users_of(tokens: Iterable[str]) -> dict[str, Any]:
    return {token: token_authenticate(token) for token in tokens}


async def authenticate_tokens(tokens: Collection[str]) -> dict[str, Any]:
    """The user each token authenticates now (``None`` if none), in one trip to a DB thread."""
    return await db.run(_users_of, tokens)


class Sockets:
    def __init__(
        self,
        *,
        max_open: int,
        max_per_address: int,
        recheck_interval: float,
        authenticate: Authenticate = authenticate_tokens,
    ) -> None:
        self.max_open = max_open
        self.max_per_address = max_per_address
        self.recheck_interval = recheck_interval
        self.authenticate = authenticate
        self.open = 0
        self._per_address: Counter[str] = Counter()
        self._signed_in: defaultdict[int, set[SignedInConnection]] = defaultdict(set)
        self._sweeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ADMISSION (graphql_api.middleware.WebSocketAdmissionMiddleware)
    # --------------------------------------------------------------------------

    def admit(self, address: str) -> str | None:
        """Count a new socket from ``address`` in, or say why not (the close reason)."""
        if self.open >= self.max_open:
            return "Too many WebSocket connections on this server; try again later"
        if self._per_address[address] >= self.max_per_address:
            return "Too many WebSocket connections from this address"
        self.open += 1
        self._per_address[address] += 1
        return None

    def release(self, address: str) -> None:
        self.open -= 1
        self._per_address[address] -= 1
        if self._per_address[address] <= 0:
            del self._per_address[address]

    def open_from(self, address: str) -> int:
        return self._per_address.get(address, 0)

    # SIGNED-IN CONNECTIONS
    # --------------------------------------------------------------------------

    def signed_in(self, connection: SignedInConnection) -> None:
        self._signed_in[connection.user_id].add(connection)
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep(), name="websocket-recheck")

    def closed(self, connection: SignedInConnection) -> None:
        connections = self._signed_in.get(connection.user_id)
        if connections is None:
            return
        connections.discard(connection)
        if not connections:
            del self._signed_in[connection.user_id]

    def signed_in_count(self, user_id: int | None = None) -> int:
        if user_id is not None:
            return len(self._signed_in.get(user_id, ()))
        return sum(len(connections) for connections in self._signed_in.values())

    def access_changed(self, user_id: int) -> None:
        """Re-check, soon, the sockets of ``user_id`` (an :class:`AccessChanged` event)."""
        connections = list(self._signed_in.get(user_id, ()))
        if connections:
            task = asyncio.create_task(self._recheck_quietly(connections))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def recheck(self, connections: Collection[SignedInConnection]) -> list[bool]:
        """Close each connection whose token no longer authenticates its user, refresh the
        viewer of the others; whether each is still open. :class:`Unavailable` if the database
        cannot tell."""
        users = await self.authenticate({connection.token for connection in connections})
        still_open = []
        for connection in connections:
            user = users.get(connection.token)
            if user is None or user.pk != connection.user_id:
                logger.info("closing a WebSocket of user %s: access ended", connection.user_id)
                self.closed(connection)
                await connection.end(REVOKED_CODE, REVOKED_REASON)
                still_open.append(False)
            else:
                connection.refresh(user)
                still_open.append(True)
        return still_open

    async def _recheck_quietly(self, connections: Collection[SignedInConnection]) -> None:
        """:meth:`recheck` in the background: a failure is logged, and the sweep tries again."""
        try:
            await self.recheck(connections)
        except Unavailable:
            logger.warning(
                "could not re-check %s WebSocket(s): the database is unavailable",
                len(connections),
            )
        except Exception:
            logger.exception("re-checking %s WebSocket(s) failed", len(connections))

    async def _sweep(self) -> None:
        # Ends by itself once no signed-in socket is left (signed_in() starts another).
        while self._signed_in:
            await asyncio.sleep(self.recheck_interval)
            connections = [c for group in self._signed_in.values() for c in group]
            if connections:
                await self._recheck_quietly(connections)

    async def stop(self) -> None:
        """Cancel the background re-checks (at shutdown)."""
        tasks = [*self._tasks, *([self._sweeper] if self._sweeper else [])]
        self._sweeper = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, and a signed-in connection's access kept current: the connection is
    known to the process's :class:`Sockets` (which closes it when its access ends), and each new
    operation on it re-checks its token first."""

    view: Any  # the GraphQLView, which holds the process's Sockets

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            self.view.sockets.closed(self)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.context.token is not None:
            self.view.sockets.signed_in(self)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and self.context.token is not None:
            try:
                (still_open,) = await self.view.sockets.recheck([self])
            except Unavailable as error:
                payload = [graphql_error(error).formatted]
                await self.send_message({"id": message["id"], "type": "error", "payload": payload})
                return
            if not still_open:
                return
        await super().handle_subscribe(message)

    # SignedInConnection
    @property
    def token(self) -> str:
        assert self.context.token is not None
        return self.context.token

    @property
    def user_id(self) -> int:
        return self.context.user.pk

    def refresh(self, user: Any) -> None:
        self.context.user = user

    async def end(self, code: int, reason: str) -> None:
        """End every operation, then close the socket (unless it is closed already)."""
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        socket: WebSocket = self.websocket.ws  # type: ignore[attr-defined]
        if WebSocketState.DISCONNECTED not in (socket.application_state, socket.client_state):
            await self.websocket.close(code, reason)
