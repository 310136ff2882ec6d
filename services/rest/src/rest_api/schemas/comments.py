from __future__ import annotations

from datetime import datetime

from pydantic import Field

from domain.blog.selectors import COMMENT_ORDERINGS
from rest_api.schemas.common import Input, Output, Page, PageQuery
from rest_api.schemas.posts import AuthorOut


class CommentOut(Output):
    id: int
    body: str
    created_at: datetime
    author: AuthorOut


class CommentPage(Page[CommentOut]):
    pass


class CommentCreate(Input):
    body: str


class CommentListQuery(PageQuery):
    ordering: str = Field(
        default="created_at",
        description="Oldest first by default.",
        json_schema_extra={"enum": list(COMMENT_ORDERINGS)},
    )
