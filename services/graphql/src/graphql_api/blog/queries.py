"""The blog's root query fields. Each one makes one domain read; relations follow by DataLoader."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

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


def _fields(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """The fields of a selection set, with those of its fragments; iterative, as a chain of
    fragment spreads may be longer than Python's recursion limit."""
    stack = [selection_set] if selection_set else []
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    stack.append(fragment.selection_set)


def _named(name: str, fields: Iterable[FieldNode]) -> list[FieldNode]:
    return [field for field in fields if field.name.value == name]


def _reads_post_bodies(info: Info) -> bool:
    """Whether this connection field's selection reads its posts' ``body``, so the page can load
    it at once rather than leave it out (list pages read no bodies they do not return).

    Read from the document itself: Strawberry's ``selected_fields`` converts the whole selection
    and its arguments first, a few percent of a page miss. A body this misses is still loaded,
    by its DataLoader (``Post.body``)."""
    raw = info._raw_info
    fragments = raw.fragments
    for connection_field in raw.field_nodes:
        for field in _fields(connection_field.selection_set, fragments):
            if field.name.value == "nodes":
                posts = [field]
            elif field.name.value == "edges":
                posts = _named("node", _fields(field.selection_set, fragments))
            else:
                continue
            if any(_named("body", _fields(post.selection_set, fragments)) for post in posts):
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
