"""The live feed: one Redis pub/sub subscription per process, fanned out in memory.

Every comment is announced on :data:`~domain.blog.events.COMMENT_ADDED_CHANNEL` after its
transaction commits, whichever process wrote it (REST, GraphQL, the admin). Each GraphQL process
listens once and hands each event to the local subscribers of that post, so N subscribers cost one
Redis connection, not N. The same connection hears :data:`~domain.accounts.events.
ACCESS_CHANGED_CHANNEL` (a user's token revoked, the user deactivated...) and hands those events to
:attr:`CommentFeed.on_access_changed`.

Before an event reaches a subscriber, the domain decides whether its viewer may still see the
post (:func:`~domain.blog.events.comment_audience`): once per event for all the distinct viewers
subscribed to that post in this process, however many subscriptions they hold.

Pub/sub delivers at most once: while Redis is unreachable events are lost (comments are not, only
their live notification). The listener reconnects on its own, with capped exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from domain.accounts.events import ACCESS_CHANGED_CHANNEL, AccessChanged
from domain.blog.events import COMMENT_ADDED_CHANNEL, CommentAdded, acomment_audience
from domain.errors import NotFound

logger = logging.getLogger(__name__)

# Decides, for one event, whether each viewer may see it (the domain's rule, on a DB thread).
Audience = Callable[[CommentAdded, Sequence[Any]], Awaitable[Sequence[bool]]]


class SubscriptionOverflow(Exception):
    """The subscriber fell ``buffer`` events behind: it missed events and is closed."""


class TooManySubscriptions(Exception):
    """This process already serves as many subscriptions as it may."""


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


def viewer_key(user: Any) -> int | None:
    """Who a viewer is, for grouping: the user's id, or ``None`` for every anonymous viewer."""
    return user.pk if user is not None and user.is_authenticated else None


class _Delivery:
    """One event on its way to the subscribers of its post, with the one visibility check they
    share: made by the first of them to need it, awaited by the others."""

    __slots__ = ("_audience", "_check", "_viewers", "event")

    def __init__(
        self, event: CommentAdded, viewers: dict[int | None, Any], audience: Audience
    ) -> None:
        self.event = event
        self._viewers = viewers
        self._audience = audience
        self._check: asyncio.Future[dict[int | None, bool]] | None = None

    async def visible_to(self, user: Any) -> bool:
        if self._check is None:
            self._check = asyncio.ensure_future(self._decide())
            # Retrieved here too, so a check whose waiters were all cancelled logs nothing.
            self._check.add_done_callback(lambda f: f.cancelled() or f.exception())
        # Shielded: one subscriber going away must not cancel the others' check.
        verdicts = await asyncio.shield(self._check)
        return verdicts.get(viewer_key(user), False)

    async def _decide(self) -> dict[int | None, bool]:
        keys = list(self._viewers)
        verdicts = await self._audience(self.event, [self._viewers[key] for key in keys])
        return dict(zip(keys, verdicts, strict=True))


_OVERFLOWED = object()


@dataclass(eq=False)
class _Subscriber:
    viewer: Callable[[], Any]  # the viewer now (a connection's user is refreshed when re-checked)
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)


class CommentFeed:
    """Comment events from Redis, for the subscribers of this process (and access events, for
    whoever watches the WebSockets)."""

    def __init__(
        self,
        redis_url: str,
        *,
        channel: str = COMMENT_ADDED_CHANNEL,
        access_channel: str = ACCESS_CHANGED_CHANNEL,
        buffer: int = 100,
        max_subscriptions: int | None = None,
        audience: Audience = acomment_audience,
    ) -> None:
        self.redis_url = redis_url
        self.channel = channel
        self.access_channel = access_channel
        self.buffer = buffer
        self.max_subscriptions = max_subscriptions
        self.audience = audience
        self.connected = asyncio.Event()
        # Called with a user id for each AccessChanged event.
        self.on_access_changed: Callable[[int], None] | None = None
        self._subscribers: defaultdict[int, set[_Subscriber]] = defaultdict(set)
        self._count = 0
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

    def check_capacity(self) -> None:
        """Raise :class:`TooManySubscriptions` if this process may take no more subscribers."""
        if self.max_subscriptions is not None and self._count >= self.max_subscriptions:
            raise TooManySubscriptions

    async def comments_on(
        self, post_id: int, viewer: Callable[[], Any]
    ) -> AsyncIterator[CommentAdded]:
        """Events for the post ``post_id`` that ``viewer()`` may see, for as long as the caller
        iterates.

        Posts are followed by id, not slug: a slug may change while someone is subscribed. Ends
        with :class:`~domain.errors.NotFound` at the first event of a post the viewer may no
        longer see, and with :class:`SubscriptionOverflow` as soon as the subscriber falls
        ``buffer`` events behind (the events it had not received yet are dropped: it must re-read
        anyway). :class:`TooManySubscriptions` when the process is full.
        """
        self.check_capacity()
        subscriber = _Subscriber(viewer, asyncio.Queue(maxsize=self.buffer))
        self._subscribers[post_id].add(subscriber)
        self._count += 1
        try:
            while True:
                item = await subscriber.queue.get()
                if item is _OVERFLOWED:
                    raise SubscriptionOverflow
                if not await item.visible_to(viewer()):
                    raise NotFound("No post with this slug.")
                yield item.event
        finally:
            self._remove(post_id, subscriber)

    def subscriber_count(self, post_id: int | None = None) -> int:
        """Subscribers of ``post_id``, or of every post."""
        if post_id is None:
            return self._count
        return len(self._subscribers.get(post_id, ()))

    def _remove(self, post_id: int, subscriber: _Subscriber) -> None:
        subscribers = self._subscribers.get(post_id)
        if subscribers is None or subscriber not in subscribers:
            return
        subscribers.discard(subscriber)
        self._count -= 1
        if not subscribers:
            del self._subscribers[post_id]

    def _deliver(self, event: CommentAdded) -> None:
        subscribers = self._subscribers.get(event.post_id)
        if not subscribers:
            return
        viewers = {viewer_key(user): user for user in (s.viewer() for s in subscribers)}
        delivery = _Delivery(event, viewers, self.audience)
        for subscriber in list(subscribers):
            try:
                subscriber.queue.put_nowait(delivery)
            except asyncio.QueueFull:
                self._overflow(event, subscriber)

    def _overflow(self, event: CommentAdded, subscriber: _Subscriber) -> None:
        """Stop feeding a subscriber that fell behind, drop what it has not read, and have it end
        with :class:`SubscriptionOverflow` (instead of silently missing events)."""
        logger.warning(
            "a subscriber of post %s fell %s events behind: closing its subscription",
            event.post_id,
            self.buffer,
        )
        self._remove(event.post_id, subscriber)
        while not subscriber.queue.empty():
            subscriber.queue.get_nowait()
        subscriber.queue.put_nowait(_OVERFLOWED)

    def _access_changed(self, event: AccessChanged) -> None:
        if self.on_access_changed is None:
            return
        try:
            self.on_access_changed(event.user_id)
        except Exception:
            # The listener must outlive a faulty handler; the periodic re-check still runs.
            logger.exception("handling an access change of user %s failed", event.user_id)

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
                    await pubsub.subscribe(self.channel, self.access_channel)
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
        access_channel = self.access_channel.encode()
        while not self._stopping:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
            if message is None or message.get("type") != "message":
                continue
            try:
                if message.get("channel") == access_channel:
                    self._access_changed(AccessChanged.from_json(message["data"]))
                else:
                    self._deliver(CommentAdded.from_json(message["data"]))
            except (ValueError, TypeError, KeyError):
                logger.warning("ignoring a malformed event on %s", message.get("channel"))
