"""A cache invalidation that one process could not deliver reaches every other process once
Redis answers it again, even if that process serves no more reads (the admin never reads through
the cache).

Two real processes share one Redis: a REST server (``python -m rest_api``) that reaches Redis
through a link this test can cut, and this test process, which reaches it directly. Each keeps
its own in-memory state (the deferred bump, the circuit breaker), as separate replicas do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from domain.accounts.services import token_issue
from domain.blog import selectors
from domain.blog.cache import blog_cache
from tests.factories import make_post
from tests.netlink import Link
from tests.serving import RunningServer, server, service_env

pytestmark = pytest.mark.django_db(transaction=True)

RETRY_AFTER = 0.2


def read_here(slug: str) -> tuple[str, int]:
    """This process's read of the post: its title, and the SQL it cost (0: a cache hit)."""
    with CaptureQueriesContext(connection) as captured:
        title = selectors.post_detail(viewer=None, slug=slug).title
    return title, len(captured)


def generation() -> Any:
    return caches["default"].get(blog_cache._generation_key)


@pytest.fixture
def redis_link() -> Iterator[Link]:
    location = urlsplit(settings.CACHES["default"]["LOCATION"])
    with Link(location.hostname or "127.0.0.1", location.port or 6379) as link:
        yield link


@pytest.fixture
def writer(redis_link: Link) -> Iterator[RunningServer]:
    """A REST server whose only way to Redis is the link."""
    env = service_env(
        SERVICE_NAME="rest-writer",
        REDIS_URL=f"redis://127.0.0.1:{redis_link.port}/0",
        CACHE_RETRY_AFTER=str(RETRY_AFTER),
        UVICORN_GRACEFUL_TIMEOUT="2",
    )
    with server(["-m", "rest_api"], env=env, probe="/api/health/live") as running:
        yield running


def test_a_deferred_invalidation_reaches_the_other_processes_once_redis_answers(
    user, redis_link, writer
):
    post = make_post(user, "Before")
    auth = {"Authorization": f"Bearer {token_issue(user=user).token}"}
    url = f"{writer.url}/api/v1/posts/{post.slug}"
    assert read_here(post.slug)[0] == "Before"
    assert read_here(post.slug) == ("Before", 0), "cached here"
    assert httpx.get(url).json()["title"] == "Before", "and the writer shares that cache"
    cached_at = generation()

    redis_link.cut()
    response = httpx.patch(url, json={"title": "After"}, headers=auth)
    assert response.status_code == 200, response.text
    assert generation() == cached_at, "the writer's bump could not reach Redis"
    assert httpx.get(url).json()["title"] == "After", "the writer does not trust the cache"

    redis_link.restore()
    # No more requests to the writer: it must deliver the bump by itself.
    deadline = time.monotonic() + 10 * RETRY_AFTER + 5
    while read_here(post.slug)[0] != "After":
        assert time.monotonic() < deadline, "the other processes still serve the old entry"
        time.sleep(0.05)
    assert generation() == cached_at + 1, "bumped once"
    assert read_here(post.slug) == ("After", 0), "and this process caches again"
