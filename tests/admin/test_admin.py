"""The admin service: every model's changelist (its cost, what its searches and filters show),
forms, actions, and health. Who may do what: test_permissions.py; the login: test_login.py."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from domain.accounts.models import ApiToken
from domain.accounts.services import token_authenticate, token_issue
from domain.blog.models import Comment, Post
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


def rows(client: Client, name: str, query: str = "") -> list[str]:
    """What a changelist shows: its rows, as their names, sorted."""
    response = client.get(reverse(f"admin:{name}_changelist") + query)
    assert response.status_code == 200
    return sorted(str(obj) for obj in response.context["cl"].result_list)


@pytest.fixture
def library(user, other_user):
    """A few objects of each kind, named so that each search or filter matches a known set."""
    python = make_category("Python")
    make_category("Cats")
    make_category("Old cats", is_active=False)
    hello = make_post(user, "Hello world", category=python, tags=["t1", "t12"])
    make_post(user, "Say hello", status="draft", tags=["t2"])
    make_post(other_user, "Goodbye", summary="Nothing to see")
    make_comment(hello, other_user, "Nice post, thanks")
    make_comment(hello, user, "Thanks!")
    kept = token_issue(user=user, name="laptop")
    gone = token_issue(user=other_user, name="phone")
    ApiToken.objects.filter(pk=gone.id).update(revoked_at=timezone.now())
    return {"python": python, "kept": kept, "gone": gone}


@pytest.mark.parametrize(
    ("name", "query", "expected"),
    [
        ("blog_post", "?q=hello", ["Hello world", "Say hello"]),
        ("blog_post", "?q=bob", ["Goodbye"]),  # by author
        ("blog_post", "?q=nothing", ["Goodbye"]),  # by summary
        ("blog_post", "?status__exact=draft", ["Say hello"]),
        ("blog_post", "?status__exact=published", ["Goodbye", "Hello world"]),
        ("blog_post", "?q=hello&status__exact=published", ["Hello world"]),
        ("blog_category", "?q=cat&is_active__exact=1", ["Cats"]),
        ("blog_category", "?is_active__exact=0", ["Old cats"]),
        ("blog_comment", "?q=nice", ["Nice post, thanks"]),
        ("blog_comment", "?q=alice", ["Thanks!"]),  # by author
        ("blog_tag", "?q=t1", ["t1", "t12"]),
        ("accounts_apitoken", "?revoked_at__isempty=1", ["laptop"]),
        ("accounts_apitoken", "?revoked_at__isempty=0", ["phone"]),
        ("accounts_apitoken", "?q=bob", ["phone"]),
        ("accounts_user", "?q=ali", ["alice"]),
    ],
)
def test_search_and_filters(admin_client, library, name, query, expected):
    shown = rows(admin_client, name, query)
    if name == "accounts_apitoken":  # tokens show as "<prefix>… (<name>)"
        shown = sorted(row.rsplit("(", 1)[1].rstrip(")") for row in shown)
    if name == "blog_comment":
        shown = sorted(Comment.objects.get(pk=int(row.split()[1])).body for row in shown)
    assert shown == expected


def test_filtering_by_category(admin_client, library):
    query = f"?category__id__exact={library['python'].pk}"
    assert rows(admin_client, "blog_post", query) == ["Hello world"]


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


@pytest.mark.parametrize(
    ("source", "term", "expected"),
    [
        (("blog", "post", "author"), "ali", ["alice"]),
        (("blog", "post", "category"), "pyth", ["Python"]),
        (("blog", "comment", "post"), "hello", ["Hello world", "Say hello"]),
        (("blog", "post", "tags"), "t1", ["t1", "t12"]),
        (("blog", "post", "author"), "", ["alice", "bob", "root"]),
    ],
)
def test_autocomplete_endpoints(admin_client, library, source, term, expected):
    app, model, field = source
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": app, "model_name": model, "field_name": field, "term": term},
    )
    assert response.status_code == 200
    assert sorted(result["text"] for result in response.json()["results"]) == expected


def test_publish_and_unpublish_actions(admin_client, user):
    drafts = [make_post(user, status="draft") for _ in range(3)]
    url = reverse("admin:blog_post_changelist")
    ids = [str(p.pk) for p in drafts]
    response = admin_client.post(url, {"action": "publish", "_selected_action": ids}, follow=True)
    assert b"Published 3 post(s)." in response.content
    assert Post.objects.published().count() == 3
    admin_client.post(url, {"action": "unpublish", "_selected_action": ids[:1]})
    assert Post.objects.drafts().count() == 1


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
