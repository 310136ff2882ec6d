"""Events the blog publishes on Redis pub/sub, for subscribers in any service replica.

A comment is announced after its transaction commits, whoever wrote it (REST, GraphQL, the admin),
so GraphQL subscriptions on every replica see it. Publishing fails open: a comment is never lost
or refused because Redis is down; only the live notification is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Self

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# Namespaced like the cache keys, so deployments sharing a Redis do not hear each other.
COMMENT_ADDED_CHANNEL = f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:blog:comment-added"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentAdded:
    comment_id: int
    post_id: int
    post_slug: str
    author_id: int
    body: str
    created_at: datetime

    def to_json(self) -> str:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Self:
        data = json.loads(raw)
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        return cls(**data)


def publish_comment_added(event: CommentAdded) -> None:
    receivers = cache.publish(COMMENT_ADDED_CHANNEL, event.to_json())  # type: ignore[attr-defined]
    if receivers is None:
        logger.warning("comment %s not announced: Redis unavailable", event.comment_id)
