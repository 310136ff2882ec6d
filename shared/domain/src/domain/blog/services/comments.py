from __future__ import annotations

from typing import Any

from django.db import transaction

from domain.blog.models import Comment, Post
from domain.blog.permissions import require_authenticated
from domain.blog.records import CommentView
from domain.blog.services._validation import full_clean
from domain.core.idempotency import run_once
from domain.db import to_async
from domain.errors import InvalidInput, NotFound


def comment_add(
    *, author: Any, post_slug: str, body: str, idempotency_key: str | None = None
) -> CommentView:
    """Add a comment by ``author`` to a post they can see. Subscribers hear of it after commit
    (:mod:`domain.blog.signals`)."""
    require_authenticated(author)
    body = body.strip()
    if not body:
        raise InvalidInput.field("body", "A comment cannot be empty.")

    def write() -> int:
        post = Post.objects.visible_to(author).filter(slug=post_slug).first()
        if post is None:
            raise NotFound("No post with this slug.")
        comment = Comment(post=post, author=author, body=body)
        full_clean(comment)
        comment.save()
        return comment.pk

    with transaction.atomic():
        if idempotency_key is None:
            comment_id = write()
        else:
            comment_id, _ = run_once(
                user=author,
                scope="comment_add",
                key=idempotency_key,
                payload={"post": post_slug, "body": body},
                write=write,
                model=Comment,
            )
        return CommentView.of(Comment.objects.with_author().get(pk=comment_id))


acomment_add = to_async(comment_add)
