"""The admin service: every model's changelist, search, filters, actions, and health."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from domain.accounts.models import ApiToken
from domain.accounts.services import token_authenticate, token_issue
from domain.blog.models import Post
from tests.factories import PASSWORD, make_category, make_comment, make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELISTS = [
    "accounts_user",
    "accounts_apitoken",
    "blog_category",
    "blog_tag",
    "blog_post",
    "blog_comment",
    "core_idempotencyrecord",
]


def seed(count: int) -> None:
    author = make_user()
    parent = make_category()
    for n in range(count):
        category = make_category(parent=parent)
        post = make_post(author, category=category, tags=[f"t{n}", "common"])
        make_comment(post, author)
        token_issue(user=author)


def changelist_queries(client: Client, name: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200
    return len(captured)


def test_login_page_renders():
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content


def test_signing_in_with_a_password(superuser):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/admin/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": PASSWORD, "csrfmiddlewaretoken": token.decode()},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelists_cost_the_same_for_3_or_15_rows(admin_client, name):
    seed(3)
    small = changelist_queries(admin_client, name)
    seed(12)
    assert changelist_queries(admin_client, name) == small


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("blog_post", "?q=hello"),
        ("blog_post", "?status__exact=draft"),
        ("blog_category", "?q=cat&is_active__exact=1"),
        ("blog_comment", "?q=nice"),
        ("blog_tag", "?q=t1"),
        ("accounts_apitoken", "?revoked_at__isempty=1"),
    ],
)
def test_search_and_filters(admin_client, name, query):
    seed(2)
    response = admin_client.get(reverse(f"admin:{name}_changelist") + query)
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["blog_post", "blog_category", "blog_tag", "blog_comment"])
def test_add_and_change_forms_render(admin_client, name):
    seed(1)
    assert admin_client.get(reverse(f"admin:{name}_add")).status_code == 200
    model = {
        "blog_post": Post,
        "blog_category": Post.category.field.related_model,
        "blog_tag": Post.tags.field.related_model,
        "blog_comment": Post.comments.rel.related_model,
    }[name]
    obj = model.objects.first()
    assert admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk])).status_code == 200


@pytest.mark.parametrize("path", ["user", "category", "post", "tag"])
def test_autocomplete_endpoints(admin_client, path):
    seed(1)
    app, model, field = {
        "user": ("blog", "post", "author"),
        "category": ("blog", "post", "category"),
        "post": ("blog", "comment", "post"),
        "tag": ("blog", "post", "tags"),
    }[path]
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": app, "model_name": model, "field_name": field, "term": ""},
    )
    assert response.status_code == 200
    assert response.json()["results"]


def test_publish_and_unpublish_actions(admin_client, user):
    drafts = [make_post(user, status="draft") for _ in range(3)]
    url = reverse("admin:blog_post_changelist")
    ids = [str(p.pk) for p in drafts]
    response = admin_client.post(url, {"action": "publish", "_selected_action": ids}, follow=True)
    assert b"Published 3 post(s)." in response.content
    assert Post.objects.published().count() == 3
    admin_client.post(url, {"action": "unpublish", "_selected_action": ids[:1]})
    assert Post.objects.drafts().count() == 1


def test_actions_need_the_publish_permission(user):
    staff = make_user(
        username="viewer", is_staff=True, perms=["blog.view_post", "blog.change_post"]
    )
    client = Client()
    client.force_login(staff)
    make_post(user, status="draft")
    response = client.get(reverse("admin:blog_post_changelist"))
    assert b'value="publish"' not in response.content
    publisher = make_user(
        username="pub", is_staff=True, perms=["blog.view_post", "blog.publish_post"]
    )
    client.force_login(publisher)
    assert b'value="publish"' in client.get(reverse("admin:blog_post_changelist")).content


def test_adding_a_post_in_the_admin_dates_and_times_it(admin_client, superuser):
    category = make_category("Python")
    response = admin_client.post(
        reverse("admin:blog_post_add"),
        {
            "title": "From the admin",
            "slug": "from-the-admin",
            "author": superuser.pk,
            "category": category.pk,
            "summary": "",
            "body": "word " * 400,
            "status": "published",
            "published_at_0": "",
            "published_at_1": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    post = Post.objects.get()
    assert post.published_at is not None
    assert post.read_time_minutes == 2


def test_adding_a_token_shows_it_once(admin_client, user):
    response = admin_client.post(
        reverse("admin:accounts_apitoken_add"),
        {"user": user.pk, "name": "deploy bot", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    token = re.search(rb"fdj_[A-Za-z0-9_-]+", response.content).group(0).decode()
    assert token_authenticate(token) == user
    stored = ApiToken.objects.get()
    assert token not in stored.digest
    assert stored.expires_at is not None, "a token made in the admin expires like any other"


def test_revoke_action(admin_client, user):
    issued = token_issue(user=user)
    admin_client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [issued.id]},
    )
    assert token_authenticate(issued.token) is None


def test_non_staff_cannot_enter(user):
    client = Client()
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_health_endpoints():
    client = Client()
    assert client.get("/admin/health/live").json() == {"status": "ok"}
    ready = client.get("/admin/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    assert ready["X-Request-ID"]


def test_request_id_is_passed_through():
    response = Client().get("/admin/health/live", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    response = Client().get("/admin/health/live", HTTP_X_REQUEST_ID="bad id\n")
    assert response["X-Request-ID"] != "bad id\n"
    assert len(response["X-Request-ID"]) == 32


def test_the_admin_refuses_a_category_cycle(admin_client):
    root = make_category("Root")
    child = make_category("Child", parent=root)
    response = admin_client.post(
        reverse("admin:blog_category_change", args=[root.pk]),
        {"name": "Root", "slug": "root", "description": "", "parent": child.pk, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    root.refresh_from_db()
    assert root.parent_id is None
