from __future__ import annotations

import pytest

from domain.blog.models import Comment
from domain.blog.services.comments import comment_add
from domain.errors import InvalidInput, NotAuthenticated, NotFound
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)


def test_add_a_comment(user, other_user):
    post = make_post(user)
    view = comment_add(author=other_user, post_slug=post.slug, body="  Great post  ")
    assert view.body == "Great post"
    assert view.author.username == "bob"
    assert view.post_id == post.pk


def test_comments_need_a_visible_post_an_author_and_a_body(user, other_user, anonymous):
    draft = make_post(user, status="draft")
    with pytest.raises(NotFound):
        comment_add(author=other_user, post_slug=draft.slug, body="hi")
    assert comment_add(author=user, post_slug=draft.slug, body="note to self").body
    with pytest.raises(NotAuthenticated):
        comment_add(author=anonymous, post_slug=draft.slug, body="hi")
    with pytest.raises(InvalidInput):
        comment_add(author=user, post_slug=draft.slug, body="   ")
    with pytest.raises(InvalidInput):
        comment_add(author=user, post_slug=draft.slug, body="x" * 5001)
    assert Comment.objects.count() == 1


def test_comment_idempotency(user):
    post = make_post(user)
    first = comment_add(author=user, post_slug=post.slug, body="once", idempotency_key="c1")
    second = comment_add(author=user, post_slug=post.slug, body="once", idempotency_key="c1")
    assert first.id == second.id
    assert Comment.objects.count() == 1


def test_a_replay_after_the_comment_was_deleted_is_not_found(user):
    post = make_post(user)
    first = comment_add(author=user, post_slug=post.slug, body="once", idempotency_key="c1")
    Comment.objects.filter(pk=first.id).delete()
    with pytest.raises(NotFound, match=r"comment .* deleted"):
        comment_add(author=user, post_slug=post.slug, body="once", idempotency_key="c1")
    assert not Comment.objects.exists()
