"""django-ninja on Django's own ASGI handler: async views iterating the baseline QuerySets with
``async for`` (:mod:`.orm`).

    uvicorn fastdjango_bench.baselines.ninja_api:application

Its responses are rendered by pydantic-core, so datetimes read as the product writes them
(ninja's default encoder cuts them to milliseconds).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fastdjango_bench.baselines.django_settings")
os.environ.setdefault("BENCH_URLCONF", __name__)

from django.core.asgi import get_asgi_application

application = get_asgi_application()

import pydantic_core  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from ninja import NinjaAPI, Schema  # noqa: E402
from ninja.errors import HttpError  # noqa: E402
from ninja.renderers import BaseRenderer  # noqa: E402

from domain.blog.models import Post  # noqa: E402
from fastdjango_bench.baselines import orm  # noqa: E402
from fastdjango_bench.baselines.pages import PAGE_SIZE, BadCursor  # noqa: E402


class PydanticRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return pydantic_core.to_json(data)


class AuthorOut(Schema):
    id: int
    username: str
    display_name: str


class Ref(Schema):
    id: int
    slug: str
    name: str


class PostSummary(Schema):
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

    @staticmethod
    def resolve_comment_count(post: Post) -> int:
        return post.n_comments  # type: ignore[attr-defined]


class PostOut(PostSummary):
    body: str


class PostPage(Schema):
    items: list[PostSummary]
    next: str | None


api = NinjaAPI(renderer=PydanticRenderer(), docs_url=None, openapi_url=None)


@api.get("/posts", response=PostPage)
async def list_posts(request: HttpRequest, cursor: str | None = None) -> dict[str, Any]:
    try:
        page = orm.after(orm.published_posts(), cursor)
    except BadCursor:
        raise HttpError(400, "Bad cursor") from None
    posts = [post async for post in page]
    return {"items": posts[:PAGE_SIZE], "next": orm.next_of(posts)}


@api.get("/posts/{slug}", response=PostOut)
async def get_post(request: HttpRequest, slug: str) -> Post:
    post = await orm.published_posts().filter(slug=slug).afirst()
    if post is None:
        raise HttpError(404, "Not Found")
    return post


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("api/v1/", api.urls), path("health", health)]
