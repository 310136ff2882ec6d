"""Events the accounts app publishes on Redis pub/sub: a user's access has changed.

A WebSocket to the GraphQL service is signed in once, with a token, and may stay open for hours.
When that token stops authenticating (revoked, expired early, deleted) or its user is deactivated,
deleted or has their permissions changed, :class:`AccessChanged` tells every process, once the
transaction commits; each one re-checks that user's sockets and closes those whose token no longer
authenticates. Publishing fails open, like the blog's events: a process that misses one finds out
at its next periodic re-check (``GRAPHQL_WS_RECHECK_INTERVAL``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Self

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

# Namespaced like the cache keys, so deployments sharing a Redis do not hear each other.
ACCESS_CHANGED_CHANNEL = (
    f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:accounts:access-changed"
)


@dataclass(frozen=True, slots=True)
class AccessChanged:
    user_id: int

    def to_json(self) -> str:
        return json.dumps({"user_id": self.user_id})

    @classmethod
    def from_json(cls, raw: str | bytes) -> Self:
        user_id = json.loads(raw)["user_id"]
        if not isinstance(user_id, int):
            raise TypeError("user_id must be an integer")
        return cls(user_id=user_id)


def announce_access_changed(user_id: int) -> None:
    """Publish :class:`AccessChanged` for ``user_id`` once the current transaction commits (at
    once outside a transaction). Call it from any write that ends or narrows a user's access and
    sends no model signal (``QuerySet.update``)."""
    event = AccessChanged(user_id=user_id)
    transaction.on_commit(lambda: publish_access_changed(event), robust=True)


def publish_access_changed(event: AccessChanged) -> None:
    receivers = cache.publish(ACCESS_CHANGED_CHANNEL, event.to_json())  # type: ignore[attr-defined]
    if receivers is None:
        logger.warning("access change of user %s not announced: Redis unavailable", event.user_id)
