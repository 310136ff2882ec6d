from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import MISSING, BaseModel, Field

from domain import inputs
from domain.blog.selectors import DEFAULT_POST_ORDERING, POST_ORDERINGS, PostFilters
from rest_api.schemas.common import Changes, Input, Output, Page, PageQuery


class AuthorOut(Output):
    id: int
    username: str
    display_name: str


class CategoryRef(Output):
    id: int
    slug: str
    name: str


class TagRef(Output):
    id: int
    slug: str
    name: str


class PostSummary(Output):
    """A post as lists show it: everything but the body."""

    id: int
    slug: str
    title: str
    summary: str
    status: Literal["draft", "published"]
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    read_time_minutes: int
    view_count: int
    comment_count: int
    author: AuthorOut
    category: CategoryRef | None
    tags: list[TagRef]


class PostOut(PostSummary):
    body: str


class PostPage(Page[PostSummary]):
    pass


class ViewCount(BaseModel):
    view_count: int


class PostListQuery(PageQuery):
    category: str | None = Field(
        default=None,
        max_length=inputs.SLUG_MAX_LENGTH,
        description="A category's slug; its sub-categories' posts are included.",
    )
    tag: str | None = Field(
        default=None, max_length=inputs.SLUG_MAX_LENGTH, description="A tag's slug."
    )
    author: str | None = Field(
        default=None, max_length=inputs.USERNAME_MAX_LENGTH, description="The author's username."
    )
    status: Literal["published", "draft"] = Field(
        default="published",
        description="`draft` lists the drafts you may see (your own; all for editors) and "
        "needs a token.",
    )
    q: str | None = Field(
        default=None,
        max_length=inputs.search_max_length(),
        description='Full-text search in title, summary and body (web-search syntax: "a phrase", '
        "`or`, `-word`).",
    )
    ordering: str = Field(
        default=DEFAULT_POST_ORDERING, json_schema_extra={"enum": list(POST_ORDERINGS)}
    )

    def filters(self) -> PostFilters:
        return PostFilters(
            status=self.status, category=self.category, tag=self.tag, author=self.author, q=self.q
        )


class PostCreate(Input):
    title: str
    body: str = ""
    summary: str = ""
    category: str | None = Field(
        default=None, max_length=inputs.SLUG_MAX_LENGTH, description="An active category's slug."
    )
    tags: list[str] = Field(
        default_factory=list, description="Tag names; missing tags are created."
    )
    slug: str | None = Field(
        default=None,
        max_length=inputs.SLUG_MAX_LENGTH,
        description="Made from the title when omitted.",
    )
    publish: bool = Field(default=False, description="Publish at once instead of as a draft.")


class PostReplace(Changes):
    """Every writable field. The slug stays unless `slug` is sent (links keep working)."""

    title: str
    body: str
    summary: str
    category: str | None = Field(max_length=inputs.SLUG_MAX_LENGTH)
    tags: list[str]
    slug: str | MISSING = Field(default=MISSING, max_length=inputs.SLUG_MAX_LENGTH)


class PostPatch(Changes):
    """Only the fields sent change; `"category": null` files the post under no category."""

    title: str | MISSING = MISSING
    body: str | MISSING = MISSING
    summary: str | MISSING = MISSING
    category: str | MISSING | None = Field(default=MISSING, max_length=inputs.SLUG_MAX_LENGTH)
    tags: list[str] | MISSING = MISSING
    slug: str | MISSING = Field(default=MISSING, max_length=inputs.SLUG_MAX_LENGTH)
