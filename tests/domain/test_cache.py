"""The blog's read-through cache: reads come from Redis, no read after a write is stale
(whichever process or path wrote), and a Redis outage costs speed, never correctness."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from redis.connection import Connection
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain import cache as domain_cache
from domain.blog import selectors
from domain.blog.cache import blog_cache
from domain.blog.models import Category, Post, Tag
from domain.blog.records import PostView
from domain.blog.services.comments import comment_add
from domain.blog.services.posts import post_update
from tests.factories import make_category, make_post
from tests.infra import wait_for_redis

pytestmark = pytest.mark.django_db(transaction=True)


def read_post(slug: str, viewer: Any = None) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as captured:
        view = selectors.post_detail(viewer=viewer, slug=slug)
    return view, len(captured)


def test_a_cached_read_costs_no_query(user):
    post = make_post(user, "Cached")
    first, queries = read_post(post.slug)
    assert queries > 0
    second, queries = read_post(post.slug)
    assert queries == 0
    assert second == first


def test_lists_and_the_category_tree_are_cached(user):
    make_post(user, category=make_category("Python"))
    selectors.post_list(viewer=None)
    selectors.category_tree()
    with CaptureQueriesContext(connection) as captured:
        selectors.post_list(viewer=None)
        selectors.category_tree()
        selectors.tag_list()
        selectors.tag_list()
    assert len(captured) == 1  # only the first tag_list


def test_a_service_write_is_seen_by_the_next_read(user):
    post = make_post(user, "Before")
    read_post(post.slug)
    post_update(actor=user, slug=post.slug, title="After")
    view, queries = read_post(post.slug)
    assert view.title == "After"
    assert queries > 0


def test_a_write_outside_the_services_is_seen_too(user):
    """The admin and the shell save models directly; signals invalidate for them."""
    post = make_post(user, "Before")
    read_post(post.slug)
    listing = selectors.post_list(viewer=None)
    assert listing.items[0].title == "Before"
    instance = Post.objects.get(pk=post.pk)
    instance.title = "Edited in the admin"
    instance.save()
    assert read_post(post.slug)[0].title == "Edited in the admin"
    assert selectors.post_list(viewer=None).items[0].title == "Edited in the admin"


def add_comment(post: Post, user: Any) -> Callable[[Any], Any]:
    comment_add(author=user, post_slug=post.slug, body="Hi")
    return lambda view: view.comment_count


def add_tag(post: Post, user: Any) -> Callable[[Any], Any]:
    post.tags.add(Tag.objects.create(name="New", slug="new"))
    return lambda view: [tag.slug for tag in view.tags]


def rename_category(post: Post, user: Any) -> Callable[[Any], Any]:
    category = Category.objects.get(pk=post.category_id)
    category.name = "Renamed"
    category.save()
    return lambda view: view.category.name


def rename_author(post: Post, user: Any) -> Callable[[Any], Any]:
    user.first_name = "Alicia"
    user.save()
    return lambda view: view.author.display_name


@pytest.mark.parametrize(
    ("write", "was", "now"),
    [
        (add_comment, 0, 1),
        (add_tag, [], ["new"]),
        (rename_category, "Python", "Renamed"),
        (rename_author, "alice", "Alicia"),
    ],
)
def test_writes_to_related_data_are_seen(user, write, was, now):
    post = make_post(user, "Related", category=make_category("Python"))
    before, _ = read_post(post.slug)
    shown = write(post, user)
    after, queries = read_post(post.slug)
    assert queries > 0
    assert (shown(before), shown(after)) == (was, now)
    assert after.title == before.title == "Related"


def test_a_login_does_not_empty_the_cache(user):
    post = make_post(user)
    read_post(post.slug)
    user.last_login = None
    user.save(update_fields=["last_login"])
    assert read_post(post.slug)[1] == 0


def test_a_reader_racing_a_write_cannot_leave_a_stale_entry(user):
    """A reader loads the old row, the write commits and bumps the generation, then the reader
    stores what it loaded: stamped with the old generation, which no later read accepts."""
    post = make_post(user, "Old title")
    stale = selectors.post_detail(viewer=None, slug=post.slug)
    old_generation = caches["default"].get(blog_cache._generation_key)
    post_update(actor=user, slug=post.slug, title="New title")
    key = blog_cache.entry_key("post", (post.slug,), PostView | None)
    caches["default"].set(key, blog_cache.entry(old_generation, stale))
    assert read_post(post.slug)[0].title == "New title"


def test_an_evicted_generation_starts_fresh_not_old(user):
    post = make_post(user)
    read_post(post.slug)
    caches["default"].delete(blog_cache._generation_key)
    assert read_post(post.slug)[1] > 0


# REDIS OUTAGES
# ------------------------------------------------------------------------------


def served_from_the_cache(slug: str, seconds: float = 10) -> Any:
    """Read until a read costs no query, and return it. Not at once: an attempt that was still
    connecting while Redis started (the deferred bump's retry, say) may fail after Redis
    answers, and then the breaker skips Redis for another ``CACHE_RETRY_AFTER``."""
    deadline = time.monotonic() + seconds
    while True:
        view, queries = read_post(slug)
        if queries == 0:
            return view
        assert time.monotonic() < deadline, "caching did not resume"
        time.sleep(0.05)


def test_reads_and_writes_succeed_while_redis_is_stopped(user, own_redis, caplog):
    post = make_post(user, "Before")
    read_post(post.slug)
    own_redis.stop(timeout=1)
    with caplog.at_level(logging.WARNING, logger="domain.cache"):
        assert read_post(post.slug)[0].title == "Before"
        post_update(actor=user, slug=post.slug, title="Written while Redis was down")
        for _ in range(5):
            view, queries = read_post(post.slug)
            assert view.title == "Written while Redis was down"
            assert queries > 0
    outage_warnings = [r for r in caplog.records if "cache unavailable" in r.getMessage()]
    assert len(outage_warnings) == 1  # logged once per outage, not once per request

    own_redis.start()
    wait_for_redis()
    view, _ = read_post(post.slug)
    assert view.title == "Written while Redis was down"
    view = served_from_the_cache(post.slug)  # caching resumes once Redis is back
    assert view.title == "Written while Redis was down"


def test_a_write_while_redis_is_unreachable_is_not_forgotten(user, own_redis):
    """The write's invalidation cannot reach Redis; this process remembers it and delivers it
    once Redis answers, before it trusts the cache again. Redis is stopped, not paused: a paused
    Redis may still receive the INCR when it resumes, and the retry would never be needed. Its
    data survives the stop, so the stale entry is there when it returns."""
    post = make_post(user, "Before")
    read_post(post.slug)
    generation = caches["default"].get(blog_cache._generation_key)
    caches["default"]._cache.get_client(write=True).save()  # what comes back after the stop
    own_redis.stop(timeout=5)
    post_update(actor=user, slug=post.slug, title="After")
    assert read_post(post.slug)[0].title == "After", "fresh while Redis is down"
    own_redis.start()
    wait_for_redis()
    assert read_post(post.slug)[0].title == "After", "fresh as soon as Redis is back"
    assert served_from_the_cache(post.slug).title == "After", "and once caching resumes"
    assert caches["default"].get(blog_cache._generation_key) == generation + 1, "bumped once"


class RedisCalls:
    """Commands this process sent to Redis, and how many of them timed out."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent = self.timeouts = 0
        send, read = Connection.send_packed_command, Connection.read_response

        def counted_send(connection: Connection, *args: Any, **kwargs: Any) -> Any:
            self.sent += 1
            return send(connection, *args, **kwargs)

        def counted_read(connection: Connection, *args: Any, **kwargs: Any) -> Any:
            try:
                return read(connection, *args, **kwargs)
            except RedisTimeoutError:
                self.timeouts += 1
                raise

        monkeypatch.setattr(Connection, "send_packed_command", counted_send)
        monkeypatch.setattr(Connection, "read_response", counted_read)


def test_a_hung_redis_costs_one_timeout_not_one_per_request(user, own_redis, settings, monkeypatch):
    """Counted, not timed: of 20 reads against a hung Redis, the breaker lets one command
    through (it times out), and the other 19 reads never wait on Redis."""
    settings.CACHE_RETRY_AFTER = 30
    post = make_post(user)
    calls = RedisCalls(monkeypatch)
    own_redis.pause()
    try:
        for _ in range(20):
            assert read_post(post.slug)[0].slug == post.slug
    finally:
        own_redis.unpause()
    assert (calls.sent, calls.timeouts) == (1, 1)
    assert not domain_cache._breakers[settings.CACHES["default"]["LOCATION"]].allows()
