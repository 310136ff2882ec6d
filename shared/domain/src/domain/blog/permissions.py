"""Who may do what with blog objects. The QuerySet twin of these rules is
:meth:`PostQuerySet.visible_to`; both the admin and the APIs go through one or the other.

* Anyone sees published posts; authors also see their own drafts; staff with ``blog.view_post``
  see every draft.
* Any signed-in user writes posts and comments. An author edits, publishes and deletes their own
  posts; others need ``blog.change_post``, ``blog.publish_post`` or ``blog.delete_post``.
* Categories are managed with ``blog.add_category``, ``blog.change_category`` and
  ``blog.delete_category``.
"""

from __future__ import annotations

from typing import Any, Protocol

from domain.blog.querysets import can_see_all_posts
from domain.errors import NotFound, PermissionDenied
from domain.permissions import require_authenticated, require_perm

__all__ = [
    "can_view_post",
    "require_authenticated",
    "require_delete_post",
    "require_edit_post",
    "require_perm",
    "require_publish_post",
    "require_view_post",
]


class OwnedPost(Protocol):
    """What the rules need of a post: a model instance and a PostRecord both fit."""

    author_id: int

    @property
    def is_published(self) -> bool: ...


def _is_author(user: Any, post: OwnedPost) -> bool:
    return bool(user and user.is_authenticated and post.author_id == user.pk)


def can_view_post(user: Any, post: OwnedPost) -> bool:
    return post.is_published or _is_author(user, post) or can_see_all_posts(user)


def require_view_post(user: Any, post: OwnedPost) -> None:
    """Raise :class:`NotFound`, not PermissionDenied, so drafts do not betray that they exist."""
    if not can_view_post(user, post):
        raise NotFound("No post with this slug.")


def _require_owner_or_perm(user: Any, post: OwnedPost, perm: str) -> None:
    require_authenticated(user)
    require_view_post(user, post)
    if not (_is_author(user, post) or user.has_perm(perm)):
        raise PermissionDenied()


def require_edit_post(user: Any, post: OwnedPost) -> None:
    _require_owner_or_perm(user, post, "blog.change_post")


def require_publish_post(user: Any, post: OwnedPost) -> None:
    _require_owner_or_perm(user, post, "blog.publish_post")


def require_delete_post(user: Any, post: OwnedPost) -> None:
    _require_owner_or_perm(user, post, "blog.delete_post")


def can_see_inactive_categories(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("blog.change_category"))
