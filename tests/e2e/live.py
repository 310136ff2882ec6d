"""Live comments through the gateway: a graphql-transport-ws subscriber, and the way a test knows
that subscribers are registered before it writes the comment they must hear.

graphql-transport-ws does not acknowledge a subscription, so a test cannot tell when the server
has registered it. Instead of sleeping and hoping, :func:`until_all_hear_a_probe` writes probe
comments through REST until every subscriber has heard one: from then on each is registered, and
the next comment is heard by all of them or the feature is broken.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import websockets

from tests.e2e.stack import Stack

COMMENT_ADDED = (
    "subscription ($slug: String!) { commentAdded(postSlug: $slug) { body author { username } } }"
)
PROBE = "probe:"


class Subscriber:
    """One WebSocket through the gateway, signed in, with its own X-Request-ID (which the
    replica that takes it logs as the socket opens)."""

    def __init__(self, socket: Any, request_id: str) -> None:
        self.socket = socket
        self.request_id = request_id

    @classmethod
    async def connect(cls, stack: Stack, auth: dict[str, str]) -> Subscriber:
        request_id = f"live-{uuid.uuid4().hex}"
        socket = await websockets.connect(
            stack.base_url.replace("http://", "ws://") + "/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers={"X-Request-ID": request_id},
        )
        await socket.send(json.dumps({"type": "connection_init", "payload": auth}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 15))["type"] == "connection_ack"
        return cls(socket, request_id)

    async def subscribe(self, slug: str) -> None:
        payload = {"query": COMMENT_ADDED, "variables": {"slug": slug}}
        await self.socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))

    async def next_comment(self, seconds: float) -> dict[str, Any]:
        """The next message, a comment, within ``seconds`` (else TimeoutError)."""
        message = json.loads(await asyncio.wait_for(self.socket.recv(), seconds))
        assert message["type"] == "next", message
        return message["payload"]["data"]["commentAdded"]

    async def next_real_comment(self, seconds: float = 15) -> dict[str, Any]:
        """The next comment that is not a probe (each message within ``seconds``)."""
        while True:
            comment = await self.next_comment(seconds)
            if not comment["body"].startswith(PROBE):
                return comment

    async def close(self) -> None:
        await self.socket.close()


def comment(stack: Stack, auth: dict[str, str], slug: str, body: str) -> None:
    with stack.client() as api:
        response = api.post(f"/api/v1/posts/{slug}/comments", json={"body": body}, headers=auth)
    assert response.status_code == 201, response.text


async def until_all_hear_a_probe(
    stack: Stack, auth: dict[str, str], slug: str, subscribers: Sequence[Subscriber]
) -> int:
    """Write probe comments until each subscriber has heard one; how many it took."""
    deaf = list(subscribers)
    for attempt in range(1, 41):
        await asyncio.to_thread(comment, stack, auth, slug, f"{PROBE}{attempt}")
        for subscriber in list(deaf):
            try:
                await subscriber.next_comment(seconds=0.5)
            except TimeoutError:
                continue
            deaf.remove(subscriber)
        if not deaf:
            return attempt
    raise AssertionError(f"{len(deaf)} subscriber(s) never heard a probe comment")


def replica_of(stack: Stack, request_id: str) -> str | None:
    """The graphql container that logged ``request_id`` (the socket opened there), if any."""
    for name in stack.containers("graphql"):
        logs = subprocess.run(
            ["docker", "logs", name], capture_output=True, text=True, timeout=60, check=True
        )
        if request_id in logs.stdout + logs.stderr:
            return name
    return None


def create_post(stack: Stack, auth: dict[str, str], title: str) -> str:
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        created = api.post("/api/v1/posts", json={"title": title, "publish": True}, headers=auth)
    assert created.status_code == 201, created.text
    return created.json()["slug"]
