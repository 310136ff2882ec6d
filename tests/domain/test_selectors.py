"""Selectors: pages, filters, visibility, and the batch reads behind GraphQL's DataLoaders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from domain.blog import selectors
from domain.blog.cache import blog_cache
from domain.blog.selectors import PostFilters
from domain.errors import InvalidInput, NotAuthenticated, NotFound
from domain.pagination import decode_cursor, encode_cursor
from tests.factories import make_category, make_comment, make_post, make_posts

pytestmark = pytest.mark.django_db(transaction=True)


def all_pages(**kwargs) -> list[str]:
    slugs, cursor = [], None
    while True:
        page = selectors.post_list(cursor=cursor, **kwargs)
        slugs += [post.slug for post in page.items]
        if not page.has_next:
            return slugs
        cursor = page.next_cursor


@pytest.mark.parametrize("ordering", list(selectors.POST_ORDERINGS))
def test_pages_cover_every_post_once_in_order(user, ordering):
    # Titles in an order of their own, so that no ordering can pass for another.
    titles = ["delta", "alpha", "golf", "bravo", "echo", "charlie", "foxtrot"]
    start = timezone.now() - timedelta(hours=1)
    posts = [
        make_post(
            user,
            title,
            published_at=start + timedelta(minutes=n),
            created_at=start + timedelta(minutes=len(titles) - n),
        )
        for n, title in enumerate(titles)
    ]
    field, descending = ordering.lstrip("-"), ordering.startswith("-")
    expected = sorted(posts, key=lambda post: getattr(post, field), reverse=descending)
    assert all_pages(viewer=None, ordering=ordering, limit=3) == [post.slug for post in expected]


def test_pages_stay_stable_when_posts_are_added(user):
    make_posts(user, 4)
    first = selectors.post_list(viewer=None, limit=2)
    make_post(user, "Newest")  # lands before the first page, not inside the next one
    second = selectors.post_list(viewer=None, limit=2, cursor=first.next_cursor)
    assert not {p.slug for p in first.items} & {p.slug for p in second.items}
    assert "newest" not in {p.slug for p in second.items}


def test_nullable_sort_keys_paginate_drafts_too(editor, user):
    make_posts(user, 3, status="draft")
    slugs = all_pages(
        viewer=editor, filters=PostFilters(status="draft"), ordering="-published_at", limit=2
    )
    assert len(slugs) == 3


@pytest.mark.parametrize("cursor", ["garbage", encode_cursor("title", "x", 1), "e30", "W10"])
def test_a_foreign_or_broken_cursor_is_invalid_input(user, cursor):
    make_post(user)
    with pytest.raises(InvalidInput) as raised:
        selectors.post_list(viewer=None, cursor=cursor)
    assert "cursor" in raised.value.errors


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_page_size_is_bounded(limit):
    with pytest.raises(InvalidInput):
        selectors.post_list(viewer=None, limit=limit)


def test_unknown_ordering_is_invalid_input():
    with pytest.raises(InvalidInput) as raised:
        selectors.post_list(viewer=None, ordering="view_count")
    assert "ordering" in raised.value.errors


def test_cursor_round_trip():
    key = selectors.POST_ORDERINGS["-created_at"]
    from django.utils import timezone

    now = timezone.now()
    assert decode_cursor(encode_cursor("-created_at", key.encode(now), 7), "-created_at", key) == (
        now,
        7,
    )


def test_filters(user, other_user):
    python = make_category("Python")
    django = make_category("Django", parent=python)
    a = make_post(user, "Django tips", category=django, tags=["web"])
    make_post(other_user, "Rust tips", tags=["systems"])
    make_post(user, "Draft", status="draft", category=django)

    def slugs(**filters) -> set[str]:
        return {
            p.slug for p in selectors.post_list(viewer=None, filters=PostFilters(**filters)).items
        }

    assert slugs(category="python") == {a.slug}
    assert slugs(tag="web") == {a.slug}
    assert slugs(author="bob") == {"rust-tips"}
    assert slugs(q="django") == {a.slug}
    assert slugs(category="python", tag="systems") == set()


def test_drafts_list_is_the_viewers_own_and_needs_a_user(user, other_user, editor, anonymous):
    make_post(user, "Mine", status="draft")
    make_post(other_user, "Theirs", status="draft")
    drafts = PostFilters(status="draft")
    assert [p.slug for p in selectors.post_list(viewer=user, filters=drafts).items] == ["mine"]
    assert {p.slug for p in selectors.post_list(viewer=editor, filters=drafts).items} == {
        "mine",
        "theirs",
    }
    with pytest.raises(NotAuthenticated):
        selectors.post_list(viewer=anonymous, filters=drafts)


def test_a_list_page_is_one_query_whatever_its_size(user):
    make_posts(user, 20, category=make_category("Python"), tags=["a", "b", "c"])
    for size in (5, 20):
        blog_cache.invalidate()
        with CaptureQueriesContext(connection) as captured:
            page = selectors.post_list(viewer=None, limit=size)
        assert len(page.items) == size
        assert all(post.author.username and post.tags for post in page.items)
        assert len(captured) == 1, [q["sql"] for q in captured]


def test_a_list_page_is_one_query_and_leaves_the_body_out_unless_asked(user):
    """Every post list returns views (author, category, tags): the posts with their authors and
    categories joined and their tags aggregated per row. (It replaced a records-only list of one
    query whose relations GraphQL then fetched in five more.)"""
    untagged = make_post(user, published_at=timezone.now() - timedelta(days=1))
    tagged = make_post(user, tags=["zebra", "apple", "mango"])
    with CaptureQueriesContext(connection) as captured:
        page = selectors.post_list(viewer=None)
    assert len(captured) == 1
    assert [post.id for post in page.items] == [tagged.pk, untagged.pk]
    assert page.items[0].author.id == page.items[0].author_id == user.pk
    # By name; a post without tags has none.
    assert [tag.name for tag in page.items[0].tags] == ["apple", "mango", "zebra"]
    assert {tag.id for tag in page.items[0].tags} == set(tagged.tags.values_list("id", flat=True))
    assert page.items[1].tags == ()
    assert all(post.body is None for post in page.items)
    with_bodies = selectors.post_list(viewer=None, body=True)
    assert all(post.body for post in with_bodies.items)


def test_post_detail_visibility(user, other_user, editor, anonymous):
    draft = make_post(user, status="draft")
    assert selectors.post_detail(viewer=user, slug=draft.slug).slug == draft.slug
    assert selectors.post_detail(viewer=editor, slug=draft.slug).slug == draft.slug
    for viewer in (other_user, anonymous, None):
        with pytest.raises(NotFound):
            selectors.post_detail(viewer=viewer, slug=draft.slug)
    with pytest.raises(NotFound):
        selectors.post_detail(viewer=user, slug="missing")


def test_comment_list(user, other_user):
    post = make_post(user)
    comments = [make_comment(post, other_user, f"c{n}") for n in range(5)]
    page = selectors.comment_list(viewer=None, post_slug=post.slug, limit=3)
    assert [c.id for c in page.items] == [c.pk for c in comments[:3]]
    rest = selectors.comment_list(viewer=None, post_slug=post.slug, cursor=page.next_cursor)
    assert [c.id for c in rest.items] == [c.pk for c in comments[3:]]
    assert page.items[0].author.username == "bob"
    draft = make_post(user, status="draft")
    with pytest.raises(NotFound):
        selectors.comment_list(viewer=other_user, post_slug=draft.slug)


def test_category_tree_hides_inactive_branches(user):
    root = make_category("Root")
    child = make_category("Child", parent=root)
    hidden = make_category("Hidden", parent=root, is_active=False)
    make_category("Under hidden", parent=hidden)
    make_post(user, category=child)
    (node,) = selectors.category_tree()
    assert node.category.slug == "root"
    assert [c.category.slug for c in node.children] == ["child"]
    assert node.children[0].category.post_count == 1


def test_category_detail(user, editor):
    make_category("Hidden", is_active=False)
    make_category("Shown")
    assert selectors.category_detail(viewer=None, slug="shown").name == "Shown"
    with pytest.raises(NotFound):
        selectors.category_detail(viewer=user, slug="hidden")
    assert selectors.category_detail(viewer=editor, slug="hidden").is_active is False
    with pytest.raises(NotFound):
        selectors.category_detail(viewer=None, slug="missing")


def test_tags(user):
    make_post(user, tags=["b", "a"])
    page = selectors.tag_list()
    assert [(t.slug, t.post_count) for t in page.items] == [("a", 1), ("b", 1)]
    assert selectors.tag_detail(slug="a").name == "a"
    with pytest.raises(NotFound):
        selectors.tag_detail(slug="zzz")


def test_batch_reads_are_one_query_each(user, other_user):
    root = make_category("Root")
    child = make_category("Child", parent=root)
    posts = [make_post(user, category=child, tags=["x", "y"]) for _ in range(3)]
    for post in posts:
        for n in range(4):
            make_comment(post, other_user, f"{post.pk}-{n}")
    ids = [post.pk for post in posts]
    with CaptureQueriesContext(connection) as captured:
        authors = selectors.authors_by_ids([user.pk, other_user.pk])
        categories = selectors.categories_by_ids([root.pk, child.pk])
        children = selectors.category_children_by_ids([root.pk])
        comments = selectors.comments_by_post_ids(ids, limit=2)
        by_category = selectors.published_posts_by_category_ids([child.pk], limit=2)
        by_id = selectors.posts_by_ids(ids, viewer=None)
    assert len(captured) == 6
    assert set(authors) == {user.pk, other_user.pk}
    assert categories[child.pk].parent_id == root.pk
    assert [c.slug for c in children[root.pk]] == ["child"]
    assert all([t.slug for t in by_id[i].tags] == ["x", "y"] for i in ids)
    assert all(len(comments[i]) == 2 for i in ids)
    assert [c.body for c in comments[ids[0]]] == [f"{ids[0]}-0", f"{ids[0]}-1"]
    assert len(by_category[child.pk]) == 2
    assert set(by_id) == set(ids)


def test_tags_of_drafts_only_are_neither_listed_nor_found(user):
    make_post(user, "Live", tags=["python"])
    make_post(user, "Draft", tags=["python", "secret"], status="draft")
    assert [(t.slug, t.post_count) for t in selectors.tag_list().items] == [("python", 1)]
    with pytest.raises(NotFound):
        selectors.tag_detail(slug="secret")
    assert selectors.tag_detail(slug="python").post_count == 1
