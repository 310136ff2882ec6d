"""domain.inputs: the one place for input bounds, and the domain's own last lines of defence (page
sizes in the batch reads behind DataLoaders, cursor length, the driver's refusal of NUL)."""

from __future__ import annotations

import pytest
from django.conf import settings

from domain import db, inputs
from domain.blog import selectors
from domain.blog.models import Category, Post, Tag
from domain.errors import InvalidInput
from domain.pagination import decode_cursor, encode_cursor
from tests.factories import make_category, make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_page_sizes_default_and_are_refused_outside_the_range():
    assert inputs.page_size(None) == settings.PAGE_SIZE_DEFAULT
    assert inputs.page_size(settings.PAGE_SIZE_MAX) == settings.PAGE_SIZE_MAX
    for size in (0, -1, settings.PAGE_SIZE_MAX + 1):
        with pytest.raises(InvalidInput) as refused:
            inputs.page_size(size)
        assert refused.value.errors == {
            "limit": [f"Must be between 1 and {settings.PAGE_SIZE_MAX}."]
        }


@pytest.mark.parametrize(
    "read", [selectors.comments_by_post_ids, selectors.published_posts_by_category_ids]
)
@pytest.mark.parametrize("limit", [0, 100_000])
def test_the_batch_reads_behind_dataloaders_refuse_out_of_range_pages(read, limit):
    post = make_post(make_user(), category=make_category())
    with pytest.raises(InvalidInput) as refused:
        read([post.pk, post.category_id], limit=limit)
    assert "limit" in refused.value.errors
    assert read([post.pk, post.category_id], limit=settings.PAGE_SIZE_MAX) is not None


def test_bounds_follow_the_database_schema():
    slugs = [model._meta.get_field("slug").max_length for model in (Post, Category, Tag)]
    assert max(slugs) == inputs.SLUG_MAX_LENGTH
    from django.contrib.auth import get_user_model

    assert get_user_model()._meta.get_field("username").max_length == inputs.USERNAME_MAX_LENGTH
    assert inputs.max_length("q") == settings.SEARCH_MAX_LENGTH
    assert inputs.max_length("post_slug") == inputs.SLUG_MAX_LENGTH
    assert inputs.max_length("title") is None  # the post services validate it


def test_the_longest_cursor_this_api_makes_is_accepted_and_longer_ones_are_not():
    title_length = Post._meta.get_field("title").max_length
    key = selectors.POST_ORDERINGS["-title"]
    longest = encode_cursor("-title", "\U0001f600" * title_length, 2**63 - 1)
    assert len(longest) <= inputs.CURSOR_MAX_LENGTH
    assert decode_cursor(longest, "-title", key) == ("\U0001f600" * title_length, 2**63 - 1)
    too_long = encode_cursor("-title", "x" * inputs.CURSOR_MAX_LENGTH, 1)
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(too_long, "-title", key)
    assert "cursor" in refused.value.errors


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("plain", None),
        ("emoji \U0001f600 and accents é", None),
        ("a\x00b", inputs.NOT_TEXT),
        ("lone \ud800 surrogate", inputs.NOT_TEXT),
        ("\udfff", inputs.NOT_TEXT),
    ],
)
def test_text_that_postgresql_cannot_take_is_named(value, problem):
    assert inputs.text_problem(value) == problem
    assert inputs.has_unstorable_text({"a": [value]}) is (problem is not None)


def test_check_text_names_the_input_and_its_bound():
    assert inputs.check_text("slug", "x" * inputs.SLUG_MAX_LENGTH) == "x" * inputs.SLUG_MAX_LENGTH
    with pytest.raises(InvalidInput) as refused:
        inputs.check_text("slug", "x" * (inputs.SLUG_MAX_LENGTH + 1))
    assert refused.value.errors == {"slug": [f"At most {inputs.SLUG_MAX_LENGTH} characters."]}
    with pytest.raises(InvalidInput) as refused:
        inputs.check_text("title", "a\x00")
    assert refused.value.errors == {"title": [inputs.NOT_TEXT]}


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"/api/v1/posts/caf%C3%A9", "/api/v1/posts/café"),
        (b"/api/v1/posts/%00", None),
        (b"/api/v1/posts/%ff", None),
        (b"/api/v1/posts/%ED%A0%80", None),  # an encoded surrogate is not UTF-8
        (b"q=a+b", "q=a b"),
    ],
)
def test_url_parts_must_decode_to_text(raw, text):
    assert inputs.decode_url_part(raw, plus_is_space=True) == text


@pytest.mark.parametrize("slug", ["a\x00b", "a\ud800b"])
async def test_text_the_driver_refuses_is_invalid_input_not_a_server_error(slug):
    """The last line of defence, for text that got past every edge: ``db.run`` maps psycopg's
    DataError (NUL) and the encoding error (a lone surrogate) to InvalidInput."""
    with pytest.raises(InvalidInput) as refused:
        await db.run(selectors.visible_post_id, viewer=None, slug=slug)
    assert refused.value.errors == {"__all__": [inputs.NOT_TEXT]}


async def test_other_database_errors_are_not_turned_into_invalid_input():
    def broken() -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT 1/0")

    from django.db import DataError

    with pytest.raises(DataError):
        await db.run(broken)
