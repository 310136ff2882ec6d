from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from domain.blog.models import Category
from domain.blog.permissions import require_perm
from domain.blog.records import CategoryRecord
from domain.blog.services._validation import UNSET, Unset, full_clean
from domain.blog.slugs import save_with_slug, save_with_unique_slug, slug_base
from domain.db import to_async
from domain.errors import Conflict, InvalidInput, NotFound

# Serialises changes to the tree's shape, so two concurrent moves cannot form a cycle.
_TREE_LOCK = 0x626C6F67  # "blog"


def _lock_tree() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TREE_LOCK])


def _get(slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound("No category with this slug.")
    return category


def _parent(slug: str | None, *, field: str = "parent") -> Category | None:
    if slug is None:
        return None
    parent = Category.objects.filter(slug=slug).first()
    if parent is None:
        raise InvalidInput.field(field, f"No category with the slug {slug!r}.")
    return parent


def _record(category: Category) -> CategoryRecord:
    return CategoryRecord.of(Category.objects.with_counts().get(pk=category.pk))


def category_create(
    *,
    actor: Any,
    name: str,
    slug: str | None = None,
    description: str = "",
    parent: str | None = None,
    is_active: bool = True,
) -> CategoryRecord:
    require_perm(actor, "blog.add_category")
    with transaction.atomic():
        _lock_tree()
        category = Category(
            name=name.strip(),
            description=description.strip(),
            parent=_parent(parent),
            is_active=is_active,
        )
        full_clean(category, exclude=["slug"])
        if slug is None:
            max_length = Category._meta.get_field("slug").max_length
            save_with_unique_slug(
                category, slug_base(category.name, max_length=max_length, fallback="category")
            )
        else:
            category.slug = slug
            full_clean(category)
            save_with_slug(category)
        return _record(category)


def category_update(
    *,
    actor: Any,
    slug: str,
    name: str | Unset = UNSET,
    new_slug: str | Unset = UNSET,
    description: str | Unset = UNSET,
    parent: str | Unset | None = UNSET,
    is_active: bool | Unset = UNSET,
) -> CategoryRecord:
    """Change the fields passed. Moving a category under itself or a descendant is refused."""
    require_perm(actor, "blog.change_category")
    with transaction.atomic():
        _lock_tree()
        category = _get(slug)
        if not isinstance(name, Unset):
            category.name = name.strip()
        if not isinstance(new_slug, Unset):
            category.slug = new_slug
        if not isinstance(description, Unset):
            category.description = description.strip()
        if not isinstance(is_active, Unset):
            category.is_active = is_active
        if not isinstance(parent, Unset):
            category.parent = _parent(parent)
        # Refuses a move under the category itself or a descendant (Category.clean); the tree
        # lock makes that check hold against concurrent moves.
        full_clean(category)
        save_with_slug(category)
        return _record(category)


def category_delete(*, actor: Any, slug: str, move_to: str | None = None) -> None:
    """Delete a category. Its posts and sub-categories are never deleted with it: an empty
    category is deleted; a non-empty one is a Conflict unless ``move_to`` names the category that
    takes over its posts and sub-categories."""
    require_perm(actor, "blog.delete_category")
    with transaction.atomic():
        _lock_tree()
        category = _get(slug)
        posts = category.posts.all()
        children = category.children.all()
        if move_to is None:
            post_count, child_count = posts.count(), children.count()
            if post_count or child_count:
                raise Conflict(
                    f"The category has {post_count} post(s) and {child_count} sub-categor"
                    f"{'y' if child_count == 1 else 'ies'}; pass move_to to move them first."
                )
        else:
            target = _parent(move_to, field="move_to")
            assert target is not None
            if Category.objects.subtree_of(slug).filter(pk=target.pk).exists():
                raise InvalidInput.field(
                    "move_to", "Cannot move into the category itself or one of its descendants."
                )
            now = timezone.now()
            posts.update(category=target, updated_at=now)
            children.update(parent=target, updated_at=now)
        # update() sends no signals; this delete, in the same transaction, makes the cache stale.
        category.delete()


acategory_create = to_async(category_create)
acategory_update = to_async(category_update)
acategory_delete = to_async(category_delete)
