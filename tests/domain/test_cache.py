"""The blog's read-through cache: reads come from Redis, no read after a write is stale
(whichever process or path wrote), and a Redis outage costs speed, never correctness."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from domain import cache as domain_cache
from domain.blog import selectors
from domain.blog.cache import blog_cache
from domain.blog.models import Category, Post, Tag
from domain.blog.records import PostView
from domain.blog.services.comments import comment_add
from domain.blog.services.posts import post_update
from tests import infra
from tests.factories import make_category, make_post

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


def add_comment(post: Post, user: Any) -> None:
    comment_add(author=user, post_slug=post.slug, body="Hi")


def add_tag(post: Post, user: Any) -> None:
    post.tags.add(Tag.objects.create(name="New", slug="new"))


def rename_category(post: Post, user: Any) -> None:
    category = Category.objects.get(pk=post.category_id)
    category.name = "Renamed"
    category.save()


def rename_author(post: Post, user: Any) -> None:
    user.first_name = "Alicia"
    user.save()


@pytest.mark.parametrize("write", [add_comment, add_tag, rename_category, rename_author])
def test_writes_to_related_data_are_seen(user, write):
    post = make_post(user, "Related", category=make_category("Python"))
    before, _ = read_post(post.slug)
    write(post, user)
    after, queries = read_post(post.slug)
    assert queries > 0
    assert after != before


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


@pytest.fixture
def own_redis(settings) -> Iterator[Any]:
    """A Redis of this test's own, on a fixed port so that it comes back where it was."""
    port = infra.free_port()
    with infra.redis(host_port=port) as container:
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}
        }
        settings.CACHE_RETRY_AFTER = 0.2
        yield container.get_wrapped_container()


def wait_for_redis() -> None:
    deadline = time.monotonic() + 20
    backend = caches["default"]
    while time.monotonic() < deadline:
        try:
            backend.ping()
            return
        except Exception:
            time.sleep(0.1)
    raise AssertionError("Redis did not come back")


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
    time.sleep(0.3)  # past CACHE_RETRY_AFTER
    view, _ = read_post(post.slug)
    assert view.title == "Written while Redis was down"
    assert read_post(post.slug)[1] == 0, "caching resumes once Redis is back"


def test_a_write_while_redis_is_unreachable_is_not_forgotten(user, own_redis):
    """Redis keeps its data through a pause; the write's invalidation, deferred while Redis
    could not be reached, runs before this process trusts the cache again."""
    post = make_post(user, "Before")
    read_post(post.slug)
    own_redis.pause()
    try:
        post_update(actor=user, slug=post.slug, title="After")
    finally:
        own_redis.unpause()
    time.sleep(0.3)
    assert read_post(post.slug)[0].title == "After"


def test_a_hung_redis_costs_one_timeout_not_one_per_request(user, own_redis, settings):
    settings.CACHE_RETRY_AFTER = 30
    post = make_post(user)
    own_redis.pause()
    try:
        started = time.perf_counter()
        for _ in range(20):
            assert read_post(post.slug)[0].slug == post.slug
        elapsed = time.perf_counter() - started
    finally:
        own_redis.unpause()
    # One socket timeout (0.5 s) at most, then the breaker answers at once.
    assert elapsed < 1.5, elapsed
    assert not domain_cache._breakers[settings.CACHES["default"]["LOCATION"]].allows()
