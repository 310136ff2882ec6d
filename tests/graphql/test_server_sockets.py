"""WebSockets on a real uvicorn server (``python -m graphql_api``): a socket over the per-address
cap is closed with 1013, a socket whose token is revoked is closed with 4403 (uvicorn completing
the close handshake, the handler ending), and neither leaves a traceback in the server's output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from domain.accounts.models import ApiToken
from domain.accounts.services import token_issue
from domain.blog.services.comments import comment_add
from tests import factories
from tests.serving import server, service_env

pytestmark = pytest.mark.django_db(transaction=True)


def opened(url: str) -> ClientConnection:
    return connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5)  # type: ignore[list-item]


@contextmanager
def signed_in(url: str, token: str | None = None) -> Iterator[ClientConnection]:
    with opened(url) as ws:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(ws.recv(timeout=5)) == {"type": "connection_ack"}
        yield ws


def close_of(ws: ClientConnection) -> tuple[int, str]:
    """Read until the server closes (past anything still on its way): its code and reason."""
    for _ in range(100):
        try:
            ws.recv(timeout=5)
        except ConnectionClosed as closed:
            frame = closed.rcvd  # None if the connection dropped without a close frame
            return (frame.code, frame.reason) if frame else (1006, "")
    raise AssertionError("the socket stayed open")


def test_caps_and_revocation_close_sockets_cleanly_on_uvicorn(user: Any, other_user: Any):
    factories.make_post(user, "Served for real")
    token = token_issue(user=user).token
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    env = service_env(
        SERVICE_NAME="graphql",
        CACHE_KEY_PREFIX=prefix,
        LOG_LEVEL="INFO",
        GRAPHQL_WS_MAX_PER_ADDRESS="1",
    )
    with server(["-m", "graphql_api"], env=env, probe="/graphql/health/live") as running:
        url = running.url.replace("http://", "ws://") + "/graphql"
        with signed_in(url, token) as ws:
            with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5) as second:  # type: ignore[list-item]
                assert close_of(second) == (
                    1013,
                    "Too many WebSocket connections from this address",
                )

            subscription = 'subscription { commentAdded(postSlug: "served-for-real") { body } }'
            ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": subscription}})
            )
            for attempt in range(50):  # registered once it hears a comment
                comment_add(author=other_user, post_slug="served-for-real", body=f"Hi {attempt}")
                try:
                    assert json.loads(ws.recv(timeout=0.2))["type"] == "next"
                    break
                except TimeoutError:
                    continue
            else:
                pytest.fail("no comment reached the subscriber")

            record = ApiToken.objects.get(prefix=token[:12])
            record.revoked_at = timezone.now()
            record.save()  # as the admin's change form does
            assert close_of(ws) == (4403, "Forbidden: the credentials are no longer valid")

        # The socket's place is free again once the handler has ended.
        with signed_in(url):
            pass
    assert "Traceback" not in running.output, running.output
    assert "websocket refused: Too many WebSocket connections from this address" in running.output
