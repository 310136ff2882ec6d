"""domain.compiled: a QuerySet compiled once per shape returns what the QuerySet itself would,
for any values; a shape whose values cannot be bound once is compiled per call; its prepared
statement survives a migration that changes a column it reads."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from domain.blog.models import Post
from domain.compiled import CompiledQueries
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)


def titles_query(*, status: str, title: str | None = None, after_id: int | None = None) -> Any:
    posts = Post.objects.filter(status=status)
    if title is not None:
        posts = posts.filter(title=title)
    if after_id is not None:
        posts = posts.filter(id__gt=after_id)
    return posts.order_by("id").values("id", "title", "slug", "published_at")


def containing_query(*, text: str) -> Any:
    return Post.objects.filter(title__icontains=text).order_by("id").values("title")


@pytest.fixture
def posts(user: Any) -> list[Post]:
    return [make_post(user, title) for title in ("Alpha", "Beta", "Gamma")]


def test_rows_are_the_querysets_for_every_value(posts):
    compiled = CompiledQueries(titles_query)
    for values in ({"title": "Beta"}, {"title": "Gamma"}, {"after_id": posts[0].pk}, {}):
        expected = list(titles_query(status="published", **values))
        assert compiled.rows({"status": "published"}, values) == expected
    # Four shapes: a title, an id, neither (None moves into the shape; both titles share one).
    assert len(compiled._compiled) == 3
    assert all(entry is not None for entry in compiled._compiled.values())


def test_a_shape_is_compiled_once(posts):
    compiled = CompiledQueries(titles_query)
    compiled.rows({"status": "published"}, {"title": "Alpha"})
    with CaptureQueriesContext(connection) as captured:
        for title in ("Beta", "Gamma", "Delta"):
            compiled.rows({"status": "published"}, {"title": title})
    assert len(captured) == 3, "the statements still run, and are seen by query logging"
    assert len(compiled._compiled) == 1


def test_a_transformed_value_falls_back_to_compiling_per_call(posts):
    compiled = CompiledQueries(containing_query)
    assert compiled.rows({}, {"text": "mm"}) == [{"title": "Gamma"}]
    assert compiled.rows({}, {"text": "ET"}) == [{"title": "Beta"}]
    assert list(compiled._compiled.values()) == [None]


def test_shapes_are_bounded(posts):
    compiled = CompiledQueries(titles_query, maxsize=2)
    for status in ("published", "draft", "other"):
        compiled.rows({"status": status}, {})
    assert len(compiled._compiled) == 2


def test_a_migration_that_changes_a_read_column_does_not_break_the_prepared_statement(posts):
    compiled = CompiledQueries(titles_query)
    for _ in range(3):
        compiled.rows({"status": "published"}, {"after_id": 0})
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] >= 1
    migrate("ALTER TABLE blog_post ALTER COLUMN slug TYPE text")
    try:
        rows = compiled.rows({"status": "published"}, {"after_id": 0})
        assert [row["slug"] for row in rows] == ["alpha", "beta", "gamma"]
    finally:
        migrate("ALTER TABLE blog_post ALTER COLUMN slug TYPE varchar(220)")


def migrate(sql: str) -> None:
    """Run DDL from another connection, as a migration job in another container would."""
    params = connection.get_connection_params()
    params.pop("pool", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute(sql)
