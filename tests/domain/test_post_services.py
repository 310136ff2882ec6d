"""Post services: creation, slugs, updates, publication, deletion and who may do each."""

from __future__ import annotations

import pytest

from domain.blog.models import Post, Tag
from domain.blog.services.posts import (
    post_create,
    post_delete,
    post_publish,
    post_record_view,
    post_unpublish,
    post_update,
)
from domain.core.models import IdempotencyRecord
from domain.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from tests.factories import make_category, make_post

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_makes_a_draft_with_a_slug_tags_and_category(user):
    make_category("Python")
    view = post_create(
        author=user,
        title="  Hello, World!  ",
        body="word " * 250,
        summary="A greeting",
        category="python",
        tags=["Django", "django", "Web Dev"],
    )
    assert view.slug == "hello-world"
    assert view.title == "Hello, World!"
    assert view.status == "draft"
    assert view.published_at is None
    assert view.read_time_minutes == 2
    assert view.author.username == "alice"
    assert view.category.slug == "python"
    assert [t.slug for t in view.tags] == ["django", "web-dev"]  # same slug: one tag
    assert Tag.objects.count() == 2


def test_create_published(user):
    view = post_create(author=user, title="Live", publish=True)
    assert view.status == "published"
    assert view.published_at is not None


def test_slugs_stay_unique_for_equal_titles(user):
    slugs = [post_create(author=user, title="Same").slug for _ in range(3)]
    assert slugs == ["same", "same-2", "same-3"]


def test_a_title_without_letters_still_gets_a_slug(user):
    assert post_create(author=user, title="!!!").slug == "post"
    assert post_create(author=user, title="日本語").slug == "post-2"


def test_a_taken_explicit_slug_is_a_conflict(user):
    post_create(author=user, title="One", slug="taken")
    with pytest.raises(Conflict):
        post_create(author=user, title="Two", slug="taken")
    assert Post.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "slug": "not a slug!"}, "slug"),
        ({"title": "ok", "category": "missing"}, "category"),
        ({"title": "ok", "tags": ["#"]}, "tags"),
        ({"title": "ok", "tags": [f"t{n}" for n in range(11)]}, "tags"),
        ({"title": "ok", "summary": "s" * 501}, "summary"),
    ],
)
def test_invalid_input_names_the_field_and_writes_nothing(user, fields, field):
    with pytest.raises(InvalidInput) as raised:
        post_create(author=user, **fields)
    assert field in raised.value.errors
    assert not Post.objects.exists()
    assert not Tag.objects.exists()


def test_an_inactive_category_cannot_be_used(user):
    make_category("Old", is_active=False)
    with pytest.raises(InvalidInput):
        post_create(author=user, title="x", category="old")


def test_anonymous_users_cannot_write(anonymous):
    with pytest.raises(NotAuthenticated):
        post_create(author=anonymous, title="x")


def test_idempotency_key_creates_once(user):
    first = post_create(author=user, title="Once", idempotency_key="k-1")
    again = post_create(author=user, title="Once", idempotency_key="k-1")
    assert again.id == first.id
    assert Post.objects.count() == 1
    other = post_create(author=user, title="Once", idempotency_key="k-2")
    assert other.id != first.id


def test_idempotency_key_reused_for_another_request_is_a_conflict(user):
    post_create(author=user, title="One", idempotency_key="k")
    with pytest.raises(Conflict):
        post_create(author=user, title="Two", idempotency_key="k")


def test_idempotency_keys_are_per_user(user, other_user):
    mine = post_create(author=user, title="Same", idempotency_key="k")
    theirs = post_create(author=other_user, title="Same", idempotency_key="k")
    assert mine.id != theirs.id


def test_a_replay_after_the_post_was_deleted_is_not_found_and_writes_nothing(user):
    first = post_create(author=user, title="Once", idempotency_key="k")
    post_delete(actor=user, slug=first.slug)
    for _ in range(2):
        with pytest.raises(NotFound, match="deleted"):
            post_create(author=user, title="Once", idempotency_key="k")
    assert not Post.objects.exists()
    with pytest.raises(Conflict):
        post_create(author=user, title="Another", idempotency_key="k")


def test_a_failed_write_releases_its_idempotency_key(user):
    with pytest.raises(InvalidInput):
        post_create(author=user, title=" ", idempotency_key="k")
    assert not IdempotencyRecord.objects.exists()
    assert post_create(author=user, title="Now valid", idempotency_key="k").title == "Now valid"


def test_update_changes_only_what_is_passed(user):
    make_category("Python")
    post = make_post(user, "Title", tags=["a"], summary="keep")
    view = post_update(actor=user, slug=post.slug, title="New title", category="python")
    assert view.title == "New title"
    assert view.slug == "title", "editing the title keeps the URL"
    assert view.summary == "keep"
    assert [t.slug for t in view.tags] == ["a"]
    view = post_update(actor=user, slug=post.slug, category=None, tags=[], new_slug="moved")
    assert view.category is None
    assert view.tags == ()
    assert view.slug == "moved"


def test_update_to_a_taken_slug_is_a_conflict(user):
    make_post(user, "First")
    second = make_post(user, "Second")
    with pytest.raises(Conflict):
        post_update(actor=user, slug=second.slug, new_slug="first")


def test_only_the_author_or_an_editor_may_update(user, other_user, editor):
    post = make_post(user)
    with pytest.raises(PermissionDenied):
        post_update(actor=other_user, slug=post.slug, title="Hijacked")
    assert post_update(actor=editor, slug=post.slug, title="Edited").title == "Edited"


def test_a_draft_of_someone_else_does_not_exist(user, other_user):
    draft = make_post(user, status="draft")
    for service in (post_update, post_publish, post_unpublish, post_delete):
        with pytest.raises(NotFound):
            service(actor=other_user, slug=draft.slug)


def test_missing_posts_are_not_found(user):
    with pytest.raises(NotFound):
        post_update(actor=user, slug="nope", title="x")


def test_publish_and_unpublish(user):
    post = make_post(user, status="draft")
    published = post_publish(actor=user, slug=post.slug)
    assert published.status == "published"
    first_date = published.published_at
    assert post_unpublish(actor=user, slug=post.slug).status == "draft"
    again = post_publish(actor=user, slug=post.slug)
    assert again.published_at == first_date, "a post keeps the date it first went live"
    assert post_publish(actor=user, slug=post.slug).published_at == first_date


def test_publishing_others_posts_needs_the_permission(user, other_user, editor):
    post = make_post(user, status="published")
    with pytest.raises(PermissionDenied):
        post_unpublish(actor=other_user, slug=post.slug)
    assert post_unpublish(actor=editor, slug=post.slug).status == "draft"


def test_delete(user, other_user, editor):
    post = make_post(user)
    with pytest.raises(PermissionDenied):
        post_delete(actor=other_user, slug=post.slug)
    post_delete(actor=user, slug=post.slug)
    assert not Post.objects.exists()
    another = make_post(user)
    kept = make_post(user)
    post_delete(actor=editor, slug=another.slug)
    assert list(Post.objects.values_list("slug", flat=True)) == [kept.slug]


def test_views_are_counted_on_published_posts_only(user):
    post = make_post(user)
    assert post_record_view(slug=post.slug) == 1
    assert post_record_view(slug=post.slug) == 2
    draft = make_post(user, status="draft")
    with pytest.raises(NotFound):
        post_record_view(slug=draft.slug)
