"""Readiness checks shared by every service.

PostgreSQL is required: without it nothing can be served, so readiness fails. Redis is reported but
optional: the cache fails open, so a Redis outage makes the service slower, not wrong.

A readiness answer is computed by one caller at a time and reused for ``READINESS_CACHE_SECONDS``:
however many probes arrive, a process asks PostgreSQL (on a pooled connection, never a new one)
and Redis at most once per period, and never waits behind busy database threads.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from redis.exceptions import RedisError

from domain import db

logger = logging.getLogger(__name__)

# Longest a readiness check waits for a pooled connection or a new one.
DATABASE_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class Readiness:
    database: bool
    redis: bool

    @property
    def ready(self) -> bool:
        return self.database

    @property
    def status(self) -> str:
        if not self.database:
            return "unavailable"
        return "ok" if self.redis else "degraded"

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "checks": {
                "database": "ok" if self.database else "down",
                "redis": "ok" if self.redis else "down",
            },
        }


def check() -> Readiness:
    """Ask PostgreSQL and Redis whether they answer, now (sync)."""
    try:
        db.ping(timeout=DATABASE_TIMEOUT)
        database = True
    except DatabaseError as exc:
        logger.warning("readiness: database down: %s", exc.__class__.__name__)
        database = False
    try:
        cache.ping()  # type: ignore[attr-defined]
        redis = True
    except RedisError as exc:
        logger.warning("readiness: redis down: %s", exc.__class__.__name__)
        redis = False
    return Readiness(database=database, redis=redis)


_lock = threading.Lock()
_last: tuple[float, Readiness] | None = None
# The check in flight, per event loop, that concurrent async callers share.
_inflight: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[Readiness]] = (
    weakref.WeakKeyDictionary()
)


def _fresh() -> Readiness | None:
    last = _last
    if last is not None and time.monotonic() - last[0] < settings.READINESS_CACHE_SECONDS:
        return last[1]
    return None


def readiness() -> Readiness:
    """The current readiness (sync, for the admin's threads): a fresh answer if one is cached,
    else the answer of the one thread that checks while the others wait for it."""
    global _last
    if (cached := _fresh()) is not None:
        return cached
    with _lock:
        if (cached := _fresh()) is not None:
            return cached
        report = check()
        _last = (time.monotonic(), report)
        return report


async def areadiness() -> Readiness:
    """:func:`readiness` for async callers. The check runs on a thread of its own rather than a
    database thread (those may all be busy, and the health check must still answer promptly),
    and concurrent callers await the same one."""
    if (cached := _fresh()) is not None:
        return cached
    loop = asyncio.get_running_loop()
    task = _inflight.get(loop)
    if task is None or task.done():
        task = _inflight[loop] = loop.create_task(asyncio.to_thread(readiness))
    # Shielded: a caller that goes away does not cancel the others' answer.
    return await asyncio.shield(task)


def forget() -> None:
    """Drop the cached answer (tests, and anything that knows the state just changed)."""
    global _last
    _last = None
