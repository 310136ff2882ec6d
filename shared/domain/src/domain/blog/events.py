"""Events the blog publishes on Redis pub/sub, for subscribers in any service replica.

A comment is announced after its transaction commits, whoever wrote it (REST, GraphQL, the admin),
so GraphQL subscriptions on every replica see it. Publishing fails open: a comment is never lost
or refused because Redis is down; only the live notification is.

An event is not a licence to show it: a post may have been unpublished or deleted since someone
subscribed to it, so each event is passed through :func:`comment_audience` before it is sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Self

from django.conf import settings
from django.core.cache import cache

from domain.blog.cache import blog_cache
from domain.blog.models import Post
from domain.blog.permissions import can_view_post
from domain.db import to_async

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


def comment_audience(event: CommentAdded, viewers: Sequence[Any]) -> list[bool]:
    """Whether each of ``viewers`` may see, now, the post ``event`` is about.

    One read serves every viewer: the post's author and status, through the blog cache (the
    comment's own write has just made the cache stale, so the first process to ask reads
    PostgreSQL and the others Redis); then :func:`~domain.blog.permissions.can_view_post` decides
    for each viewer. A deleted post is seen by nobody.
    """
    post = _post_access(event.post_id)
    return [post is not None and can_view_post(viewer, post) for viewer in viewers]


def _post_access(post_id: int) -> Post | None:
    """An unsaved stand-in for the post with what the visibility rule reads, or ``None``."""

    def load() -> dict[str, Any] | None:
        return Post.objects.filter(pk=post_id).values("author_id", "status").first()

    fields = blog_cache.get_or_set("post-access", (post_id,), load, type=dict[str, Any] | None)
    return None if fields is None else Post(pk=post_id, **fields)


acomment_audience = to_async(comment_audience)
