"""Fixtures for every test that runs on the Django domain: real PostgreSQL and Redis (see
tests/infra.py), a clean cache per test, and the users most tests need."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests import factories, infra
from tests.infra import Backing, backing_services


@pytest.fixture(scope="session")
def backing() -> Iterator[Backing]:
    with backing_services() as services:
        yield services


def point_django_at(backing: Backing) -> None:
    """Aim Django's settings at the test PostgreSQL and Redis before anything connects."""

    from django.conf import settings

    from domain.env import postgres_from_env

    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = backing.database_url
    try:
        settings.DATABASES["default"].update(postgres_from_env())
    finally:
        if previous is None:
            del os.environ["DATABASE_URL"]
        else:
            os.environ["DATABASE_URL"] = previous
    settings.CACHES["default"]["LOCATION"] = backing.redis_url


@pytest.fixture(scope="session")
def django_db_modify_db_settings(backing: Backing) -> None:
    point_django_at(backing)


@pytest.fixture(autouse=True)
def _fresh_cache(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with an empty Redis and a cache that believes Redis is up."""
    if request.node.get_closest_marker("e2e"):
        yield
        return
    request.getfixturevalue("django_db_setup")
    from django.core.cache import cache

    from domain import cache as domain_cache

    for breaker in domain_cache._breakers.values():
        breaker.down_until, breaker.failing = 0.0, False
    clear_test_keys(cache)
    yield


def clear_test_keys(cache: Any) -> None:
    """Delete the keys under the tests' prefix (not FLUSHDB: the Redis may be shared)."""
    from django.conf import settings

    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def user(db: Any) -> Any:
    return factories.make_user(username="alice")


@pytest.fixture
def other_user(db: Any) -> Any:
    return factories.make_user(username="bob")


@pytest.fixture
def editor(db: Any) -> Any:
    """Staff with every blog permission (view, change, delete, publish, manage categories)."""
    return factories.make_user(
        username="editor",
        is_staff=True,
        perms=[
            "blog.view_post",
            "blog.change_post",
            "blog.delete_post",
            "blog.publish_post",
            "blog.add_category",
            "blog.change_category",
            "blog.delete_category",
        ],
    )


@pytest.fixture
def anonymous() -> Any:
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


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
