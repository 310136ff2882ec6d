from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from domain.blog.models import Category, Comment, Post, Tag, read_time_minutes
from tests.factories import make_category, make_comment, make_post

pytestmark = pytest.mark.django_db


def test_read_time_follows_the_body(user):
    post = make_post(user, body="word " * 450)
    assert post.read_time_minutes == 3
    post.body = "short"
    post.save(update_fields=["body"])
    post.refresh_from_db()
    assert post.read_time_minutes == 1
    assert read_time_minutes("") == 1


def test_publishing_without_a_date_dates_the_post(user):
    post = make_post(user, status="draft")
    post.status = Post.Status.PUBLISHED
    post.save(update_fields=["status"])
    post.refresh_from_db()
    assert post.published_at is not None


def test_a_published_post_must_have_a_date(user):
    post = make_post(user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=post.pk).update(published_at=None)


def test_status_is_constrained(user):
    post = make_post(user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=post.pk).update(status="archived")


def test_slugs_are_unique(user):
    make_post(user, "Same title")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_post(user, "Same title")


def test_a_category_cannot_be_its_own_parent():
    category = make_category("Loop")
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.filter(pk=category.pk).update(parent=category)


def test_deleting_a_category_never_deletes_posts_or_children(user):
    parent = make_category("Parent")
    make_category("Child", parent=parent)
    with pytest.raises(ProtectedError):
        parent.delete()
    lonely = make_category("Lonely")
    make_post(user, category=lonely)
    with pytest.raises(ProtectedError):
        lonely.delete()


def test_deleting_a_post_deletes_its_comments_but_not_its_tags(user):
    post = make_post(user, tags=["python"])
    make_comment(post, user)
    post.delete()
    assert not Comment.objects.exists()
    assert Tag.objects.filter(slug="python").exists()


def test_deleting_an_author_with_posts_is_refused(user):
    make_post(user)
    with pytest.raises(ProtectedError):
        user.delete()


def test_search_vector_is_maintained_by_postgres(user):
    post = make_post(user, "Tuning PostgreSQL", body="Indexes make queries fast.")
    assert Post.objects.search("indexes").get() == post
    Post.objects.filter(pk=post.pk).update(body="Nothing relevant.")
    assert not Post.objects.search("indexes").exists()


def test_display_name(user):
    assert user.display_name == "alice"
    user.first_name, user.last_name = "Alice", "Liddell"
    assert user.display_name == "Alice Liddell"
