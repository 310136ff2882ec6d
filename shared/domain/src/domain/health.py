"""Readiness checks shared by every service.

PostgreSQL is required: without it nothing can be served, so readiness fails. Redis is reported but
optional: the cache fails open, so a Redis outage makes the service slower, not wrong.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.db import DatabaseError
from redis.exceptions import RedisError

from domain import db

logger = logging.getLogger(__name__)


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


def readiness() -> Readiness:
    """Ask PostgreSQL and Redis whether they answer (sync; run it on a database thread)."""
    try:
        db.ping()
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


async def areadiness() -> Readiness:
    """:func:`readiness` for async callers, on a thread of its own rather than a database thread:
    when PostgreSQL is unreachable those threads are all waiting on the pool, and the health
    check must still answer promptly. (It opens its own connection, so there is none to return.)
    """
    return await asyncio.to_thread(readiness)
