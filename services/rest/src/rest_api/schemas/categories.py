from __future__ import annotations

from typing import Any

from pydantic import MISSING, Field

from domain.blog.records import CategoryNode
from rest_api.schemas.common import Changes, Input, Output
from rest_api.schemas.posts import PostPage


class CategoryOut(Output):
    id: int
    slug: str
    name: str
    description: str
    parent_id: int | None
    is_active: bool
    post_count: int | None = Field(description="Published posts filed directly under it.")


class CategoryDetail(CategoryOut):
    posts: PostPage = Field(
        description="The first page of its published posts, sub-categories' included; "
        "`next` continues in `/api/v1/posts?category=…`."
    )


class CategoryNodeOut(Output):
    """An active category with its active sub-categories, recursively."""

    id: int
    slug: str
    name: str
    description: str
    post_count: int | None
    children: list[CategoryNodeOut]


def tree_node(node: CategoryNode) -> dict[str, Any]:
    """A node of the domain's category tree with the fields of :class:`CategoryNodeOut`."""
    category = node.category
    return {
        "id": category.id,
        "slug": category.slug,
        "name": category.name,
        "description": category.description,
        "post_count": category.post_count,
        "children": [tree_node(child) for child in node.children],
    }


class CategoryTree(Output):
    items: list[CategoryNodeOut] = Field(description="The root categories.")


class CategoryCreate(Input):
    name: str
    slug: str | None = Field(default=None, description="Made from the name when omitted.")
    description: str = ""
    parent: str | None = Field(default=None, description="The parent category's slug.")
    is_active: bool = True


class CategoryPatch(Changes):
    """Only the fields sent change; `"parent": null` makes it a root category."""

    name: str | MISSING = MISSING
    slug: str | MISSING = MISSING
    description: str | MISSING = MISSING
    parent: str | MISSING | None = MISSING
    is_active: bool | MISSING = MISSING
