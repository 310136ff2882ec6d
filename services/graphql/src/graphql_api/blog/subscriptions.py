"""The blog's subscriptions, served over WebSocket (graphql-transport-ws)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry

from domain.blog.records import CommentView
from domain.blog.selectors import aauthors_by_ids, avisible_post_id
from graphql_api.blog.types import Comment
from graphql_api.context import Context, Info


async def _comments(context: Context, post_id: int) -> AsyncIterator[CommentView]:
    async for event in context.feed.comments_on(post_id):
        # A connection lives long: each event resolves its relations with fresh loaders.
        context.renew_loaders()
        authors = await aauthors_by_ids([event.author_id])
        yield CommentView(
            id=event.comment_id,
            post_id=event.post_id,
            author_id=event.author_id,
            body=event.body,
            created_at=event.created_at,
            author=authors[event.author_id],
        )


@strawberry.type
class BlogSubscription:
    @strawberry.subscription(
        description="Each new comment on the post, whoever writes it and through whichever "
        "service. A post the viewer may not see is NOT_FOUND."
    )
    async def comment_added(self, info: Info, post_slug: str) -> AsyncIterator[Comment]:
        # Checked before the stream starts, so a refusal is the operation's error message.
        post_id = await avisible_post_id(viewer=info.context.user, slug=post_slug)
        return _comments(info.context, post_id)  # type: ignore[return-value]
