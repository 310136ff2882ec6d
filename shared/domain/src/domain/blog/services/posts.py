from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils.text import slugify

from domain.blog.models import Category, Post, Tag
from domain.blog.permissions import (
    require_authenticated,
    require_delete_post,
    require_edit_post,
    require_publish_post,
)
from domain.blog.records import PostView
from domain.blog.services._validation import UNSET, Unset, full_clean
from domain.blog.slugs import save_with_slug, save_with_unique_slug, slug_base
from domain.core.idempotency import run_once
from domain.db import to_async
from domain.errors import InvalidInput, NotFound

MAX_TAGS_PER_POST = 10
MAX_TAG_LENGTH = 50


def _category(slug: str | None) -> Category | None:
    if slug is None:
        return None
    category = Category.objects.active().filter(slug=slug).first()
    if category is None:
        raise InvalidInput.field("category", f"No active category with the slug {slug!r}.")
    return category


def _tags(names: Sequence[str]) -> list[Tag]:
    """The tags named ``names``, creating missing ones; names differing only in case or
    punctuation are one tag (they share a slug)."""
    by_slug: dict[str, str] = {}
    for raw in names:
        name = raw.strip()
        slug = slugify(name)
        if not slug or len(name) > MAX_TAG_LENGTH:
            raise InvalidInput.field(
                "tags", f"Each tag needs 1 to {MAX_TAG_LENGTH} characters with a letter or digit."
            )
        by_slug.setdefault(slug, name)
    if len(by_slug) > MAX_TAGS_PER_POST:
        raise InvalidInput.field("tags", f"At most {MAX_TAGS_PER_POST} tags per post.")
    # Safe when two requests create the same new tag at once: the loser's row is skipped.
    Tag.objects.bulk_create(
        [Tag(name=name, slug=slug) for slug, name in by_slug.items()], ignore_conflicts=True
    )
    return list(Tag.objects.filter(slug__in=by_slug))


def _view(post_id: int) -> PostView:
    post = Post.objects.with_relations().with_counts().get(pk=post_id)
    return PostView.of(post)


def _locked(slug: str) -> Post:
    """The post with ``slug``, its row locked until the transaction ends."""
    post = Post.objects.select_for_update(of=("self",)).filter(slug=slug).first()
    if post is None:
        raise NotFound("No post with this slug.")
    return post


def _publish(post: Post) -> None:
    # Post.clean()/save() date it if it never went live; a post keeps its first date, so
    # unpublishing and republishing cannot push an old post back to the top.
    post.status = Post.Status.PUBLISHED


def post_create(
    *,
    author: Any,
    title: str,
    body: str = "",
    summary: str = "",
    category: str | None = None,
    tags: Sequence[str] = (),
    slug: str | None = None,
    publish: bool = False,
    idempotency_key: str | None = None,
) -> PostView:
    """Create a post by ``author``, as a draft unless ``publish``.

    Without ``slug`` one is made from the title, unique even under concurrent creates; a given
    ``slug`` that is taken is a Conflict. With ``idempotency_key``, a retry returns the post the
    first call created.
    """
    require_authenticated(author)

    def write() -> int:
        post = Post(
            author=author,
            title=title.strip(),
            summary=summary.strip(),
            body=body,
            category=_category(category),
        )
        if publish:
            _publish(post)
        full_clean(post, exclude=["slug"])
        if slug is None:
            base = slug_base(
                post.title, max_length=Post._meta.get_field("slug").max_length, fallback="post"
            )
            save_with_unique_slug(post, base)
        else:
            post.slug = slug
            full_clean(post)
            save_with_slug(post)
        post.tags.set(_tags(tags))
        return post.pk

    with transaction.atomic():
        if idempotency_key is None:
            post_id = write()
        else:
            payload = {
                "title": title,
                "body": body,
                "summary": summary,
                "category": category,
                "tags": list(tags),
                "slug": slug,
                "publish": publish,
            }
            post_id, _ = run_once(
                user=author,
                scope="post_create",
                key=idempotency_key,
                payload=payload,
                write=write,
                model=Post,
            )
        return _view(post_id)


def post_update(
    *,
    actor: Any,
    slug: str,
    title: str | Unset = UNSET,
    body: str | Unset = UNSET,
    summary: str | Unset = UNSET,
    category: str | Unset | None = UNSET,
    tags: Sequence[str] | Unset = UNSET,
    new_slug: str | Unset = UNSET,
) -> PostView:
    """Change the fields that were passed; the others keep their values. A post's slug changes
    only when ``new_slug`` is passed, so links stay valid when a title is edited."""
    with transaction.atomic():
        post = _locked(slug)
        require_edit_post(actor, post)
        if not isinstance(title, Unset):
            post.title = title.strip()
        if not isinstance(body, Unset):
            post.body = body
        if not isinstance(summary, Unset):
            post.summary = summary.strip()
        if not isinstance(category, Unset):
            post.category = _category(category)
        if not isinstance(new_slug, Unset):
            post.slug = new_slug
        full_clean(post)
        save_with_slug(post)
        if not isinstance(tags, Unset):
            post.tags.set(_tags(tags))
        return _view(post.pk)


def post_publish(*, actor: Any, slug: str) -> PostView:
    with transaction.atomic():
        post = _locked(slug)
        require_publish_post(actor, post)
        if not post.is_published:
            _publish(post)
            post.save(update_fields=["status", "published_at", "updated_at"])
        return _view(post.pk)


def post_unpublish(*, actor: Any, slug: str) -> PostView:
    with transaction.atomic():
        post = _locked(slug)
        require_publish_post(actor, post)
        if post.is_published:
            post.status = Post.Status.DRAFT
            post.save(update_fields=["status", "updated_at"])
        return _view(post.pk)


def post_delete(*, actor: Any, slug: str) -> None:
    """Delete a post with its comments; its tags and category stay."""
    with transaction.atomic():
        post = _locked(slug)
        require_delete_post(actor, post)
        post.delete()


def post_record_view(*, slug: str) -> int:
    """Count one view of a published post and return the new count.

    A single ``UPDATE ... RETURNING``, so concurrent views are never lost. View counts do not
    invalidate the cache: a cached post shows its count as of when it was cached.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE blog_post SET view_count = view_count + 1"
            " WHERE slug = %s AND status = 'published' RETURNING view_count",
            [slug],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No post with this slug.")
    return row[0]


apost_create = to_async(post_create)
apost_update = to_async(post_update)
apost_publish = to_async(post_publish)
apost_unpublish = to_async(post_unpublish)
apost_delete = to_async(post_delete)
apost_record_view = to_async(post_record_view)
