"""Live comments across GraphQL replicas: with ``graphql=2``, a subscriber on each replica (their
WebSockets checked to have landed on different ones) hears a comment written through REST."""

from __future__ import annotations

import asyncio

from tests.e2e.live import (
    Subscriber,
    comment,
    create_post,
    replica_of,
    until_all_hear_a_probe,
)
from tests.e2e.stack import SUPERUSER, Stack


async def one_subscriber_per_replica(stack: Stack, auth: dict[str, str]) -> dict[str, Subscriber]:
    """Open WebSockets through the gateway until each graphql replica holds one (the replica is
    the one whose log has the socket's X-Request-ID); close the extras."""
    replicas = set(stack.containers("graphql"))
    placed: dict[str, Subscriber] = {}
    for _ in range(30):
        subscriber = await Subscriber.connect(stack, auth)
        replica = None
        for _ in range(20):  # the line is written as the socket opens; docker may lag a little
            replica = await asyncio.to_thread(replica_of, stack, subscriber.request_id)
            if replica:
                break
            await asyncio.sleep(0.25)
        assert replica in replicas, f"no replica logged {subscriber.request_id}"
        if replica in placed:
            await subscriber.close()
        else:
            placed[replica] = subscriber
        if set(placed) == replicas:
            return placed
    raise AssertionError(f"sockets reached only {sorted(placed)} of {sorted(replicas)}")


def test_a_comment_written_through_rest_reaches_subscribers_on_every_graphql_replica(
    stack: Stack, auth
):
    try:
        stack.scale_many(graphql=2)
        assert len(stack.containers("graphql")) == 2
        slug = create_post(stack, auth, "Live across replicas")

        async def scenario() -> dict[str, dict]:
            placed = await one_subscriber_per_replica(stack, auth)
            try:
                for subscriber in placed.values():
                    await subscriber.subscribe(slug)
                await until_all_hear_a_probe(stack, auth, slug, list(placed.values()))
                await asyncio.to_thread(comment, stack, auth, slug, "Heard on every replica")
                return {
                    replica: await subscriber.next_real_comment()
                    for replica, subscriber in placed.items()
                }
            finally:
                for subscriber in placed.values():
                    await subscriber.close()

        heard = asyncio.run(scenario())
        assert sorted(heard) == stack.containers("graphql")
        expected = {"body": "Heard on every replica", "author": {"username": SUPERUSER}}
        assert list(heard.values()) == [expected, expected]
    finally:
        stack.scale_many(graphql=1)
