"""Concurrent writers: equal titles still get distinct slugs; no view is lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import close_old_connections

from domain.blog.models import Post
from domain.blog.services.posts import post_create, post_record_view
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` on ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)

    def task() -> Any:
        barrier.wait()
        try:
            return work()
        finally:
            close_old_connections()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return [future.result() for future in [pool.submit(task) for _ in range(count)]]


def test_concurrent_creates_of_one_title_get_distinct_slugs(user):
    views = run_together(8, lambda: post_create(author=user, title="Breaking news"))
    slugs = {view.slug for view in views}
    assert len(slugs) == 8
    assert "breaking-news" in slugs
    assert Post.objects.count() == 8


def test_concurrent_idempotent_creates_make_one_post(user):
    views = run_together(
        6, lambda: post_create(author=user, title="Exactly once", idempotency_key="retry-1")
    )
    assert len({view.id for view in views}) == 1
    assert Post.objects.count() == 1


def test_concurrent_views_are_all_counted(user):
    post = make_post(user)

    def view_many() -> None:
        for _ in range(25):
            post_record_view(slug=post.slug)

    run_together(8, view_many)
    post.refresh_from_db()
    assert post.view_count == 200
