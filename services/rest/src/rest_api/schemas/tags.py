from __future__ import annotations

from pydantic import Field

from rest_api.schemas.common import Output, Page
from rest_api.schemas.posts import PostPage


class TagOut(Output):
    id: int
    slug: str
    name: str
    post_count: int | None = Field(description="Published posts carrying it.")


class TagPage(Page[TagOut]):
    pass


class TagDetail(TagOut):
    posts: PostPage = Field(
        description="The first page of its published posts; `next` continues in "
        "`/api/v1/posts?tag=…`."
    )
