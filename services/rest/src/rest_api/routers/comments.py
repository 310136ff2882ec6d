from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from domain.blog.records import CommentView
from domain.blog.selectors import acomment_list
from domain.blog.services.comments import acomment_add
from rest_api.deps import CurrentUser, IdempotencyKey, Slug, Viewer
from rest_api.etag import conditional, readable_by
from rest_api.pagination import next_page
from rest_api.problems import WRITE_ERRORS, problem_responses
from rest_api.render import render
from rest_api.schemas.comments import CommentCreate, CommentListQuery, CommentOut, CommentPage

router = APIRouter(prefix="/posts/{slug}/comments", tags=["comments"])


@router.get("", response_model=CommentPage, summary="List a post's comments", **conditional(404))
async def list_comments(
    slug: Slug, request: Request, viewer: Viewer, query: Annotated[CommentListQuery, Query()]
) -> Response:
    page = await acomment_list(
        viewer=viewer,
        post_slug=slug,
        ordering=query.ordering,
        cursor=query.cursor,
        limit=query.limit,
    )
    next_url = next_page(request, page.next_cursor)
    return readable_by(viewer, render(CommentPage, {"items": page.items, "next": next_url}))


@router.post(
    "",
    response_model=CommentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Comment on a post",
    responses=problem_responses(404, 409, *WRITE_ERRORS),
)
async def add_comment(
    slug: Slug,
    comment: CommentCreate,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> CommentView:
    """Any signed-in user may comment on a post they can see. Send an `Idempotency-Key` to
    retry safely."""
    return await acomment_add(
        author=user, post_slug=slug, body=comment.body, idempotency_key=idempotency_key
    )
