from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from domain.blog.selectors import PostFilters, atag_detail, atag_list
from rest_api.deps import Slug, Viewer
from rest_api.etag import conditional, readable_by
from rest_api.pagination import next_page
from rest_api.render import render
from rest_api.routers.posts import with_first_posts
from rest_api.schemas.common import LimitQuery, PageQuery
from rest_api.schemas.tags import TagDetail, TagPage

router = APIRouter(prefix="/tags", tags=["tags"])


@router.get("", response_model=TagPage, summary="List tags", **conditional())
async def list_tags(
    request: Request, viewer: Viewer, query: Annotated[PageQuery, Query()]
) -> Response:
    """Tags in name order, each with its published post count."""
    page = await atag_list(cursor=query.cursor, limit=query.limit)
    next_url = next_page(request, page.next_cursor)
    return readable_by(viewer, render(TagPage, {"items": page.items, "next": next_url}))


@router.get(
    "/{slug}", response_model=TagDetail, summary="Get a tag with its posts", **conditional(404)
)
async def get_tag(
    slug: Slug, request: Request, viewer: Viewer, query: Annotated[LimitQuery, Query()]
) -> Response:
    tag = atag_detail(slug=slug)
    return await with_first_posts(
        TagDetail, tag, request, viewer, PostFilters(tag=slug), query.limit
    )
