"""Reads of blog data, returning read models (:mod:`domain.blog.records`).

Public reads go through the blog cache; reads that depend on who asks (drafts) do not. The
``*_by_*_ids`` functions are the batch reads behind GraphQL's DataLoaders: one query for any
number of keys.

The hot reads (post pages, a post, tags and authors by id) are written as QuerySets and run as SQL
compiled once per shape (:mod:`domain.compiled`), reading ``values()`` rows: Django builds and
compiles a QuerySet in about ten times the time PostgreSQL takes to run it.

All functions here are sync; each has an async twin (``a`` + name) that runs it on a database
thread (:func:`domain.db.to_async`).
"""

from __future__ import annotations

import functools
import typing
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

import msgspec
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
    CommentView,
    PostView,
    TagRecord,
)
from domain.compiled import CompiledQueries
from domain.db import to_async
from domain.errors import NotAuthenticated, NotFound
from domain.pagination import (
    Page,
    SortKey,
    clamp_limit,
    decode_cursor,
    keyset,
    page_of,
    paginate,
    sort_key,
)

POST_ORDERINGS: dict[str, SortKey] = {
    "-published_at": SortKey("published_at", descending=True, kind="datetime", nullable=True),
    "published_at": SortKey("published_at", descending=False, kind="datetime", nullable=True),
    "-created_at": SortKey("created_at", descending=True, kind="datetime"),
    "created_at": SortKey("created_at", descending=False, kind="datetime"),
    "title": SortKey("title", descending=False, kind="str"),
    "-title": SortKey("title", descending=True, kind="str"),
}
DEFAULT_POST_ORDERING = "-published_at"
# A published post always has its date (a constraint says so): without NULLs to place, the order
# matches the list's index and the cursor is a row comparison the index answers.
PUBLISHED_POST_ORDERINGS = {
    name: replace(key, nullable=False) for name, key in POST_ORDERINGS.items()
}

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


def _narrowed(
    posts: PostQuerySet,
    *,
    category: str | None,
    tag: str | None,
    author: str | None,
    q: str | None,
) -> PostQuerySet:
    if category:
        posts = posts.in_category(category)
    if tag:
        posts = posts.tagged(tag)
    if author:
        posts = posts.by_author(author)
    if q:
        posts = posts.search(q)
    return posts


def _published_page_query(
    *,
    ordering: str,
    limit: int,
    body: bool,
    category: str | None = None,
    tag: str | None = None,
    author: str | None = None,
    q: str | None = None,
    after_value: Any = None,
    after_pk: int | None = None,
) -> Any:
    posts = _narrowed(
        Post.objects.published(), category=category, tag=tag, author=author, q=q
    ).as_view_rows(body=body)
    after = None if after_pk is None else (after_value, after_pk)
    return keyset(posts, PUBLISHED_POST_ORDERINGS[ordering], after, limit)


def _post_query(*, slug: str, body: bool) -> Any:
    return Post.objects.filter(slug=slug).as_view_rows(body=body)


_published_pages = CompiledQueries(_published_page_query)
_posts_by_slug = CompiledQueries(_post_query)
_tag_records = msgspec.json.Decoder(tuple[TagRecord, ...])


def _views(rows: Iterable[dict[str, Any]]) -> tuple[PostView, ...]:
    """Read models of ``as_view_rows()`` rows."""
    return tuple(PostView.from_row(row, _tag_records.decode(row["tag_json"])) for row in rows)


def _search_text(q: str | None) -> str | None:
    text = (q or "").strip()
    return text or None


def post_list(
    *,
    viewer: Any,
    filters: PostFilters | None = None,
    ordering: str = DEFAULT_POST_ORDERING,
    cursor: str | None = None,
    limit: int | None = None,
    body: bool = False,
    cache: bool = True,
) -> Page[PostView]:
    """One page of posts with their author, category and tags, in one query. List pages leave
    the ``body`` out unless asked (GraphQL asks when it is selected). ``cache=False`` skips the
    blog cache, for callers that cache the whole response themselves (anonymous reads through the
    services' response cache: :func:`domain.asgi.http_cache.fills_part_caches`)."""
    filters = filters or PostFilters()
    limit = clamp_limit(limit)
    orderings = POST_ORDERINGS if filters.status == "draft" else PUBLISHED_POST_ORDERINGS
    key = sort_key(orderings, ordering)
    after = decode_cursor(cursor, ordering, key) if cursor else None

    def page_of_rows(rows: list[dict[str, Any]]) -> Page[PostView]:
        page, next_cursor = page_of(
            rows, ordering=ordering, key=key, limit=limit, value_of=dict.__getitem__
        )
        return Page(items=_views(page), next_cursor=next_cursor)

    if filters.status == "draft":
        if viewer is None or not viewer.is_authenticated:
            raise NotAuthenticated("Sign in to list drafts.")
        posts = _narrowed(
            Post.objects.visible_to(viewer).drafts(),
            category=filters.category,
            tag=filters.tag,
            author=filters.author,
            q=_search_text(filters.q),
        )
        return page_of_rows(list(keyset(posts.as_view_rows(body=body), key, after, limit)))

    def load() -> Page[PostView]:
        rows = _published_pages.rows(
            {"ordering": ordering, "limit": limit, "body": body},
            {
                "category": filters.category or None,
                "tag": filters.tag or None,
                "author": filters.author or None,
                "q": _search_text(filters.q),
                "after_value": after[0] if after else None,
                "after_pk": after[1] if after else None,
            },
        )
        return page_of_rows(rows)

    if not cache:
        return load()
    return blog_cache.get_or_set(
        "posts", (filters, ordering, cursor, limit, body), load, type=Page[PostView]
    )


def post_detail(*, viewer: Any, slug: str, cache: bool = True) -> PostView:
    """The post with ``slug`` if ``viewer`` may see it, else :class:`NotFound`. ``cache=False``
    skips the blog cache, as for :func:`post_list`."""

    def load() -> PostView | None:
        views = _views(_posts_by_slug.rows({"body": True}, {"slug": slug}))
        return views[0] if views else None

    # A missing slug is cached too (as None): asking again for it costs no query.
    view = blog_cache.get_or_set("post", (slug,), load, type=PostView | None) if cache else load()
    if view is None:
        raise NotFound("No post with this slug.")
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

    return blog_cache.get_or_set(
        "comments", (view.id, ordering, cursor, limit), load, type=Page[CommentView]
    )


# CATEGORIES AND TAGS
# ------------------------------------------------------------------------------


def category_tree() -> tuple[CategoryNode, ...]:
    """The active categories as a forest, each with its published post count. Cached."""

    def load() -> tuple[CategoryNode, ...]:
        categories = list(Category.objects.active().with_counts().order_by("name"))
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

    return blog_cache.get_or_set("category-tree", (), load, type=tuple[CategoryNode, ...])


def category_detail(*, viewer: Any, slug: str) -> CategoryRecord:
    def load() -> CategoryRecord | None:
        category = Category.objects.with_counts().filter(slug=slug).first()
        return CategoryRecord.of(category) if category else None

    record = blog_cache.get_or_set("category", (slug,), load, type=CategoryRecord | None)
    if record is None or (not record.is_active and not can_see_inactive_categories(viewer)):
        raise NotFound("No category with this slug.")
    return record


def tag_list(*, cursor: str | None = None, limit: int | None = None) -> Page[TagRecord]:
    """Tags in name order, each with its published post count. Cached."""
    limit = clamp_limit(limit)

    def load() -> Page[TagRecord]:
        rows, next_cursor = paginate(
            Tag.objects.used().with_counts(),
            orderings=TAG_ORDERINGS,
            ordering="name",
            cursor=cursor,
            limit=limit,
        )
        return Page(items=tuple(TagRecord.of(t) for t in rows), next_cursor=next_cursor)

    return blog_cache.get_or_set("tags", (cursor, limit), load, type=Page[TagRecord])


def tag_detail(*, slug: str) -> TagRecord:
    def load() -> TagRecord | None:
        tag = Tag.objects.used().with_counts().filter(slug=slug).first()
        return TagRecord.of(tag) if tag else None

    record = blog_cache.get_or_set("tag", (slug,), load, type=TagRecord | None)
    if record is None:
        raise NotFound("No tag with this slug.")
    return record


# BATCH READS (GraphQL DataLoaders)
# ------------------------------------------------------------------------------
# A page of posts asks for the same authors, categories and tags each time it is read, so these
# go through the blog cache too, keyed by the sorted keys (written anywhere, any of them is made
# stale by the generation like every other read). Each read's result type, from its annotation,
# is what the cache decodes its entries into.

Batch = TypeVar("Batch", bound=Callable[..., Any])


def _cached_batch(kind: str) -> Callable[[Batch], Batch]:
    def decorate(read: Batch) -> Batch:
        result_type = typing.get_type_hints(read)["return"]

        @functools.wraps(read)
        def cached(keys: Iterable[Any], **options: Any) -> Any:
            unique = tuple(sorted(set(keys)))
            return blog_cache.get_or_set(
                kind,
                (unique, *sorted(options.items())),
                lambda: read(unique, **options),
                type=result_type,
            )

        return cached  # type: ignore[return-value]

    return decorate


def _authors_query(*, ids: list[int]) -> Any:
    return (
        get_user_model()
        .objects.filter(id__any=ids)
        .values("id", "username", "first_name", "last_name")
    )


_authors = CompiledQueries(_authors_query)


@_cached_batch("authors-by-id")
def authors_by_ids(ids: Iterable[int]) -> dict[int, AuthorRecord]:
    rows = _authors.rows({}, {"ids": list(ids)})
    return {row["id"]: AuthorRecord.from_names(**row) for row in rows}


@_cached_batch("categories-by-id")
def categories_by_ids(ids: Iterable[int]) -> dict[int, CategoryRecord]:
    categories = Category.objects.filter(pk__in=set(ids))
    return {c.pk: CategoryRecord.of(c) for c in categories}


@_cached_batch("children-by-category-id")
def category_children_by_ids(ids: Iterable[int]) -> dict[int, list[CategoryRecord]]:
    grouped: dict[int, list[CategoryRecord]] = defaultdict(list)
    children = Category.objects.active().filter(parent_id__in=set(ids)).order_by("name")
    for child in children:
        grouped[child.parent_id].append(CategoryRecord.of(child))  # type: ignore[index]
    return grouped


def _top_per_group(queryset: Any, *, group: str, order: list[Any], limit: int) -> Any:
    """The first ``limit`` rows of each ``group`` in one query (ROW_NUMBER() OVER a partition)."""
    return queryset.annotate(
        _rank=Window(RowNumber(), partition_by=[F(group)], order_by=order)
    ).filter(_rank__lte=limit)


@_cached_batch("comments-by-post-id")
def comments_by_post_ids(ids: Iterable[int], *, limit: int) -> dict[int, list[CommentView]]:
    """The first ``limit`` comments (oldest first) of each post, with their authors."""
    limit = clamp_limit(limit)
    grouped: dict[int, list[CommentView]] = defaultdict(list)
    comments = _top_per_group(
        Comment.objects.filter(post_id__in=set(ids)).with_author(),
        group="post_id",
        order=[F("created_at").asc(), F("id").asc()],
        limit=limit,
    ).order_by("post_id", "created_at", "id")
    for comment in comments:
        grouped[comment.post_id].append(CommentView.of(comment))
    return grouped


def _category_posts_query(*, category_ids: list[int], limit: int, body: bool) -> Any:
    return _top_per_group(
        Post.objects.published().filter(category_id__any=category_ids).as_view_rows(body=body),
        group="category_id",
        order=[F("published_at").desc(), F("id").desc()],
        limit=limit,
    ).order_by("category_id", "-published_at", "-id")


_category_posts = CompiledQueries(_category_posts_query)


@_cached_batch("posts-by-category-id")
def published_posts_by_category_ids(
    ids: Iterable[int], *, limit: int, body: bool = False
) -> dict[int, list[PostView]]:
    """The newest ``limit`` published posts filed directly under each category."""
    limit = clamp_limit(limit)
    grouped: dict[int, list[PostView]] = defaultdict(list)
    rows = _category_posts.rows({"body": body}, {"category_ids": list(ids), "limit": limit})
    for view in _views(rows):
        grouped[view.category_id].append(view)  # type: ignore[index]
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


def post_bodies_by_ids(ids: Iterable[int]) -> dict[int, str]:
    """The bodies of posts a caller already holds (read models of list pages leave them out)."""
    return dict(Post.objects.filter(pk__in=set(ids)).values_list("pk", "body"))


def posts_by_ids(ids: Iterable[int], *, viewer: Any) -> dict[int, PostView]:
    rows = Post.objects.visible_to(viewer).filter(pk__in=set(ids)).as_view_rows()
    return {view.id: view for view in _views(rows)}


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
acomments_by_post_ids = to_async(comments_by_post_ids)
apublished_posts_by_category_ids = to_async(published_posts_by_category_ids)
aposts_by_ids = to_async(posts_by_ids)
apost_bodies_by_ids = to_async(post_bodies_by_ids)
apublished_post_counts_by_category_ids = to_async(published_post_counts_by_category_ids)
apublished_post_counts_by_tag_ids = to_async(published_post_counts_by_tag_ids)
