from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from domain.blog.models import Category, Comment, Post, Tag

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot() -> list[tuple]:
    return sorted(
        Post.objects.values_list(
            "slug", "status", "author__username", "category__slug", "view_count"
        )
    )


def test_seed_is_deterministic_and_sized():
    args = ["--users", "3", "--categories", "5", "--posts", "40", "--tags", "6", "--comments", "90"]
    call_command("seed_demo", *args)
    assert get_user_model().objects.count() == 3
    assert Category.objects.count() == 5
    assert Category.objects.filter(parent__isnull=False).exists()
    assert Tag.objects.count() == 6
    assert Post.objects.count() == 40
    assert Comment.objects.count() == 90
    assert Post.objects.published().exists()
    assert Post.objects.drafts().exists()
    first = snapshot()
    with pytest.raises(CommandError):
        call_command("seed_demo", *args)
    Comment.objects.all().delete()
    Post.objects.all().delete()
    Category.objects.filter(parent__isnull=False).delete()
    Category.objects.all().delete()
    Tag.objects.all().delete()
    get_user_model().objects.all().delete()
    call_command("seed_demo", *args)
    assert snapshot() == first


def test_seeded_posts_are_searchable_and_demo_users_can_log_in():
    call_command("seed_demo", "--users", "1", "--posts", "5", "--password", "demo-pass-123")
    assert Post.objects.search("cache").exists()
    user = get_user_model().objects.get()
    assert user.check_password("demo-pass-123")


def test_without_a_password_demo_users_cannot_log_in():
    call_command("seed_demo", "--users", "1", "--posts", "0")
    assert not get_user_model().objects.get().has_usable_password()
