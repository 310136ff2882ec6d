"""The live comment feed: one Redis pub/sub subscription per process, fanned out in memory.

Every comment is announced on :data:`~domain.blog.events.COMMENT_ADDED_CHANNEL` after its
transaction commits, whichever process wrote it (REST, GraphQL, the admin). Each GraphQL process
listens once and hands each event to the local subscribers of that post, so N subscribers cost one
Redis connection, not N.

Pub/sub delivers at most once: while Redis is unreachable events are lost (comments are not, only
their live notification). The listener reconnects on its own, with capped exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import AsyncIterator

import redis.asyncio as redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from domain.blog.events import COMMENT_ADDED_CHANNEL, CommentAdded

logger = logging.getLogger(__name__)


class Backoff:
    """Seconds to wait before the next attempt: doubling from ``first`` up to ``cap``, jittered."""

    def __init__(self, first: float = 0.5, cap: float = 10.0) -> None:
        self.first, self.cap, self.attempt = first, cap, 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2**self.attempt)
        self.attempt += 1
        return delay * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)

    def reset(self) -> None:
        self.attempt = 0


class CommentFeed:
    """Comment events from Redis, for the subscribers of this process."""

    def __init__(
        self, redis_url: str, *, channel: str = COMMENT_ADDED_CHANNEL, buffer: int = 100
    ) -> None:
        self.redis_url = redis_url
        self.channel = channel
        self.buffer = buffer
        self.connected = asyncio.Event()
        self._subscribers: defaultdict[int, set[asyncio.Queue[CommentAdded]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # LIFECYCLE (the app's lifespan)
    # --------------------------------------------------------------------------

    async def start(self, *, wait: float = 2.0) -> None:
        """Start listening; wait up to ``wait`` seconds for Redis, but start without it."""
        self._stopping = False
        self._task = asyncio.create_task(self._listen(), name="comment-feed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), wait)

    async def stop(self) -> None:
        # redis-py may swallow the cancellation (a wait for a message ends as if it timed out, a
        # connect fails with ConnectionError): the flag makes the listener end anyway.
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.connected.clear()

    # SUBSCRIBERS
    # --------------------------------------------------------------------------

    async def comments_on(self, post_id: int) -> AsyncIterator[CommentAdded]:
        """Events for the post ``post_id``, for as long as the caller iterates.

        Posts are followed by id, not slug: a slug may change while someone is subscribed.
        A subscriber that falls ``buffer`` events behind misses the ones that do not fit.
        """
        queue: asyncio.Queue[CommentAdded] = asyncio.Queue(maxsize=self.buffer)
        self._subscribers[post_id].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            subscribers = self._subscribers[post_id]
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[post_id]

    def subscriber_count(self, post_id: int) -> int:
        return len(self._subscribers.get(post_id, ()))

    def _deliver(self, event: CommentAdded) -> None:
        for queue in self._subscribers.get(event.post_id, ()):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                logger.warning("comment %s dropped for a slow subscriber", event.comment_id)

    # THE REDIS LISTENER
    # --------------------------------------------------------------------------

    async def _listen(self) -> None:
        backoff = Backoff()
        while not self._stopping:
            client = redis.from_url(
                self.redis_url,
                socket_connect_timeout=2,
                socket_keepalive=True,
                health_check_interval=15,
            )
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    if backoff.attempt:
                        logger.info("comment feed reconnected to Redis")
                    backoff.reset()
                    self.connected.set()
                    await self._relay(pubsub)
            except (RedisError, OSError) as exc:
                self.connected.clear()
                if self._stopping:
                    return
                delay = backoff.next()
                logger.warning(
                    "comment feed: Redis unavailable (%s); retrying in %.1fs",
                    exc.__class__.__name__,
                    delay,
                )
                await asyncio.sleep(delay)
            finally:
                await client.aclose()

    async def _relay(self, pubsub: PubSub) -> None:
        while not self._stopping:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
            if message is None or message.get("type") != "message":
                continue
            try:
                event = CommentAdded.from_json(message["data"])
            except (ValueError, TypeError, KeyError):
                logger.warning("ignoring a malformed comment event")
                continue
            self._deliver(event)
