"""Prepared statements are on by default, and a migration that changes a selected column (run by
another process, as the migration job is) does not break a process that has them prepared:
PostgreSQL refuses the stale statement ("cached plan must not change result type"), domain.db
drops the connection's prepared statements and runs the statement, or the unit of work, again."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from django.core.cache import caches
from django.db import connection, transaction

from domain import db
from domain.blog import selectors
from domain.blog.models import Post
from tests.conftest import clear_test_keys
from tests.dbfaults import database_settings
from tests.factories import make_posts

pytestmark = pytest.mark.django_db(transaction=True)

# More than psycopg's threshold (runs before a statement is prepared).
RUNS = 8


def page_slugs() -> list[str]:
    # A cache miss, every time. (Not django.core.cache.cache at module level: pytest's collection
    # would look into that proxy and create the cache before the tests point it at their Redis.)
    clear_test_keys(caches["default"])
    return [post.slug for post in selectors.post_list(viewer=None).items]


def slugs_in_a_transaction() -> list[str]:
    with transaction.atomic():
        return list(Post.objects.order_by("id").values_list("slug", flat=True))


def prepared_statements() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


@pytest.fixture
def one_connection() -> Iterator[None]:
    """A pool of one connection, so every call meets the statements the previous ones prepared."""
    with database_settings(pool={"min_size": 1, "max_size": 1}):
        yield


@pytest.fixture
def migrate_slug_to_text() -> Iterator[None]:
    """What a migration in another process does: change a selected column's type (and undo it)."""
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)

    def alter(sql: str) -> None:
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(sql)

    alter("ALTER TABLE blog_post ALTER COLUMN slug TYPE text")
    try:
        yield
    finally:
        alter("ALTER TABLE blog_post ALTER COLUMN slug TYPE varchar(220)")


def test_prepared_statements_are_on_by_default(settings):
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] is not None


async def test_a_column_changing_migration_does_not_break_a_read(user, one_connection, request):
    await db.run(make_posts, user, 3)
    for _ in range(RUNS):
        slugs = await db.run(page_slugs)
    assert await db.run(prepared_statements) > 0

    request.getfixturevalue("migrate_slug_to_text")
    assert await db.run(page_slugs) == slugs
    assert await db.run(page_slugs) == slugs


async def test_a_column_changing_migration_does_not_break_a_transaction(
    user, one_connection, request
):
    await db.run(make_posts, user, 3)
    for _ in range(RUNS):
        slugs = await db.run(slugs_in_a_transaction)
    assert await db.run(prepared_statements) > 0

    request.getfixturevalue("migrate_slug_to_text")
    with db.track_queries() as log:
        assert await db.run(slugs_in_a_transaction) == slugs
    assert log.count == 2  # refused once, then run again on prepared-afresh statements
    assert await db.run(slugs_in_a_transaction) == slugs
