"""Read models: what the domain's selectors return to the APIs.

Plain frozen dataclasses rather than model instances, because they

* can be cached (pickled into Redis) and shared by REST and GraphQL;
* are fully loaded: nothing on them can run a lazy query on the event loop, where Django would
  rightly refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domain.blog.models import Category, Comment, Post, Tag


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorRecord:
    """The public face of a user."""

    id: int
    username: str
    display_name: str

    @classmethod
    def of(cls, user: Any) -> AuthorRecord:
        return cls(id=user.pk, username=user.username, display_name=user.display_name)


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryRecord:
    id: int
    slug: str
    name: str
    description: str
    parent_id: int | None
    parent_slug: str | None
    is_active: bool
    post_count: int | None = None

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


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryNode:
    """A category with its (active) sub-categories, recursively."""

    category: CategoryRecord
    children: tuple[CategoryNode, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TagRecord:
    id: int
    slug: str
    name: str
    post_count: int | None = None

    @classmethod
    def of(cls, tag: Tag) -> TagRecord:
        return cls(
            id=tag.pk, slug=tag.slug, name=tag.name, post_count=getattr(tag, "post_count", None)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PostRecord:
    """A post's own fields; relations by id (GraphQL resolves them with DataLoaders)."""

    id: int
    slug: str
    title: str
    summary: str
    body: str
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


@dataclass(frozen=True, slots=True, kw_only=True)
class PostView(PostRecord):
    """A post with its author, category and tags, as REST returns it.

    Build it from a QuerySet with ``with_relations().with_counts()``.
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


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentRecord:
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


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentView(CommentRecord):
    author: AuthorRecord

    @classmethod
    def of(cls, comment: Comment) -> CommentView:
        return cls(**cls.fields_of(comment), author=AuthorRecord.of(comment.author))
