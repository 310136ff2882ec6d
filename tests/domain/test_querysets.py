"""Every business query of the blog's QuerySets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from domain.blog.models import Category, Comment, Post, Tag
from tests.factories import make_category, make_comment, make_post, make_posts, make_tag

pytestmark = pytest.mark.django_db


def test_published_and_drafts(user):
    live = make_post(user, status="published")
    draft = make_post(user, status="draft")
    assert list(Post.objects.published()) == [live]
    assert list(Post.objects.drafts()) == [draft]


def test_visible_to_anonymous_author_and_staff(user, other_user, editor, anonymous):
    live = make_post(other_user)
    own_draft = make_post(user, status="draft")
    foreign_draft = make_post(other_user, status="draft")
    assert set(Post.objects.visible_to(anonymous)) == {live}
    assert set(Post.objects.visible_to(None)) == {live}
    assert set(Post.objects.visible_to(user)) == {live, own_draft}
    assert set(Post.objects.visible_to(editor)) == {live, own_draft, foreign_draft}


def test_editable_by(user, other_user, editor, anonymous):
    mine = make_post(user)
    theirs = make_post(other_user)
    assert set(Post.objects.editable_by(user)) == {mine}
    assert set(Post.objects.editable_by(editor)) == {mine, theirs}
    assert not Post.objects.editable_by(anonymous).exists()


def test_in_category_includes_descendants(user):
    root = make_category("Programming")
    child = make_category("Python", parent=root)
    grandchild = make_category("Django", parent=child)
    other = make_category("Cooking")
    in_root = make_post(user, category=root)
    in_grandchild = make_post(user, category=grandchild)
    make_post(user, category=other)
    assert set(Post.objects.in_category("programming")) == {in_root, in_grandchild}
    assert set(Post.objects.in_category("django")) == {in_grandchild}
    assert not Post.objects.in_category("no-such-category").exists()


def test_subtree_of_is_one_query():
    root = make_category("Root")
    level = root
    for n in range(5):
        level = make_category(f"Level {n}", parent=level)
    with CaptureQueriesContext(connection) as captured:
        ids = set(Category.objects.subtree_of("root").values_list("id", flat=True))
    assert len(captured) == 1
    assert len(ids) == 6


def test_tagged_and_by_author(user, other_user):
    tagged = make_post(user, tags=["python", "web"])
    make_post(other_user, tags=["rust"])
    assert list(Post.objects.tagged("python")) == [tagged]
    assert list(Post.objects.tagged("web")) == [tagged]
    assert list(Post.objects.by_author("alice")) == [tagged]


def test_search_ranks_words_in_any_field_and_accepts_any_input(user):
    by_title = make_post(user, "Async Django in production", body="Nothing else.")
    by_body = make_post(user, "Another post", body="We discuss asynchronous django views.")
    make_post(user, "Unrelated", body="Cooking pasta.")
    assert set(Post.objects.search("django")) == {by_title, by_body}
    assert list(Post.objects.search('"async django"')) == [by_title]
    assert set(Post.objects.search("django -production")) == {by_body}
    # Web-search syntax never raises, whatever the user types.
    assert not Post.objects.search("(((& | !!").exists()
    assert Post.objects.search("   ").count() == 3


def test_with_relations_is_two_queries_for_any_number_of_posts(user):
    category = make_category("Python")
    make_posts(user, 12, category=category, tags=["a", "b"])
    with CaptureQueriesContext(connection) as captured:
        posts = list(Post.objects.with_relations())
        for post in posts:
            _ = post.author.username, post.category.name, [tag.name for tag in post.tags.all()]
    assert len(captured) == 2  # posts joined with author and category, then tags


def test_with_counts(user):
    post = make_post(user)
    empty = make_post(user)
    make_comment(post, user)
    make_comment(post, user)
    counts = dict(Post.objects.with_counts().values_list("id", "comment_count"))
    assert counts == {post.id: 2, empty.id: 0}


def test_category_and_tag_counts_count_published_posts_only(user):
    category = make_category("Python")
    make_post(user, category=category, tags=["django"])
    make_post(user, category=category, tags=["django"], status="draft")
    assert Category.objects.with_counts().get().post_count == 1
    assert Tag.objects.with_counts().get().post_count == 1
    assert list(Tag.objects.used()) == [Tag.objects.get()]


def test_used_tags_are_those_of_published_posts_once_each(user):
    make_post(user, tags=["web", "python"])
    make_post(user, tags=["python"])
    make_post(user, tags=["python", "secret"], status="draft")
    make_tag("unused")
    used = Tag.objects.used().with_counts().order_by("name")
    assert [(tag.slug, tag.post_count) for tag in used] == [("python", 2), ("web", 1)]


def test_active_and_roots():
    root = make_category("Root")
    make_category("Child", parent=root)
    make_category("Hidden", is_active=False)
    assert set(Category.objects.roots().values_list("name", flat=True)) == {"Root", "Hidden"}
    assert set(Category.objects.active().values_list("name", flat=True)) == {"Root", "Child"}


def test_comment_querysets(user, other_user):
    post = make_post(user)
    draft = make_post(other_user, status="draft")
    comment = make_comment(post, other_user)
    make_comment(draft, other_user)
    assert list(Comment.objects.on_post(post)) == [comment]
    assert Comment.objects.with_author().get(pk=comment.pk).author.username == "bob"
    assert list(Comment.objects.on_visible_posts(user)) == [comment]


def test_a_page_of_published_posts_is_planned_once_with_the_partial_index(user):
    """Prepared statements get PostgreSQL's generic plan, made without the parameters' values:
    with ``status`` a parameter it could not use ``post_published_idx`` (its predicate is
    ``status = 'published'``) and the page was re-planned on every execution."""
    from django.contrib.auth.models import AnonymousUser

    from domain.blog.selectors import PostFilters, post_list
    from domain.pagination import encode_cursor

    make_posts(user, 3)
    statements: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements.append((sql, params))
        return execute(sql, params, many, context)

    cursor = encode_cursor("-published_at", "2026-01-01T00:00:00+00:00", 10**9)
    with connection.execute_wrapper(capture):
        post_list(
            viewer=AnonymousUser(),
            filters=PostFilters(),
            ordering="-published_at",
            cursor=cursor,
            limit=20,
            cache=False,
        )
    ((sql, params),) = statements
    assert "published" not in [str(p) for p in params]
    numbered = sql.split("%s")
    generic = "".join(f"{part}${n}" for n, part in enumerate(numbered[:-1], 1)) + numbered[-1]
    with connection.cursor() as db:
        # Without statistics the planner would pick a scan of the (small) table either way.
        db.execute("SET LOCAL enable_seqscan = off")
        db.execute("EXPLAIN (GENERIC_PLAN) " + generic)
        plan = "\n".join(row[0] for row in db.fetchall())
    assert "post_published_idx" in plan, plan
