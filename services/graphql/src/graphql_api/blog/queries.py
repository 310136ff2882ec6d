"""The blog's root query fields. Each one makes one domain read; relations follow by DataLoader."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from domain.asgi.http_cache import fills_part_caches
from domain.blog import selectors
from domain.blog.selectors import COMMENT_ORDERINGS, POST_ORDERINGS, TAG_ORDERINGS, PostFilters
from graphql_api.blog.types import (
    PAGE_SIZE,
    Category,
    Comment,
    CommentOrder,
    Post,
    PostOrder,
    PostStatus,
    Tag,
)
from graphql_api.context import Info
from graphql_api.errors import or_none
from graphql_api.pagination import Connection, connection


@strawberry.input(description="Narrows a post list; all given conditions must hold.")
class PostFilter:
    category: str | None = strawberry.field(
        default=None, description="A category's slug; its sub-categories' posts are included."
    )
    tag: str | None = strawberry.field(default=None, description="A tag's slug.")
    author: str | None = strawberry.field(default=None, description="An author's username.")
    search: str | None = strawberry.field(
        default=None,
        description='Full-text search of title, summary and body ("quoted phrases", or, -word).',
    )
    status: PostStatus = strawberry.field(
        default=PostStatus.PUBLISHED,
        description="DRAFT lists the drafts the viewer may see, and requires signing in.",
    )

    def to_domain(self) -> PostFilters:
        return PostFilters(
            status=self.status.value,
            category=self.category,
            tag=self.tag,
            author=self.author,
            q=self.search,
        )


def _fields(selections: Iterable[Any]) -> Iterator[SelectedField]:
    """The fields of a selection, with those of its fragments."""
    for selection in selections:
        if isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)
        else:
            yield selection


def _reads_post_bodies(info: Info) -> bool:
    """Whether this connection field's selection reads its posts' ``body``, so the page can load
    it at once rather than leave it out (list pages read no bodies they do not return)."""
    for connection_field in info.selected_fields:
        for field in _fields(connection_field.selections):
            posts = (
                [field]
                if field.name == "nodes"
                else [n for n in _fields(field.selections) if n.name == "node"]
                if field.name == "edges"
                else []
            )
            if any(f.name == "body" for post in posts for f in _fields(post.selections)):
                return True
    return False


@strawberry.type
class BlogQuery:
    @strawberry.field(description="Posts, newest first unless `orderBy` says otherwise.")
    async def posts(
        self,
        info: Info,
        filters: Annotated[PostFilter | None, strawberry.argument(name="filter")] = None,
        order_by: PostOrder = PostOrder.PUBLISHED_AT_DESC,  # type: ignore[attr-defined]
        first: int = PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[Post]:
        page = await selectors.apost_list(
            viewer=info.context.user,
            filters=filters.to_domain() if filters else None,
            ordering=order_by.value,
            cursor=after,
            limit=first,
            body=_reads_post_bodies(info),
            cache=fills_part_caches(info.context.user),
        )
        return connection(page, orderings=POST_ORDERINGS, ordering=order_by.value, after=after)

    @strawberry.field(description="The post with this slug, or null if the viewer may not see it.")
    async def post(self, info: Info, slug: str) -> Post | None:
        viewer = info.context.user
        post = selectors.apost_detail(viewer=viewer, slug=slug, cache=fills_part_caches(viewer))
        return await or_none(post)

    @strawberry.field(description="The comments on a post, oldest first unless `orderBy` says.")
    async def comments(
        self,
        info: Info,
        post_slug: str,
        order_by: CommentOrder = CommentOrder.CREATED_AT_ASC,  # type: ignore[attr-defined]
        first: int = PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[Comment]:
        page = await selectors.acomment_list(
            viewer=info.context.user,
            post_slug=post_slug,
            ordering=order_by.value,
            cursor=after,
            limit=first,
        )
        return connection(page, orderings=COMMENT_ORDERINGS, ordering=order_by.value, after=after)

    @strawberry.field(description="The category tree: its roots, each with `children` below.")
    async def categories(self, info: Info) -> list[Category]:
        tree = await selectors.acategory_tree()
        info.context.loaders.prime_category_tree(tree)
        return [node.category for node in tree]

    @strawberry.field(description="The category with this slug, or null.")
    async def category(self, info: Info, slug: str) -> Category | None:
        return await or_none(selectors.acategory_detail(viewer=info.context.user, slug=slug))

    @strawberry.field(description="Tags, by name.")
    async def tags(self, first: int = PAGE_SIZE, after: str | None = None) -> Connection[Tag]:
        page = await selectors.atag_list(cursor=after, limit=first)
        return connection(page, orderings=TAG_ORDERINGS, ordering="name", after=after)

    @strawberry.field(description="The tag with this slug, or null.")
    async def tag(self, slug: str) -> Tag | None:
        return await or_none(selectors.atag_detail(slug=slug))
