"""Caching in Redis through Django's cache framework, failing open.

Two pieces:

* :class:`FailOpenRedisCache`, the ``default`` cache backend. Django's Redis backend raises when
  Redis is down; this one logs the outage once, answers every call as a miss (or a no-op) and stops
  calling Redis for ``CACHE_RETRY_AFTER`` seconds so requests do not each wait for a timeout. The
  first call after that window tries Redis again, so caching resumes on its own.
* :class:`Namespace`, generation-stamped read-through caching. Every entry is stored with the
  namespace's generation at the time it was read; a write bumps the generation after its
  transaction commits, which makes every older entry stale at once, in every process and every
  service. A reader that raced the write can only have stamped its stale value with the old
  generation, so no read after a successful write is stale. The generation and the entry come
  back in one round trip (MGET). A bump that fails because Redis is down is retried by the same
  process before its next cache read; entries also expire after ``CACHE_TTL``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")
_MISSING = object()


class _Breaker:
    """Process-wide state of one Redis location: up, or down until a moment."""

    def __init__(self) -> None:
        self.down_until = 0.0
        self.failing = False

    def allows(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, location: str, exc: Exception) -> None:
        retry_after = settings.CACHE_RETRY_AFTER
        self.down_until = time.monotonic() + retry_after
        if not self.failing:
            self.failing = True
            logger.warning(
                "cache unavailable, serving from the database: %s: %s",
                exc.__class__.__name__,
                exc,
                extra={"cache_location": location},
            )

    def succeeded(self, location: str) -> None:
        if self.failing:
            self.failing = False
            logger.info("cache available again", extra={"cache_location": location})


class _ReusingClient(RedisCacheClient):
    """Django's Redis client, keeping one ``redis.Redis`` object per connection pool.

    Django builds a new ``redis.Redis`` for every cache call, and redis-py 8's constructor costs
    more than the round trip to Redis (measured: 0.40 ms against 0.13 ms per GET). The object is
    thread-safe; connections still come from the pool, one per command.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._clients[index] = client
        return client


# Django creates a cache backend object per thread *and* per async context, and the database
# threads run each call in a fresh copy of the caller's context. Clients (with their connection
# pools) and breakers are therefore shared per process and location, not kept on the backend.
_shared_lock = threading.Lock()
_clients: dict[tuple[Hashable, ...], RedisCacheClient] = {}
_breakers: dict[str, _Breaker] = {}


def _fail_open(method: Callable[..., Any], *, fallback: Any) -> Callable[..., Any]:
    """Wrap a RedisCache method: a Redis failure returns ``fallback`` (called, if callable)."""
    make_fallback = fallback if callable(fallback) else (lambda: fallback)

    @functools.wraps(method)
    def fail_open(self: FailOpenRedisCache, *args: Any, **kwargs: Any) -> Any:
        return self._guard(make_fallback, functools.partial(method, **kwargs), *args)

    return fail_open


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache backend, except that an unavailable Redis is a miss, not an error."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient
        self._location = ",".join(self._servers)
        identity = (tuple(self._servers), tuple(sorted(map(repr, self._options.items()))))
        with _shared_lock:
            if identity not in _clients:
                _clients[identity] = self._class(self._servers, **self._options)
            self._shared_client = _clients[identity]
            self._breaker = _breakers.setdefault(self._location, _Breaker())

    @property
    def _cache(self) -> RedisCacheClient:  # type: ignore[override]
        return self._shared_client

    def _guard(self, fallback: Callable[[], Any], call: Callable[..., Any], *args: Any) -> Any:
        if not self._breaker.allows():
            return fallback()
        try:
            result = call(self, *args)
        except RedisError as exc:
            self._breaker.failed(self._location, exc)
            return fallback()
        self._breaker.succeeded(self._location)
        return result

    def get(self, key: str, default: Any = None, version: Any = None) -> Any:
        return self._guard(lambda: default, RedisCache.get, key, default, version)

    def set_many(
        self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[str]:
        return self._guard(lambda: list(data), RedisCache.set_many, data, timeout, version)

    add = _fail_open(RedisCache.add, fallback=False)
    set = _fail_open(RedisCache.set, fallback=None)
    touch = _fail_open(RedisCache.touch, fallback=False)
    delete = _fail_open(RedisCache.delete, fallback=False)
    get_many = _fail_open(RedisCache.get_many, fallback=dict)
    has_key = _fail_open(RedisCache.has_key, fallback=False)
    # None when Redis is unavailable; ValueError, as in Django, when the key is missing.
    incr = _fail_open(RedisCache.incr, fallback=None)
    delete_many = _fail_open(RedisCache.delete_many, fallback=None)
    clear = _fail_open(RedisCache.clear, fallback=False)

    def publish(self, channel: str, message: str) -> int | None:
        """Publish on Redis pub/sub: the number of receivers, ``None`` if Redis is unavailable."""

        def publish(backend: FailOpenRedisCache) -> int:
            return backend._cache.get_client(write=True).publish(channel, message)

        return self._guard(lambda: None, publish)

    def ping(self) -> None:
        """Raise :class:`RedisError` unless Redis answers (health checks bypass the breaker)."""
        self._cache.get_client(write=True).ping()


class Namespace:
    """Generation-keyed read-through caching for one family of reads (see the module docstring)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._generation_key = f"{name}:generation"
        # A bump that could not reach Redis; retried before this process trusts the cache again,
        # and by a thread of its own until Redis takes it (see _defer).
        self._bump_pending = False
        self._delivery_lock = threading.Lock()
        self._retrier_lock = threading.Lock()
        self._retrier: threading.Thread | None = None

    def get_or_set(self, kind: str, args: tuple[Hashable, ...], produce: Callable[[], T]) -> T:
        """Return the cached value for ``(kind, args)``, or ``produce()`` it and cache it."""
        if self._bump_pending:
            self._deliver_deferred()
            if self._bump_pending:
                return produce()
        key = self._key(kind, args)
        found = cache.get_many([self._generation_key, key])
        generation = found.get(self._generation_key)
        if generation is None:
            generation = self._start_generation()
            if generation is None:  # Redis is unavailable: do not cache now
                return produce()
        entry = found.get(key)
        if entry is not None and entry[0] == generation:
            return entry[1]
        value = produce()
        cache.set(key, (generation, value), settings.CACHE_TTL)
        return value

    def invalidate(self) -> None:
        """Make every entry stale once the current transaction commits (at once outside one)."""
        transaction.on_commit(self._bump, robust=True)

    def _bump(self) -> None:
        try:
            bumped = cache.incr(self._generation_key)
        except ValueError:
            # No generation yet (never read, or evicted): the next reader starts a fresh one.
            bumped = 0
        if bumped is None:
            self._defer()
        else:
            self._bump_pending = False

    def _defer(self) -> None:
        """Remember the bump, and retry it every ``CACHE_RETRY_AFTER`` from a thread until Redis
        takes it. Retrying only before this process's next cache read is not enough: a process
        that writes but never reads through the cache (the admin) would never deliver it, and
        every other process would serve the old entries until they expire."""
        with self._retrier_lock:
            self._bump_pending = True
            if self._retrier is not None:
                return
            logger.warning("cache invalidation of %r deferred until Redis answers", self.name)
            self._retrier = threading.Thread(
                target=self._retry_deferred, name=f"cache-bump-{self.name}", daemon=True
            )
            self._retrier.start()

    def _deliver_deferred(self) -> None:
        # One delivery at a time: the reader and the retrier must not both bump for one write.
        with self._delivery_lock:
            if self._bump_pending:
                self._bump()

    def _retry_deferred(self) -> None:
        while True:
            time.sleep(settings.CACHE_RETRY_AFTER)
            self._deliver_deferred()
            with self._retrier_lock:
                if not self._bump_pending:
                    self._retrier = None
                    return

    def _start_generation(self) -> int | None:
        """The generation after finding none (never read, evicted), or ``None`` if Redis is down.

        It starts from the clock, so a generation lost to eviction can never come back to a number
        that older entries were stamped with.
        """
        cache.add(self._generation_key, time.time_ns(), timeout=None)
        return cache.get(self._generation_key)

    def _key(self, kind: str, args: tuple[Hashable, ...]) -> str:
        digest = hashlib.blake2b(repr(args).encode(), digest_size=16).hexdigest()
        return f"{self.name}:{kind}:{digest}"
