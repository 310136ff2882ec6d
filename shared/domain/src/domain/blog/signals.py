"""Receivers that keep derived state in step with every write, whichever process makes it.

Signals rather than calls in the services, on purpose: the admin, the shell and data migrations
write through the ORM without passing through the services, and the cache and the live comment feed
must follow those writes too. The receivers do no business logic; they schedule work for after the
commit.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from domain.blog.cache import blog_cache
from domain.blog.events import CommentAdded, publish_comment_added
from domain.blog.models import Category, Comment, Post, Tag

# Saving only these fields of a user changes nothing the blog shows (logins touch last_login).
_USER_FIELDS_NOT_SHOWN = frozenset({"last_login", "password"})


def _invalidate(sender: Any, **kwargs: Any) -> None:
    blog_cache.invalidate()


def _invalidate_after_m2m(sender: Any, action: str, **kwargs: Any) -> None:
    # Each change sends pre_* and post_* actions; the post_* one is the write.
    if action.startswith("post_"):
        blog_cache.invalidate()


def _invalidate_for_user(sender: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is not None and set(update_fields) <= _USER_FIELDS_NOT_SHOWN:
        return
    blog_cache.invalidate()


def _announce_comment(sender: Any, instance: Comment, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    event = CommentAdded(
        comment_id=instance.pk,
        post_id=instance.post_id,
        post_slug=instance.post.slug,
        author_id=instance.author_id,
        body=instance.body,
        created_at=instance.created_at,
    )
    transaction.on_commit(lambda: publish_comment_added(event), robust=True)


def connect() -> None:
    for model in (Post, Category, Tag, Comment):
        post_save.connect(
            _invalidate, sender=model, dispatch_uid=f"blog-cache-save-{model.__name__}"
        )
        post_delete.connect(
            _invalidate, sender=model, dispatch_uid=f"blog-cache-delete-{model.__name__}"
        )
    m2m_changed.connect(
        _invalidate_after_m2m, sender=Post.tags.through, dispatch_uid="blog-cache-post-tags"
    )
    user_model = get_user_model()
    post_save.connect(_invalidate_for_user, sender=user_model, dispatch_uid="blog-cache-user-save")
    post_delete.connect(_invalidate, sender=user_model, dispatch_uid="blog-cache-user-delete")
    post_save.connect(_announce_comment, sender=Comment, dispatch_uid="blog-comment-announce")
