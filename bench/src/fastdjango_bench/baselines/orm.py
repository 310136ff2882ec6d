"""The page queries of the Django-based baselines, written as a Django user would: the models'
managers, ``select_related`` for the foreign keys, ``prefetch_related`` for the tags and a
correlated ``Count`` for the comments."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from domain.blog.models import Comment, Post, Tag
from fastdjango_bench.baselines.pages import PAGE_SIZE, decode_cursor, next_link


def published_posts() -> QuerySet[Post]:
    """Published posts, newest first, with author, category, tags and ``n_comments``."""
    comments = (
        Comment.objects.filter(post=OuterRef("pk"))
        .order_by()
        .values("post")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        Post.objects.filter(status="published")
        .select_related("author", "category")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .annotate(n_comments=Coalesce(Subquery(comments), 0))
        .order_by("-published_at", "-id")
    )


def after(posts: QuerySet[Post], cursor: str | None) -> QuerySet[Post]:
    """``posts`` after the cursor's row (raises :class:`~.pages.BadCursor`), one page and one
    row more (to know whether a next page exists)."""
    if cursor:
        value, pk = decode_cursor(cursor)
        posts = posts.filter(Q(published_at__lt=value) | Q(published_at=value, id__lt=pk))
    return posts[: PAGE_SIZE + 1]


def next_of(posts: list[Post]) -> str | None:
    if len(posts) <= PAGE_SIZE:
        return None
    last = posts[PAGE_SIZE - 1]
    assert last.published_at is not None  # published posts always have one
    return next_link(last.published_at, last.pk)
