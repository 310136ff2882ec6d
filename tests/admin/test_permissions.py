"""Who may do what in the admin, proved by submitting forms and actions as staff who lack a
permission and reading the database afterwards, not by what a page offers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from domain.accounts.models import ApiToken
from domain.accounts.services import token_authenticate, token_issue
from domain.blog.models import Category, Comment, Post, Tag
from tests.factories import PASSWORD, make_category, make_comment, make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)

PINNED = datetime(2100, 1, 1, 12, 0, tzinfo=UTC)


def form_data(client: Client, url: str) -> dict[str, Any]:
    """The POST data that would save the form at ``url`` unchanged, as a browser sends it."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        widget = field.widget
        if isinstance(widget, forms.MultiWidget):
            parts = widget.decompress(value)
            for index, (part, sub) in enumerate(zip(parts, widget.widgets, strict=True)):
                data[f"{name}_{index}"] = sub.format_value(part) or ""
        elif isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        else:
            data[name] = "" if value is None else str(value)
    return data


def split(moment: datetime) -> dict[str, str]:
    return {"_0": moment.strftime("%Y-%m-%d"), "_1": moment.strftime("%H:%M:%S")}


def with_datetime(data: dict[str, Any], name: str, moment: datetime | None) -> dict[str, Any]:
    parts = split(moment) if moment else {"_0": "", "_1": ""}
    return {**data, **{name + suffix: value for suffix, value in parts.items()}}


def change(client: Client, obj: Any, **changes: Any) -> Any:
    """Submit ``obj``'s change form with ``changes`` (also fields the form does not show)."""
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    data = {**form_data(client, url), **changes}
    return client.post(url, data)


# POSTS: STATUS, PUBLICATION DATE, AUTHOR
# ------------------------------------------------------------------------------


def publish_fields(moment: datetime = PINNED) -> dict[str, Any]:
    return {"status": "published", **with_datetime({}, "published_at", moment)}


def test_without_publish_post_status_and_date_stay_as_they_were(staff_client, user):
    """`change_post` edits a post; publishing it, or dating it to the top of the front page,
    needs `publish_post`."""
    editor = staff_client("blog.view_post", "blog.change_post")
    draft = make_post(user, "Draft", status="draft")
    live = make_post(user, "Live", published_at=timezone.now() - timedelta(days=3))
    response = change(editor, draft, title="Draft, edited", **publish_fields())
    assert response.status_code == 302
    response = change(editor, live, title="Live, edited", **publish_fields())
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.status, draft.published_at) == ("Draft, edited", "draft", None)
    old_date = live.published_at
    live.refresh_from_db()
    assert (live.title, live.published_at) == ("Live, edited", old_date)
    # Unpublishing is the same permission.
    change(editor, live, status="draft")
    live.refresh_from_db()
    assert live.status == "published"


def test_with_publish_post_status_and_date_change(staff_client, user):
    publisher = staff_client("blog.view_post", "blog.change_post", "blog.publish_post")
    draft = make_post(user, "Draft", status="draft")
    assert change(publisher, draft, **publish_fields()).status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.published_at) == ("published", PINNED)


def test_an_author_publishes_their_own_post_but_does_not_date_it(staff_client):
    """As in the APIs: an author publishes their own post; the date is the moment it went live."""
    author = staff_client("blog.change_post")
    own = make_post(author.user, "Mine", status="draft")
    before = timezone.now()
    assert change(author, own, **publish_fields()).status_code == 302
    own.refresh_from_db()
    assert own.status == "published"
    assert before <= own.published_at <= timezone.now()


def test_only_superusers_reassign_a_post(staff_client, admin_client, user, other_user):
    publisher = staff_client("blog.view_post", "blog.change_post", "blog.publish_post")
    post = make_post(user, "Alice's")
    assert change(publisher, post, author=str(publisher.user.pk)).status_code == 302
    post.refresh_from_db()
    assert post.author == user
    assert change(admin_client, post, author=str(other_user.pk)).status_code == 302
    post.refresh_from_db()
    assert post.author == other_user


def test_a_new_post_is_the_staff_members_own(staff_client, user):
    writer = staff_client("blog.add_post", "blog.change_post")
    response = writer.post(
        reverse("admin:blog_post_add"),
        {
            "title": "New",
            "slug": "new",
            "author": str(user.pk),
            "summary": "",
            "body": "Words.",
            "status": "draft",
            **with_datetime({}, "published_at", PINNED),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    post = Post.objects.get(slug="new")
    assert post.author == writer.user
    assert post.published_at is None


def test_the_publish_actions_need_publish_post(staff_client, user):
    editor = staff_client("blog.view_post", "blog.change_post")
    draft = make_post(user, "Draft", status="draft")
    live = make_post(user, "Live")
    url = reverse("admin:blog_post_changelist")
    assert b'value="publish"' not in editor.get(url).content
    editor.post(url, {"action": "publish", "_selected_action": [draft.pk]})
    editor.post(url, {"action": "unpublish", "_selected_action": [live.pk]})
    assert Post.objects.get(pk=draft.pk).status == "draft"
    assert Post.objects.get(pk=live.pk).status == "published"


def test_the_publish_actions_go_through_the_domains_checks(staff_client, user):
    """The action calls post_publish for each post, which checks again: a publisher who may
    not see someone's drafts (no `view_post`) cannot publish them from the admin either."""
    publisher = staff_client("blog.change_post", "blog.publish_post")
    others = make_post(user, "Alice's draft", status="draft")
    own = make_post(publisher.user, "My draft", status="draft")
    url = reverse("admin:blog_post_changelist")
    response = publisher.post(
        url, {"action": "publish", "_selected_action": [others.pk, own.pk]}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "alices-draft: No post with this slug.",
        "Published 1 post(s).",
    ]
    assert Post.objects.get(pk=others.pk).status == "draft"
    assert Post.objects.get(pk=own.pk).status == "published"


# EVERY MODEL: CHANGE, ADD, DELETE WITHOUT THE PERMISSION
# ------------------------------------------------------------------------------


def objects(user: Any) -> dict[str, Any]:
    post = make_post(user, "Post")
    return {
        "blog_post": post,
        "blog_category": make_category("Category"),
        "blog_tag": Tag.objects.create(name="Tag", slug="tag"),
        "blog_comment": make_comment(post, user, "Comment"),
        "accounts_apitoken": ApiToken.objects.get(pk=token_issue(user=user, name="Token").id),
        "accounts_user": make_user(username="someone"),
    }


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row the admin could touch."""
    models = (Post, Category, Tag, Comment, ApiToken, get_user_model())
    return {
        model.__name__: sorted(
            tuple(str(v) for v in row)
            for row in model.objects.values_list()  # type: ignore[attr-defined]
        )
        for model in models
    }


NAMES = [
    "blog_post",
    "blog_category",
    "blog_tag",
    "blog_comment",
    "accounts_apitoken",
    "accounts_user",
]


@pytest.mark.parametrize("name", NAMES)
def test_view_only_staff_change_nothing(staff_client, user, name):
    app, model = name.split("_", 1)
    viewer = staff_client(f"{app}.view_{model}")
    obj = objects(user)[name]
    change_url = reverse(f"admin:{name}_change", args=[obj.pk])
    before = snapshot()
    attempts = [
        viewer.post(change_url, {"name": "changed", "title": "changed", "body": "changed"}),
        viewer.post(reverse(f"admin:{name}_add"), {"name": "new", "title": "new", "slug": "new"}),
        viewer.post(reverse(f"admin:{name}_delete", args=[obj.pk]), {"post": "yes"}),
    ]
    assert [response.status_code for response in attempts] == [403, 403, 403]
    viewer.post(
        reverse(f"admin:{name}_changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert snapshot() == before


# TOKENS: USER, EXPIRY AND REVOCATION ARE FOR GOOD
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_a_token_keeps_its_user_expiry_and_revocation(staff_client, admin_client, user, who):
    client = (
        staff_client("accounts.view_apitoken", "accounts.change_apitoken")
        if who == "staff"
        else admin_client
    )
    issued = token_issue(user=user, name="old")
    token = ApiToken.objects.get(pk=issued.id)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    token.refresh_from_db()
    url = reverse("admin:accounts_apitoken_change", args=[token.pk])
    data = {
        **form_data(client, url),
        "name": "renamed",
        "user": str(make_user(username="thief").pk),
        **with_datetime({}, "expires_at", None),
        **with_datetime({}, "revoked_at", None),
    }
    assert client.post(url, data).status_code == 302
    after = ApiToken.objects.get(pk=token.pk)
    assert after.name == "renamed"
    assert (after.user_id, after.expires_at, after.revoked_at) == (
        token.user_id,
        token.expires_at,
        token.revoked_at,
    )
    assert token_authenticate(issued.token) is None


def test_staff_issue_tokens_for_themselves_only(staff_client, admin_client, user):
    staff = staff_client("accounts.add_apitoken", "accounts.view_apitoken")
    url = reverse("admin:accounts_apitoken_add")
    empty = with_datetime({}, "expires_at", None)
    assert staff.post(url, {"user": str(user.pk), "name": "mine", **empty}).status_code == 302
    assert ApiToken.objects.get(name="mine").user == staff.user
    assert admin_client.post(url, {"user": str(user.pk), "name": "alice's", **empty}).status_code
    assert ApiToken.objects.get(name="alice's").user == user


def test_a_new_token_expires_within_the_token_lifetime(staff_client, admin_client, settings):
    staff = staff_client("accounts.add_apitoken", "accounts.view_apitoken")
    url = reverse("admin:accounts_apitoken_add")
    later = timezone.now() + timedelta(seconds=settings.API_TOKEN_TTL + 86_400)
    response = staff.post(url, {"name": "forever", **with_datetime({}, "expires_at", later)})
    assert response.status_code == 200
    assert "expires_at" in response.context["adminform"].form.errors
    past = timezone.now() - timedelta(days=1)
    response = staff.post(url, {"name": "dead", **with_datetime({}, "expires_at", past)})
    assert "expires_at" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()
    sooner = timezone.now() + timedelta(days=1)
    assert (
        staff.post(url, {"name": "day", **with_datetime({}, "expires_at", sooner)}).status_code
        == 302
    )
    assert ApiToken.objects.get().expires_at < timezone.now() + timedelta(days=2)


def test_revoking_needs_the_change_permission(staff_client, user):
    viewer = staff_client("accounts.view_apitoken")
    issued = token_issue(user=user)
    url = reverse("admin:accounts_apitoken_changelist")
    assert b'value="revoke"' not in viewer.get(url).content
    viewer.post(url, {"action": "revoke", "_selected_action": [issued.id]})
    assert token_authenticate(issued.token) == user


# USERS: NO WAY UP
# ------------------------------------------------------------------------------


def test_staff_cannot_grant_themselves_more(staff_client):
    staff = staff_client("accounts.view_user", "accounts.change_user")
    every_permission = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    response = change(
        staff, staff.user, is_superuser="on", user_permissions=every_permission, first_name="Me"
    )
    assert response.status_code == 302
    me = get_user_model().objects.get(pk=staff.user.pk)
    assert me.first_name == "Me"
    assert not me.is_superuser
    assert set(me.get_all_permissions()) == {"accounts.view_user", "accounts.change_user"}


def test_staff_cannot_change_superusers_or_other_staff(staff_client, superuser):
    staff = staff_client("accounts.view_user", "accounts.change_user")
    other_staff = make_user(username="colleague", is_staff=True)
    for target in (superuser, other_staff):
        url = reverse("admin:auth_user_password_change", args=[target.pk])
        response = staff.post(url, {"password1": "taken-over-1234", "password2": "taken-over-1234"})
        assert response.status_code == 403
        target.refresh_from_db()
        assert target.check_password(PASSWORD)
        change_url = reverse("admin:accounts_user_change", args=[target.pk])
        assert staff.post(change_url, {"username": "renamed"}).status_code == 403
        target.refresh_from_db()
        assert target.username != "renamed"
    # A non-staff account is theirs to manage.
    member = make_user(username="member")
    assert change(staff, member, first_name="Member").status_code == 302
