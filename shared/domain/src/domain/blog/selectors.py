"""Reads of blog data, returning read models (:mod:`domain.blog.records`).

Public reads go through the blog cache; reads that depend on who asks (drafts) do not. The
``*_by_*_ids`` functions are the batch reads behind GraphQL's DataLoaders: one query for any
number of keys.

All functions here are sync; each has an async twin (``a`` + name) that runs it on a database
thread (:func:`domain.db.to_async`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from django.contrib.auth import get_user_model
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from domain.blog.cache import blog_cache
from domain.blog.models import Category, Comment, Post, Tag
from domain.blog.permissions import can_see_inactive_categories, require_view_post
from domain.blog.querysets import MAX_TREE_DEPTH, PostQuerySet
from domain.blog.records import (
    AuthorRecord,
    CategoryNode,
    CategoryRecord,
    CommentRecord,
    CommentView,
    PostRecord,
    PostView,
    TagRecord,
)
from domain.db import to_async
from domain.errors import NotAuthenticated, NotFound
from domain.pagination import Page, SortKey, clamp_limit, paginate

POST_ORDERINGS: dict[str, SortKey] = {
    "-published_at": SortKey("published_at", descending=True, kind="datetime", nullable=True),
    "published_at": SortKey("published_at", descending=False, kind="datetime", nullable=True),
    "-created_at": SortKey("created_at", descending=True, kind="datetime"),
    "created_at": SortKey("created_at", descending=False, kind="datetime"),
    "title": SortKey("title", descending=False, kind="str"),
    "-title": SortKey("title", descending=True, kind="str"),
}
DEFAULT_POST_ORDERING = "-published_at"

COMMENT_ORDERINGS: dict[str, SortKey] = {
    "created_at": SortKey("created_at", descending=False, kind="datetime"),
    "-created_at": SortKey("created_at", descending=True, kind="datetime"),
}
TAG_ORDERINGS: dict[str, SortKey] = {"name": SortKey("name", descending=False, kind="str")}


@dataclass(frozen=True, slots=True, kw_only=True)
class PostFilters:
    """What a post list may be narrowed by. ``status="draft"`` lists the drafts the viewer may
    see (their own; all of them for staff with ``blog.view_post``) and is never cached."""

    status: Literal["published", "draft"] = "published"
    category: str | None = None
    tag: str | None = None
    author: str | None = None
    q: str | None = None


# POSTS
# ------------------------------------------------------------------------------


def _filtered_posts(viewer: Any, filters: PostFilters) -> PostQuerySet:
    if filters.status == "draft":
        if viewer is None or not viewer.is_authenticated:
            raise NotAuthenticated("Sign in to list drafts.")
        posts = Post.objects.visible_to(viewer).drafts()
    else:
        posts = Post.objects.published()
    if filters.category:
        posts = posts.in_category(filters.category)
    if filters.tag:
        posts = posts.tagged(filters.tag)
    if filters.author:
        posts = posts.by_author(filters.author)
    if filters.q:
        posts = posts.search(filters.q)
    return posts


def post_list(
    *,
    viewer: Any,
    filters: PostFilters | None = None,
    ordering: str = DEFAULT_POST_ORDERING,
    cursor: str | None = None,
    limit: int | None = None,
    with_relations: bool = True,
) -> Page[PostView] | Page[PostRecord]:
    """One page of posts. With ``with_relations`` (REST) each item is a :class:`PostView` with
    author, category and tags in three queries in all; without (GraphQL, whose DataLoaders fetch
    relations) a :class:`PostRecord` from one query."""
    filters = filters or PostFilters()
    limit = clamp_limit(limit)

    def load() -> Page[Any]:
        posts = _filtered_posts(viewer, filters).with_counts()
        if with_relations:
            posts = posts.with_relations()
        rows, next_cursor = paginate(
            posts, orderings=POST_ORDERINGS, ordering=ordering, cursor=cursor, limit=limit
        )
        record = PostView.of if with_relations else PostRecord.of
        return Page(items=tuple(record(post) for post in rows), next_cursor=next_cursor)

    if filters.status == "draft":
        return load()
    kind = "post-views" if with_relations else "post-records"
    return blog_cache.get_or_set(kind, (filters, ordering, cursor, limit), load)


def post_detail(*, viewer: Any, slug: str) -> PostView:
    """The post with ``slug`` if ``viewer`` may see it, else :class:`NotFound`."""

    def load() -> PostView:
        post = Post.objects.with_relations().with_counts().filter(slug=slug).first()
        if post is None:
            raise NotFound("No post with this slug.")
        return PostView.of(post)

    view = blog_cache.get_or_set("post", (slug,), load)
    require_view_post(viewer, view)
    return view


def visible_post_id(*, viewer: Any, slug: str) -> int:
    post = Post.objects.visible_to(viewer).filter(slug=slug).values_list("id", flat=True).first()
    if post is None:
        raise NotFound("No post with this slug.")
    return post


# COMMENTS
# ------------------------------------------------------------------------------


def comment_list(
    *,
    viewer: Any,
    post_slug: str,
    ordering: str = "created_at",
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[CommentView]:
    """One page of the comments on a post ``viewer`` may see, oldest first by default."""
    limit = clamp_limit(limit)
    view = post_detail(viewer=viewer, slug=post_slug)

    def load() -> Page[CommentView]:
        comments = Comment.objects.on_post(view.id).with_author()
        rows, next_cursor = paginate(
            comments, orderings=COMMENT_ORDERINGS, ordering=ordering, cursor=cursor, limit=limit
        )
        return Page(items=tuple(CommentView.of(c) for c in rows), next_cursor=next_cursor)

    return blog_cache.get_or_set("comments", (view.id, ordering, cursor, limit), load)


# CATEGORIES AND TAGS
# ------------------------------------------------------------------------------


def category_tree() -> tuple[CategoryNode, ...]:
    """The active categories as a forest, each with its published post count. Cached."""

    def load() -> tuple[CategoryNode, ...]:
        categories = list(
            Category.objects.active().with_counts().with_parent_slug().order_by("name")
        )
        children: dict[int | None, list[Category]] = defaultdict(list)
        for category in categories:
            children[category.parent_id].append(category)

        def build(parent_id: int | None, depth: int) -> tuple[CategoryNode, ...]:
            if depth > MAX_TREE_DEPTH:
                return ()
            return tuple(
                CategoryNode(category=CategoryRecord.of(c), children=build(c.pk, depth + 1))
                for c in children.get(parent_id, ())
            )

        # A child of an inactive category is hidden with its parent.
        return build(None, 0)

    return blog_cache.get_or_set("category-tree", (), load)


def category_detail(*, viewer: Any, slug: str) -> CategoryRecord:
    def load() -> CategoryRecord | None:
        category = Category.objects.with_counts().with_parent_slug().filter(slug=slug).first()
        return CategoryRecord.of(category) if category else None

    record = blog_cache.get_or_set("category", (slug,), load)
    if record is None or (not record.is_active and not can_see_inactive_categories(viewer)):
        raise NotFound("No category with this slug.")
    return record


def tag_list(*, cursor: str | None = None, limit: int | None = None) -> Page[TagRecord]:
    """Tags in name order, each with its published post count. Cached."""
    limit = clamp_limit(limit)

    def load() -> Page[TagRecord]:
        rows, next_cursor = paginate(
            Tag.objects.with_counts(),
            orderings=TAG_ORDERINGS,
            ordering="name",
            cursor=cursor,
            limit=limit,
        )
        return Page(items=tuple(TagRecord.of(t) for t in rows), next_cursor=next_cursor)

    return blog_cache.get_or_set("tags", (cursor, limit), load)


def tag_detail(*, slug: str) -> TagRecord:
    def load() -> TagRecord | None:
        tag = Tag.objects.with_counts().filter(slug=slug).first()
        return TagRecord.of(tag) if tag else None

    record = blog_cache.get_or_set("tag", (slug,), load)
    if record is None:
        raise NotFound("No tag with this slug.")
    return record


# BATCH READS (GraphQL DataLoaders)
# ------------------------------------------------------------------------------
# A page of posts asks for the same authors, categories and tags each time it is read, so these
# go through the blog cache too, keyed by the sorted keys (written anywhere, any of them is made
# stale by the generation like every other read).

Batch = TypeVar("Batch", bound=Callable[..., Any])


def _cached_batch(kind: str) -> Callable[[Batch], Batch]:
    def decorate(read: Batch) -> Batch:
        @functools.wraps(read)
        def cached(keys: Iterable[Any], **options: Any) -> Any:
            unique = tuple(sorted(set(keys)))
            return blog_cache.get_or_set(
                kind, (unique, *sorted(options.items())), lambda: read(unique, **options)
            )

        return cached  # type: ignore[return-value]

    return decorate


@_cached_batch("authors-by-id")
def authors_by_ids(ids: Iterable[int]) -> dict[int, AuthorRecord]:
    users = get_user_model().objects.filter(pk__in=set(ids))
    return {user.pk: AuthorRecord.of(user) for user in users}


@_cached_batch("categories-by-id")
def categories_by_ids(ids: Iterable[int]) -> dict[int, CategoryRecord]:
    categories = Category.objects.with_parent_slug().filter(pk__in=set(ids))
    return {c.pk: CategoryRecord.of(c) for c in categories}


@_cached_batch("children-by-category-id")
def category_children_by_ids(ids: Iterable[int]) -> dict[int, list[CategoryRecord]]:
    grouped: dict[int, list[CategoryRecord]] = defaultdict(list)
    children = (
        Category.objects.active().with_parent_slug().filter(parent_id__in=set(ids)).order_by("name")
    )
    for child in children:
        grouped[child.parent_id].append(CategoryRecord.of(child))  # type: ignore[index]
    return grouped


@_cached_batch("tags-by-post-id")
def tags_by_post_ids(ids: Iterable[int]) -> dict[int, list[TagRecord]]:
    grouped: dict[int, list[TagRecord]] = defaultdict(list)
    links = (
        Post.tags.through.objects.filter(post_id__in=set(ids))
        .select_related("tag")
        .order_by("tag__name")
    )
    for link in links:
        grouped[link.post_id].append(TagRecord.of(link.tag))
    return grouped


def _top_per_group(queryset: Any, *, group: str, order: list[Any], limit: int) -> Any:
    """The first ``limit`` rows of each ``group`` in one query (ROW_NUMBER() OVER a partition)."""
    return queryset.annotate(
        _rank=Window(RowNumber(), partition_by=[F(group)], order_by=order)
    ).filter(_rank__lte=limit)


@_cached_batch("comments-by-post-id")
def comments_by_post_ids(ids: Iterable[int], *, limit: int) -> dict[int, list[CommentRecord]]:
    """The first ``limit`` comments (oldest first) of each post."""
    limit = clamp_limit(limit)
    grouped: dict[int, list[CommentRecord]] = defaultdict(list)
    comments = _top_per_group(
        Comment.objects.filter(post_id__in=set(ids)),
        group="post_id",
        order=[F("created_at").asc(), F("id").asc()],
        limit=limit,
    ).order_by("post_id", "created_at", "id")
    for comment in comments:
        grouped[comment.post_id].append(CommentRecord.of(comment))
    return grouped


@_cached_batch("posts-by-category-id")
def published_posts_by_category_ids(
    ids: Iterable[int], *, limit: int
) -> dict[int, list[PostRecord]]:
    """The newest ``limit`` published posts filed directly under each category."""
    limit = clamp_limit(limit)
    grouped: dict[int, list[PostRecord]] = defaultdict(list)
    posts = _top_per_group(
        Post.objects.published().filter(category_id__in=set(ids)).with_counts(),
        group="category_id",
        order=[F("published_at").desc(), F("id").desc()],
        limit=limit,
    ).order_by("category_id", "-published_at", "-id")
    for post in posts:
        grouped[post.category_id].append(PostRecord.of(post))  # type: ignore[index]
    return grouped


@_cached_batch("post-counts-by-category-id")
def published_post_counts_by_category_ids(ids: Iterable[int]) -> dict[int, int]:
    """Published posts filed directly under each category (``CategoryRecord.post_count``, for
    records read without it)."""
    return dict(Category.objects.filter(pk__in=ids).with_counts().values_list("pk", "post_count"))


@_cached_batch("post-counts-by-tag-id")
def published_post_counts_by_tag_ids(ids: Iterable[int]) -> dict[int, int]:
    """Published posts carrying each tag (``TagRecord.post_count``, for records read without
    it)."""
    return dict(Tag.objects.filter(pk__in=ids).with_counts().values_list("pk", "post_count"))


def posts_by_ids(ids: Iterable[int], *, viewer: Any) -> dict[int, PostRecord]:
    posts = Post.objects.visible_to(viewer).filter(pk__in=set(ids)).with_counts()
    return {post.pk: PostRecord.of(post) for post in posts}


apost_list = to_async(post_list)
apost_detail = to_async(post_detail)
avisible_post_id = to_async(visible_post_id)
acomment_list = to_async(comment_list)
acategory_tree = to_async(category_tree)
acategory_detail = to_async(category_detail)
atag_list = to_async(tag_list)
atag_detail = to_async(tag_detail)
aauthors_by_ids = to_async(authors_by_ids)
acategories_by_ids = to_async(categories_by_ids)
acategory_children_by_ids = to_async(category_children_by_ids)
atags_by_post_ids = to_async(tags_by_post_ids)
acomments_by_post_ids = to_async(comments_by_post_ids)
apublished_posts_by_category_ids = to_async(published_posts_by_category_ids)
aposts_by_ids = to_async(posts_by_ids)
apublished_post_counts_by_category_ids = to_async(published_post_counts_by_category_ids)
apublished_post_counts_by_tag_ids = to_async(published_post_counts_by_tag_ids)
