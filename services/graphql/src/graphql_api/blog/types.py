"""The blog's object types.

Each type declares the schema; at run time its objects are the domain's read models
(:mod:`domain.blog.records`), whose attributes the default resolvers read as they are: a post
read model carries its author, category and tags, a comment its author, so those fields need no
resolver at all. The other relations are resolved through the request's DataLoaders, never by a
query per object.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum

import strawberry
from django.conf import settings

from domain.blog.records import CategoryRecord, CommentRecord, PostView, TagRecord
from domain.blog.selectors import COMMENT_ORDERINGS, POST_ORDERINGS
from graphql_api.context import Info
from graphql_api.dataloaders import Slice

PAGE_SIZE = settings.PAGE_SIZE_DEFAULT


def _ordering_enum(name: str, orderings: Iterable[str], description: str) -> type[Enum]:
    """An enum of the domain's orderings: ``-published_at`` is ``PUBLISHED_AT_DESC``."""
    members = {
        f"{key.lstrip('-')}_{'DESC' if key.startswith('-') else 'ASC'}".upper(): key
        for key in orderings
    }
    return strawberry.enum(Enum(name, members), description=description)  # type: ignore[return-value]


PostOrder = _ordering_enum("PostOrder", POST_ORDERINGS, "The order of a post list.")
CommentOrder = _ordering_enum("CommentOrder", COMMENT_ORDERINGS, "The order of a comment list.")


@strawberry.enum(description="Whether a post is public.")
class PostStatus(Enum):
    PUBLISHED = strawberry.enum_value("published", description="Visible to everyone.")
    DRAFT = strawberry.enum_value(
        "draft", description="Visible to its author and to staff who may view all posts."
    )


@strawberry.type(description="The public face of a user: who wrote a post or a comment.")
class Author:
    id: strawberry.ID
    username: str
    display_name: str = strawberry.field(description="The full name, or else the username.")


async def _post_count(record: CategoryRecord | TagRecord, info: Info, *, of_tag: bool) -> int:
    if record.post_count is not None:
        return record.post_count
    loaders = info.context.loaders
    loader = loaders.post_count_by_tag_id if of_tag else loaders.post_count_by_category_id
    return await loader.load(record.id)


async def _category(info: Info, category_id: int | None) -> CategoryRecord | None:
    if category_id is None:
        return None
    return await info.context.loaders.category_by_id.load(category_id)


@strawberry.type(description="A tag. Its posts: `posts(filter: {tag: $slug})`.")
class Tag:
    id: strawberry.ID
    slug: str
    name: str

    @strawberry.field(description="How many published posts carry the tag.")
    async def post_count(self, root: strawberry.Parent[TagRecord], info: Info) -> int:
        return await _post_count(root, info, of_tag=True)


@strawberry.type(
    description="A node of the category tree. Only active categories appear in the tree; "
    "a post may still name an inactive one."
)
class Category:
    id: strawberry.ID
    slug: str
    name: str
    description: str
    is_active: bool

    @strawberry.field(description="How many published posts are filed directly under it.")
    async def post_count(self, root: strawberry.Parent[CategoryRecord], info: Info) -> int:
        return await _post_count(root, info, of_tag=False)

    @strawberry.field(description="The category above, or null for a root.")
    async def parent(self, root: strawberry.Parent[CategoryRecord], info: Info) -> Category | None:
        if root.parent is not None:  # post reads load it with the category
            return root.parent
        return await _category(info, root.parent_id)

    @strawberry.field(description="The active sub-categories, by name.")
    async def children(self, root: strawberry.Parent[CategoryRecord], info: Info) -> list[Category]:
        return await info.context.loaders.child_categories_by_parent_id.load(root.id)

    @strawberry.field(
        description="The newest published posts filed directly under it (not under its "
        "sub-categories; `posts(filter: {category: $slug})` includes those)."
    )
    async def posts(
        self, root: strawberry.Parent[CategoryRecord], info: Info, first: int = PAGE_SIZE
    ) -> list[Post]:
        key = Slice(root.id, first)
        return await info.context.loaders.published_posts_by_category_slice.load(key)


@strawberry.type(description="A blog post. Drafts are seen by their author and by staff only.")
class Post:
    id: strawberry.ID
    slug: str = strawberry.field(description="The post's address; stable when the title changes.")
    title: str
    summary: str
    status: PostStatus
    published_at: datetime | None = strawberry.field(
        description="When it first went live; null for a draft never published."
    )
    created_at: datetime
    updated_at: datetime
    read_time_minutes: int = strawberry.field(description="Minutes an average reader needs.")
    view_count: int = strawberry.field(description="Views counted by `recordPostView`.")
    comment_count: int

    author: Author = strawberry.field(description="Who wrote it.")
    category: Category | None = strawberry.field(description="Where it is filed, if anywhere.")
    tags: list[Tag] = strawberry.field(description="Its tags, by name (at most 10).")

    @strawberry.field(description="The text.")
    async def body(self, root: strawberry.Parent[PostView], info: Info) -> str:
        # List pages load the body only when their selection asks for it (blog.queries).
        if root.body is not None:
            return root.body
        return await info.context.loaders.body_by_post_id.load(root.id)

    @strawberry.field(
        description="Its oldest comments. To page through all: `comments(postSlug: ...)`."
    )
    async def comments(
        self, root: strawberry.Parent[PostView], info: Info, first: int = PAGE_SIZE
    ) -> list[Comment]:
        return await info.context.loaders.comments_by_post_slice.load(Slice(root.id, first))


@strawberry.type(description="A comment on a post.")
class Comment:
    id: strawberry.ID
    body: str
    created_at: datetime
    author: Author = strawberry.field(description="Who wrote it.")

    @strawberry.field(description="The post it is on (null if the viewer may no longer see it).")
    async def post(self, root: strawberry.Parent[CommentRecord], info: Info) -> Post | None:
        return await info.context.loaders.post_by_id.load(root.post_id)
