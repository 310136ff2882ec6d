"""The blog's subscriptions, served over WebSocket (graphql-transport-ws)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import strawberry
from graphql import GraphQLError

from domain.blog.records import CommentView
from domain.blog.selectors import aauthors_by_ids, avisible_post_id
from domain.errors import Unavailable
from graphql_api.blog.types import Comment
from graphql_api.context import Context, Info
from graphql_api.errors import ErrorCode
from graphql_api.pubsub import SubscriptionOverflow, TooManySubscriptions

_FULL = "This server holds as many subscriptions as it may; try again shortly."
_OVERFLOWED = (
    "This subscription fell too far behind and missed comments; read the comments again, then "
    "subscribe again."
)


async def _comments(context: Context, post_id: int) -> AsyncIterator[CommentView]:
    events = context.feed.comments_on(post_id, viewer=lambda: context.user)
    try:
        async with contextlib.aclosing(events):
            async for event in events:
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
    except SubscriptionOverflow:
        raise GraphQLError(
            _OVERFLOWED, extensions={"code": ErrorCode.EVENTS_DROPPED.value}
        ) from None
    except TooManySubscriptions:
        raise Unavailable(_FULL) from None


@strawberry.type
class BlogSubscription:
    @strawberry.subscription(
        description="Each new comment on the post, whoever writes it and through whichever "
        "service. A post the viewer may not see is NOT_FOUND, when subscribing and at any later "
        "comment (unpublished, deleted); a subscriber that falls behind ends with EVENTS_DROPPED."
    )
    async def comment_added(self, info: Info, post_slug: str) -> AsyncIterator[Comment]:
        # Checked before the stream starts, so a refusal is the operation's error message.
        post_id = await avisible_post_id(viewer=info.context.user, slug=post_slug)
        try:
            info.context.feed.check_capacity()
        except TooManySubscriptions:
            raise Unavailable(_FULL) from None
        return _comments(info.context, post_id)  # type: ignore[return-value]
