from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from domain.asgi.http_cache import fills_part_caches
from domain.blog.records import PostView
from domain.blog.selectors import PostFilters, apost_detail, apost_list
from domain.blog.services.posts import (
    apost_create,
    apost_delete,
    apost_publish,
    apost_record_view,
    apost_unpublish,
    apost_update,
)
from rest_api.deps import CurrentUser, IdempotencyKey, Slug, Viewer
from rest_api.etag import conditional, readable_by
from rest_api.pagination import next_link, next_page
from rest_api.problems import WRITE_ERRORS, problem_responses
from rest_api.render import render
from rest_api.schemas.posts import (
    PostCreate,
    PostListQuery,
    PostOut,
    PostPage,
    PostPatch,
    PostReplace,
    ViewCount,
)

router = APIRouter(prefix="/posts", tags=["posts"])

# Writes to one post: it may be missing (or a draft you may not see), not yours, or its new slug
# taken.
_EDIT_ERRORS = problem_responses(403, 404, 409, *WRITE_ERRORS)


@router.get("", response_model=PostPage, summary="List posts", **conditional())
async def list_posts(
    request: Request, viewer: Viewer, query: Annotated[PostListQuery, Query()]
) -> Response:
    """Published posts, newest first, one page at a time; filters combine. With
    `status=draft`, the drafts you may see instead."""
    page = await apost_list(
        viewer=viewer,
        filters=query.filters(),
        ordering=query.ordering,
        cursor=query.cursor,
        limit=query.limit,
        cache=fills_part_caches(viewer),
    )
    next_url = next_page(request, page.next_cursor)
    return readable_by(viewer, render(PostPage, {"items": page.items, "next": next_url}))


@router.post(
    "",
    response_model=PostOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a post",
    responses=problem_responses(404, 409, *WRITE_ERRORS),
)
async def create_post(
    post: PostCreate,
    user: CurrentUser,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PostView:
    """A draft unless `publish` is true. Send an `Idempotency-Key` to retry safely."""
    view = await apost_create(author=user, idempotency_key=idempotency_key, **post.model_dump())
    response.headers["Location"] = request.app.url_path_for("get_post", slug=view.slug)
    return view


@router.get("/{slug}", response_model=PostOut, summary="Get a post", **conditional(404))
async def get_post(slug: Slug, viewer: Viewer) -> Response:
    """A published post, or a draft you may see; other drafts are 404."""
    post = await apost_detail(viewer=viewer, slug=slug, cache=fills_part_caches(viewer))
    return readable_by(viewer, render(PostOut, post))


@router.put("/{slug}", response_model=PostOut, summary="Replace a post", responses=_EDIT_ERRORS)
async def replace_post(slug: Slug, post: PostReplace, user: CurrentUser) -> PostView:
    return await apost_update(actor=user, slug=slug, **post.as_update())


@router.patch("/{slug}", response_model=PostOut, summary="Update a post", responses=_EDIT_ERRORS)
async def update_post(slug: Slug, changes: PostPatch, user: CurrentUser) -> PostView:
    return await apost_update(actor=user, slug=slug, **changes.as_update())


@router.delete(
    "/{slug}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a post",
    responses=problem_responses(403, 404),
)
async def delete_post(slug: Slug, user: CurrentUser) -> None:
    """Deletes its comments too; its tags and category stay."""
    await apost_delete(actor=user, slug=slug)


@router.post(
    "/{slug}/publish",
    response_model=PostOut,
    summary="Publish a post",
    responses=problem_responses(403, 404),
)
async def publish_post(slug: Slug, user: CurrentUser) -> PostView:
    """Publishing twice is harmless; a republished post keeps its first publication date."""
    return await apost_publish(actor=user, slug=slug)


@router.post(
    "/{slug}/unpublish",
    response_model=PostOut,
    summary="Unpublish a post",
    responses=problem_responses(403, 404),
)
async def unpublish_post(slug: Slug, user: CurrentUser) -> PostView:
    return await apost_unpublish(actor=user, slug=slug)


@router.post(
    "/{slug}/views",
    response_model=ViewCount,
    summary="Count a view",
    responses=problem_responses(404),
)
async def record_view(slug: Slug) -> ViewCount:
    """Count one view of a published post. Reading a post does not count it, so reads stay
    cacheable; a cached post shows its count as of when it was cached."""
    return ViewCount(view_count=await apost_record_view(slug=slug))


async def with_first_posts(
    model: type[BaseModel],
    record: Awaitable[Any],
    request: Request,
    viewer: Viewer,
    filters: PostFilters,
    limit: int | None,
) -> Response:
    """``record`` (a category or tag, awaited) as ``model``, with the first page of the posts
    ``filters`` selects, both loaded at once. The page's ``next`` link continues in the post list
    with the same filter."""
    found, page = await asyncio.gather(
        record, apost_list(viewer=viewer, filters=filters, limit=limit)
    )
    params = [
        (name, value) for name, value in asdict(filters).items() if value and name != "status"
    ]
    if limit is not None:
        params.append(("limit", str(limit)))
    path = request.app.url_path_for("list_posts")
    posts = {"items": page.items, "next": next_link(path, params, page.next_cursor)}
    fields = {name: getattr(found, name) for name in model.model_fields if name != "posts"}
    return readable_by(viewer, render(model, {**fields, "posts": posts}))
