"""Category services: permissions, the tree's shape, and deletion that never loses posts."""

from __future__ import annotations

import pytest

from domain.blog.models import Category, Post
from domain.blog.services.categories import category_create, category_delete, category_update
from domain.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from tests.factories import make_category, make_post

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_under_a_parent(editor):
    root = category_create(actor=editor, name="Programming")
    child = category_create(actor=editor, name="Python", parent="programming")
    assert root.slug == "programming"
    assert child.parent_id == root.id
    assert category_create(actor=editor, name="Python", parent="programming").slug == "python-2"


def test_managing_categories_needs_permissions(user, anonymous):
    with pytest.raises(NotAuthenticated):
        category_create(actor=anonymous, name="x")
    with pytest.raises(PermissionDenied):
        category_create(actor=user, name="x")
    make_category("Existing")
    with pytest.raises(PermissionDenied):
        category_update(actor=user, slug="existing", name="y")
    with pytest.raises(PermissionDenied):
        category_delete(actor=user, slug="existing")


def test_explicit_slug_conflict_and_bad_parent(editor):
    category_create(actor=editor, name="A", slug="taken")
    with pytest.raises(Conflict):
        category_create(actor=editor, name="B", slug="taken")
    with pytest.raises(InvalidInput) as raised:
        category_create(actor=editor, name="C", parent="missing")
    assert "parent" in raised.value.errors


def test_update_fields_and_move(editor):
    a = make_category("A")
    make_category("B")
    record = category_update(
        actor=editor, slug="a", name="Alpha", description="First", parent="b", is_active=False
    )
    assert (record.name, record.description, record.is_active) == ("Alpha", "First", False)
    assert Category.objects.get(pk=a.pk).parent.slug == "b"
    assert category_update(actor=editor, slug="a", parent=None).parent_id is None


def test_a_category_cannot_move_under_its_own_subtree(editor):
    root = make_category("Root")
    child = make_category("Child", parent=root)
    make_category("Grandchild", parent=child)
    for target in ("root", "child", "grandchild"):
        with pytest.raises(InvalidInput):
            category_update(actor=editor, slug="root", parent=target)


def test_deleting_an_empty_category(editor):
    make_category("Empty")
    category_delete(actor=editor, slug="empty")
    assert not Category.objects.exists()
    with pytest.raises(NotFound):
        category_delete(actor=editor, slug="empty")


def test_deleting_a_non_empty_category_is_refused_and_changes_nothing(editor, user):
    parent = make_category("Parent")
    make_category("Child", parent=parent)
    make_post(user, category=parent)
    with pytest.raises(Conflict) as raised:
        category_delete(actor=editor, slug="parent")
    assert "1 post(s) and 1 sub-category" in raised.value.message
    assert Category.objects.count() == 2
    assert Post.objects.get().category_id == parent.pk


def test_deleting_with_move_to_moves_posts_and_children(editor, user):
    parent = make_category("Parent")
    child = make_category("Child", parent=parent)
    target = make_category("Target")
    post = make_post(user, category=parent)
    category_delete(actor=editor, slug="parent", move_to="target")
    assert not Category.objects.filter(pk=parent.pk).exists()
    assert Post.objects.get(pk=post.pk).category_id == target.pk
    assert Category.objects.get(pk=child.pk).parent_id == target.pk


def test_move_to_must_be_outside_the_deleted_subtree(editor):
    parent = make_category("Parent")
    make_category("Child", parent=parent)
    with pytest.raises(InvalidInput):
        category_delete(actor=editor, slug="parent", move_to="child")
    with pytest.raises(InvalidInput):
        category_delete(actor=editor, slug="parent", move_to="missing")
    assert Category.objects.count() == 2
