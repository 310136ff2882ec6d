"""Plain functions that create test data directly with the ORM (fast, explicit)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone
from django.utils.text import slugify

from domain.blog.models import Category, Comment, Post, Tag

_sequence = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def make_user(
    *,
    username: str | None = None,
    perms: Iterable[str] = (),
    password: str = PASSWORD,
    **fields: Any,
) -> Any:
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_sequence)}", password=password, **fields
    )
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def make_category(
    name: str | None = None, *, parent: Category | None = None, is_active: bool = True
) -> Category:
    name = name or f"Category {next(_sequence)}"
    return Category.objects.create(
        name=name, slug=slugify(name), parent=parent, is_active=is_active
    )


def make_tag(name: str) -> Tag:
    return Tag.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0]


def make_post(
    author: Any,
    title: str | None = None,
    *,
    status: str = "published",
    category: Category | None = None,
    tags: Sequence[str] = (),
    body: str = "Some words about the topic.",
    summary: str = "",
    published_at: datetime | None = None,
    created_at: datetime | None = None,
) -> Post:
    title = title or f"Post {next(_sequence)}"
    now = timezone.now()
    post = Post.objects.create(
        author=author,
        title=title,
        slug=slugify(title),
        summary=summary,
        body=body,
        status=status,
        category=category,
        published_at=(published_at or now) if status == "published" else published_at,
        created_at=created_at or now,
    )
    if tags:
        post.tags.set([make_tag(name) for name in tags])
    return post


def make_posts(author: Any, count: int, **kwargs: Any) -> list[Post]:
    """``count`` posts, one minute apart, the last one newest."""
    start = timezone.now() - timedelta(minutes=count)
    return [
        make_post(
            author,
            published_at=start + timedelta(minutes=n),
            created_at=start + timedelta(minutes=n),
            **kwargs,
        )
        for n in range(count)
    ]


def make_comment(post: Post, author: Any, body: str = "Nice post.") -> Comment:
    return Comment.objects.create(post=post, author=author, body=body)
