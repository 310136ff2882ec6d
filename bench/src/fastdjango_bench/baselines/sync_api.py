"""The original project's way: sync ``def`` FastAPI endpoints (FastAPI runs them on its thread
pool) over the Django ORM, relations read lazily — a query per post for its author, category,
tags and comment count — and a Pydantic response model.

    uvicorn fastdjango_bench.baselines.sync_api:app

Connections stay open per thread (``DB_POOL=false``): nothing here would give a pooled one back.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fastdjango_bench.baselines.django_settings")
django.setup(set_prefix=False)

from django.db.models import Q  # noqa: E402
from fastapi import FastAPI, HTTPException  # noqa: E402
from fastapi.responses import PlainTextResponse  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from domain.blog.models import Post  # noqa: E402
from fastdjango_bench.baselines.pages import (  # noqa: E402
    PAGE_SIZE,
    BadCursor,
    decode_cursor,
    next_link,
)


class AuthorOut(BaseModel):
    id: int
    username: str
    display_name: str


class Ref(BaseModel):
    id: int
    slug: str
    name: str


class PostSummary(BaseModel):
    id: int
    slug: str
    title: str
    summary: str
    status: str
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    read_time_minutes: int
    view_count: int
    comment_count: int
    author: AuthorOut
    category: Ref | None
    tags: list[Ref]


class PostOut(PostSummary):
    body: str


class PostPage(BaseModel):
    items: list[PostSummary]
    next: str | None


def _ref(obj: Any) -> dict[str, Any]:
    return {"id": obj.id, "slug": obj.slug, "name": obj.name}


def _summary(post: Post) -> dict[str, Any]:
    author = post.author
    return {
        "id": post.id,
        "slug": post.slug,
        "title": post.title,
        "summary": post.summary,
        "status": post.status,
        "published_at": post.published_at,
        "created_at": post.created_at,
        "updated_at": post.updated_at,
        "read_time_minutes": post.read_time_minutes,
        "view_count": post.view_count,
        "comment_count": post.comments.count(),
        "author": {
            "id": author.id,
            "username": author.username,
            "display_name": author.display_name,
        },
        "category": _ref(post.category) if post.category else None,
        "tags": [_ref(tag) for tag in post.tags.order_by("name")],
    }


app = FastAPI(openapi_url=None)


@app.get("/health")
def health() -> PlainTextResponse:
    return PlainTextResponse("ok")


@app.get("/api/v1/posts", response_model=PostPage)
def list_posts(cursor: str | None = None) -> dict[str, Any]:
    posts = Post.objects.filter(status="published").order_by("-published_at", "-id")
    if cursor:
        try:
            value, pk = decode_cursor(cursor)
        except BadCursor:
            raise HTTPException(400, "Bad cursor") from None
        posts = posts.filter(Q(published_at__lt=value) | Q(published_at=value, id__lt=pk))
    rows = list(posts[: PAGE_SIZE + 1])
    last = rows[PAGE_SIZE - 1] if len(rows) > PAGE_SIZE else None
    return {
        "items": [_summary(post) for post in rows[:PAGE_SIZE]],
        "next": next_link(last.published_at, last.pk) if last and last.published_at else None,
    }


@app.get("/api/v1/posts/{slug}", response_model=PostOut)
def get_post(slug: str) -> dict[str, Any]:
    post = Post.objects.filter(status="published", slug=slug).first()
    if post is None:
        raise HTTPException(404, "Not Found")
    return {**_summary(post), "body": post.body}
