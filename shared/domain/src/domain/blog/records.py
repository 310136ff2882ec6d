"""Read models: what the domain's selectors return to the APIs.

Frozen :class:`msgspec.Struct` types rather than model instances, because they

* are cheap to build (from ``values()`` rows: no model instance where no model behaviour is used),
  and cheap to cache: the blog cache stores them as msgpack bytes and decodes them into the same
  types, so nothing read from Redis is ever unpickled or executed;
* are fully loaded: nothing on them can run a lazy query on the event loop, where Django would
  rightly refuse it;
* are shared by REST and GraphQL, which each present them in their own wire format.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from domain.accounts.models import display_name_of

if TYPE_CHECKING:
    from domain.blog.models import Category, Comment, Post, Tag


class Record(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """Base of every read model. ``array_like``: cached as msgpack arrays (compact and fast);
    the cache keys carry each type's layout, so a changed record never meets an old entry."""


class AuthorRecord(Record, frozen=True, kw_only=True):
    """The public face of a user."""

    id: int
    username: str
    display_name: str

    @classmethod
    def of(cls, user: Any) -> AuthorRecord:
        return cls(id=user.pk, username=user.username, display_name=user.display_name)

    @classmethod
    def from_names(cls, *, id: int, username: str, first_name: str, last_name: str) -> AuthorRecord:
        return cls(
            id=id, username=username, display_name=display_name_of(first_name, last_name, username)
        )


class CategoryRecord(Record, frozen=True, kw_only=True):
    id: int
    slug: str
    name: str
    description: str
    parent_id: int | None
    parent_slug: str | None
    is_active: bool
    post_count: int | None = None
    # The parent's record where the read loaded it (post reads do); else read it by parent_id.
    parent: CategoryRecord | None = None

    @classmethod
    def of(cls, category: Category) -> CategoryRecord:
        """Build from a category loaded ``with_parent_slug()`` or with its parent selected."""
        parent_slug = getattr(category, "parent_slug", None)
        if parent_slug is None and category.parent_id is not None:
            if not type(category).parent.is_cached(category):
                raise ValueError("Load categories with_parent_slug() or select_related('parent').")
            parent_slug = category.parent.slug
        return cls(
            id=category.pk,
            slug=category.slug,
            name=category.name,
            description=category.description,
            parent_id=category.parent_id,
            parent_slug=parent_slug,
            is_active=category.is_active,
            post_count=getattr(category, "post_count", None),
        )


class CategoryNode(Record, frozen=True, kw_only=True):
    """A category with its (active) sub-categories, recursively."""

    category: CategoryRecord
    children: tuple[CategoryNode, ...]


class TagRecord(Record, frozen=True, kw_only=True):
    id: int
    slug: str
    name: str
    post_count: int | None = None

    @classmethod
    def of(cls, tag: Tag) -> TagRecord:
        return cls(
            id=tag.pk, slug=tag.slug, name=tag.name, post_count=getattr(tag, "post_count", None)
        )


class PostRecord(Record, frozen=True, kw_only=True):
    """A post's own fields; its author and category also by id.

    ``body`` is ``None`` where the read did not load it: list pages leave it out unless asked.
    """

    id: int
    slug: str
    title: str
    summary: str
    body: str | None
    status: str
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    read_time_minutes: int
    view_count: int
    comment_count: int
    author_id: int
    category_id: int | None

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @classmethod
    def fields_of(cls, post: Post) -> dict[str, Any]:
        return {
            "id": post.pk,
            "slug": post.slug,
            "title": post.title,
            "summary": post.summary,
            "body": post.body,
            "status": post.status,
            "published_at": post.published_at,
            "created_at": post.created_at,
            "updated_at": post.updated_at,
            "read_time_minutes": post.read_time_minutes,
            "view_count": post.view_count,
            "comment_count": getattr(post, "comment_count", 0),
            "author_id": post.author_id,
            "category_id": post.category_id,
        }

    @classmethod
    def of(cls, post: Post) -> PostRecord:
        return cls(**cls.fields_of(post))


class PostView(PostRecord, frozen=True, kw_only=True):
    """A post with its author, category and tags: what every post read returns.

    Build it from a QuerySet with ``with_relations().with_counts()``, or from rows
    (:mod:`domain.blog.rows`).
    """

    author: AuthorRecord
    category: CategoryRecord | None
    tags: tuple[TagRecord, ...]

    @classmethod
    def of(cls, post: Post) -> PostView:
        return cls(
            **cls.fields_of(post),
            author=AuthorRecord.of(post.author),
            category=CategoryRecord.of(post.category) if post.category else None,
            tags=tuple(TagRecord.of(tag) for tag in post.tags.all()),
        )

    @classmethod
    def from_row(cls, row: dict[str, Any], tags: tuple[TagRecord, ...]) -> PostView:
        """Build from a row of ``PostQuerySet.as_view_rows()`` and the post's tags."""
        category_id = row["category_id"]
        return cls(
            id=row["id"],
            slug=row["slug"],
            title=row["title"],
            summary=row["summary"],
            body=row.get("body"),
            status=row["status"],
            published_at=row["published_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            read_time_minutes=row["read_time_minutes"],
            view_count=row["view_count"],
            comment_count=row["comment_count"],
            author_id=row["author_id"],
            category_id=category_id,
            author=AuthorRecord.from_names(
                id=row["author_id"],
                username=row["author__username"],
                first_name=row["author__first_name"],
                last_name=row["author__last_name"],
            ),
            category=None if category_id is None else _category_of(row),
            tags=tags,
        )


def _category_of(row: dict[str, Any]) -> CategoryRecord:
    """A post row's category, with its parent (``PostQuerySet.as_view_rows()``)."""
    parent_id = row["category__parent_id"]
    parent = None
    if parent_id is not None:
        parent = CategoryRecord(
            id=parent_id,
            slug=row["category__parent__slug"],
            name=row["category__parent__name"],
            description=row["category__parent__description"],
            parent_id=row["category__parent__parent_id"],
            parent_slug=row["category__parent__parent__slug"],
            is_active=row["category__parent__is_active"],
        )
    return CategoryRecord(
        id=row["category_id"],
        slug=row["category__slug"],
        name=row["category__name"],
        description=row["category__description"],
        parent_id=parent_id,
        parent_slug=row["category__parent__slug"],
        is_active=row["category__is_active"],
        parent=parent,
    )


class CommentRecord(Record, frozen=True, kw_only=True):
    id: int
    post_id: int
    author_id: int
    body: str
    created_at: datetime

    @classmethod
    def fields_of(cls, comment: Comment) -> dict[str, Any]:
        return {
            "id": comment.pk,
            "post_id": comment.post_id,
            "author_id": comment.author_id,
            "body": comment.body,
            "created_at": comment.created_at,
        }

    @classmethod
    def of(cls, comment: Comment) -> CommentRecord:
        return cls(**cls.fields_of(comment))


class CommentView(CommentRecord, frozen=True, kw_only=True):
    author: AuthorRecord

    @classmethod
    def of(cls, comment: Comment) -> CommentView:
        return cls(**cls.fields_of(comment), author=AuthorRecord.of(comment.author))
