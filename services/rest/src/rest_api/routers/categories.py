from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from domain.blog.records import CategoryRecord
from domain.blog.selectors import PostFilters, acategory_detail, acategory_tree
from domain.blog.services.categories import (
    acategory_create,
    acategory_delete,
    acategory_update,
)
from rest_api.deps import CurrentUser, Slug, Viewer
from rest_api.etag import conditional, readable_by
from rest_api.problems import WRITE_ERRORS, problem_responses
from rest_api.render import render
from rest_api.routers.posts import with_first_posts
from rest_api.schemas.categories import (
    CategoryCreate,
    CategoryDetail,
    CategoryOut,
    CategoryPatch,
    CategoryTree,
    tree_node,
)
from rest_api.schemas.common import LimitQuery

router = APIRouter(prefix="/categories", tags=["categories"])


@router.get("", response_model=CategoryTree, summary="The category tree", **conditional())
async def category_tree(viewer: Viewer) -> Response:
    """Active categories as a forest, each with its published post count."""
    roots = await acategory_tree()
    return readable_by(viewer, render(CategoryTree, {"items": [tree_node(n) for n in roots]}))


@router.get(
    "/{slug}",
    response_model=CategoryDetail,
    summary="Get a category with its posts",
    **conditional(404),
)
async def get_category(
    slug: Slug, request: Request, viewer: Viewer, query: Annotated[LimitQuery, Query()]
) -> Response:
    """Inactive categories are 404 except to editors."""
    category = acategory_detail(viewer=viewer, slug=slug)
    filters = PostFilters(category=slug)
    return await with_first_posts(CategoryDetail, category, request, viewer, filters, query.limit)


@router.post(
    "",
    response_model=CategoryOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a category",
    responses=problem_responses(403, 409, *WRITE_ERRORS),
)
async def create_category(
    category: CategoryCreate, user: CurrentUser, request: Request, response: Response
) -> CategoryRecord:
    """Needs the `blog.add_category` permission."""
    record = await acategory_create(actor=user, **category.model_dump())
    response.headers["Location"] = request.app.url_path_for("get_category", slug=record.slug)
    return record


@router.patch(
    "/{slug}",
    response_model=CategoryOut,
    summary="Update a category",
    responses=problem_responses(403, 404, 409, *WRITE_ERRORS),
)
async def update_category(slug: Slug, changes: CategoryPatch, user: CurrentUser) -> CategoryRecord:
    """Needs `blog.change_category`. Moving a category under itself or a descendant is 422."""
    return await acategory_update(actor=user, slug=slug, **changes.as_update())


@router.delete(
    "/{slug}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a category",
    responses=problem_responses(403, 404, 409),
)
async def delete_category(
    slug: Slug,
    user: CurrentUser,
    move_to: Annotated[
        str | None,
        Query(description="The category that takes over its posts and sub-categories."),
    ] = None,
) -> None:
    """Needs `blog.delete_category`. Posts and sub-categories are never deleted with a
    category: an empty one is deleted; a non-empty one is 409 unless `move_to` names the
    category that takes them over (in the same transaction)."""
    await acategory_delete(actor=user, slug=slug, move_to=move_to)
