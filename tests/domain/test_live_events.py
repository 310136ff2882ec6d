"""The domain's side of live subscriptions: who may receive a comment event now (one read for any
number of viewers, fresh after every write), and the access changes the accounts app announces
on Redis after each commit, whichever way the write was made."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.utils import timezone

from domain.accounts.events import ACCESS_CHANGED_CHANNEL, AccessChanged
from domain.accounts.models import ApiToken
from domain.accounts.services import token_issue
from domain.blog.events import CommentAdded, comment_audience
from domain.blog.services.posts import post_delete, post_unpublish
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def event_on(post: Any) -> CommentAdded:
    return CommentAdded(
        comment_id=1,
        post_id=post.pk,
        post_slug=post.slug,
        author_id=post.author_id,
        body="hi",
        created_at=timezone.now(),
    )


# COMMENT AUDIENCE
# ------------------------------------------------------------------------------


def test_a_published_post_is_read_once_for_any_number_of_viewers(
    user, anonymous, django_assert_num_queries
):
    post = factories.make_post(user, "Open")
    viewers = [anonymous, user] + [factories.make_user() for _ in range(48)]

    with django_assert_num_queries(1):  # cold cache: the post's author and status
        assert comment_audience(event_on(post), viewers) == [True] * 50
    with django_assert_num_queries(0):  # the other processes: a cache hit
        assert comment_audience(event_on(post), viewers) == [True] * 50


def test_a_draft_reaches_its_author_and_staff_who_see_drafts(user, other_user, editor, anonymous):
    draft = factories.make_post(user, "Draft", status="draft")
    assert comment_audience(event_on(draft), [anonymous, other_user, user, editor]) == [
        False,
        False,
        True,
        True,
    ]


def test_the_answer_follows_unpublishing_and_deleting_at_once(user, other_user, anonymous):
    post = factories.make_post(user, "Soon hidden")
    event = event_on(post)
    assert comment_audience(event, [anonymous, other_user, user]) == [True, True, True]

    post_unpublish(actor=user, slug=post.slug)
    assert comment_audience(event, [anonymous, other_user, user]) == [False, False, True]

    post_delete(actor=user, slug=post.slug)
    assert comment_audience(event, [anonymous, other_user, user]) == [False, False, False]


# ACCESS CHANGES, ANNOUNCED
# ------------------------------------------------------------------------------


@pytest.fixture
def announced() -> Iterator[Any]:
    """A function returning the user ids announced on the access channel since the last call."""
    client = redis.from_url(str(settings.CACHES["default"]["LOCATION"]))
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(ACCESS_CHANGED_CHANNEL)
    pubsub.get_message(timeout=1)  # the subscription's confirmation

    def drain() -> list[int]:
        # A marker published after the writes: everything announced before it has arrived.
        client.publish(ACCESS_CHANGED_CHANNEL, AccessChanged(user_id=-1).to_json())
        ids = []
        while (message := pubsub.get_message(timeout=5)) is not None:
            user_id = AccessChanged.from_json(message["data"]).user_id
            if user_id == -1:
                return ids
            ids.append(user_id)
        raise AssertionError("the marker never came back")

    yield drain
    pubsub.close()
    client.close()


def test_token_writes_that_end_access_are_announced(user, announced):
    issued = token_issue(user=user)
    token = ApiToken.objects.get(pk=issued.id)
    assert announced() == []  # issuing a token narrows nothing

    token.last_used_at = timezone.now()
    token.save(update_fields=["last_used_at"])
    assert announced() == []  # what every authentication writes

    token.revoked_at = timezone.now()
    token.save()  # the admin's change form
    assert announced() == [user.pk]

    token.delete()
    assert announced() == [user.pk]


def test_user_writes_that_may_end_access_are_announced(user, announced):
    user_logged_in.send(sender=type(user), request=None, user=user)  # saves last_login only
    assert announced() == []

    user.user_permissions.add(Permission.objects.get(codename="view_post"))
    assert announced() == [user.pk]

    user.is_active = False
    user.save()
    assert announced() == [user.pk]

    user_id = user.pk
    user.delete()
    assert announced() == [user_id]  # (the user; no tokens of theirs to cascade to)


def test_nothing_is_announced_for_a_write_that_rolls_back(user, announced):
    token = ApiToken.objects.get(pk=token_issue(user=user).id)

    def expire_then_fail() -> None:
        with transaction.atomic():
            token.expires_at = timezone.now() - timedelta(seconds=1)
            token.save()
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        expire_then_fail()
    assert announced() == []
