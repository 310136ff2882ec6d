"""Every root query field, with the visibility rules the domain applies to each viewer."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from domain import db
from domain.accounts.services import token_issue, token_revoke
from rest_api.main import app as rest_app
from tests import factories
from tests.graphql.helpers import client_of, codes

pytestmark = pytest.mark.django_db(transaction=True)

POST_SLUGS = """
query($filter: PostFilter, $orderBy: PostOrder, $first: Int, $after: String) {
  posts(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    edges { cursor node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


@pytest.fixture
def blog(user: Any, other_user: Any) -> SimpleNamespace:
    """Categories Tech > Python > Django, Life and an inactive Archive; alice's and bob's posts."""
    tech = factories.make_category("Tech")
    python = factories.make_category("Python", parent=tech)
    django = factories.make_category("Django", parent=python)
    life = factories.make_category("Life")
    factories.make_category("Archive", is_active=False)
    start = timezone.now() - timedelta(hours=1)

    def post(author: Any, title: str, minutes: int, **kwargs: Any) -> Any:
        return factories.make_post(
            author, title, published_at=start + timedelta(minutes=minutes), **kwargs
        )

    orm = post(user, "Django ORM in depth", 1, category=django, tags=["python", "web"])
    tips = post(user, "Python tips", 2, category=python, tags=["python"], body="Generators rock.")
    notes = post(user, "Life notes", 3, category=life)
    web = post(other_user, "Bob on the web", 4, category=tech, tags=["web"])
    factories.make_comment(orm, other_user, "First!")
    factories.make_comment(orm, user, "Thanks.")
    return SimpleNamespace(
        posts=[orm, tips, notes, web],
        alice_draft=factories.make_post(user, "Alice draft", status="draft"),
        bob_draft=factories.make_post(other_user, "Bob draft", status="draft"),
    )


def slugs(data: dict[str, Any]) -> list[str]:
    return [edge["node"]["slug"] for edge in data["posts"]["edges"]]


# POSTS
# ------------------------------------------------------------------------------


async def test_posts_come_newest_first_in_pages_with_cursors(gql, blog):
    first = await gql.data(POST_SLUGS, {"first": 3})
    assert slugs(first) == ["bob-on-the-web", "life-notes", "python-tips"]
    info = first["posts"]["pageInfo"]
    assert info["hasNextPage"] is True
    assert info["hasPreviousPage"] is False
    assert info["startCursor"] == first["posts"]["edges"][0]["cursor"]
    assert info["endCursor"] == first["posts"]["edges"][-1]["cursor"]

    second = await gql.data(POST_SLUGS, {"first": 3, "after": info["endCursor"]})
    assert slugs(second) == ["django-orm-in-depth"]
    assert second["posts"]["pageInfo"]["hasNextPage"] is False
    assert second["posts"]["pageInfo"]["hasPreviousPage"] is True


async def test_any_edge_cursor_resumes_after_its_item(gql, blog):
    first = await gql.data(POST_SLUGS, {"first": 4})
    cursor = first["posts"]["edges"][0]["cursor"]
    rest = await gql.data(POST_SLUGS, {"first": 4, "after": cursor})
    assert slugs(rest) == slugs(first)[1:]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"category": "tech"}, ["bob-on-the-web", "python-tips", "django-orm-in-depth"]),
        ({"category": "python"}, ["python-tips", "django-orm-in-depth"]),
        ({"tag": "web"}, ["bob-on-the-web", "django-orm-in-depth"]),
        ({"author": "bob"}, ["bob-on-the-web"]),
        ({"search": "generators"}, ["python-tips"]),
        (
            {"category": "tech", "tag": "python", "author": "alice"},
            ["python-tips", "django-orm-in-depth"],
        ),
    ],
)
async def test_posts_filters_match_rest(gql, blog, filters, expected):
    """The same filters give the same posts, in the same order, as the REST service's list."""
    params = {("q" if name == "search" else name): value for name, value in filters.items()}
    async with client_of(rest_app) as rest:
        response = await rest.get("/api/v1/posts", params=params)
    assert response.status_code == 200, response.text
    from_rest = [post["slug"] for post in response.json()["items"]]
    assert slugs(await gql.data(POST_SLUGS, {"filter": filters})) == from_rest == expected


async def test_posts_ordering_is_an_enum_of_the_domain_orderings(gql, blog):
    data = await gql.data(POST_SLUGS, {"orderBy": "TITLE_ASC"})
    assert slugs(data) == ["bob-on-the-web", "django-orm-in-depth", "life-notes", "python-tips"]
    result = await gql(POST_SLUGS, {"orderBy": "SHUFFLE"})
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_a_foreign_cursor_is_bad_user_input(gql, blog):
    titles = await gql.data(POST_SLUGS, {"orderBy": "TITLE_ASC", "first": 1})
    cursor = titles["posts"]["pageInfo"]["endCursor"]
    result = await gql(POST_SLUGS, {"after": cursor})
    assert codes(result) == ["BAD_USER_INPUT"]
    assert list(result["errors"][0]["extensions"]["fields"]) == ["after"]


async def test_drafts_list_needs_sign_in_and_shows_what_the_viewer_may_see(
    gql, blog, user_token, editor_token
):
    drafts = {"filter": {"status": "DRAFT"}}
    anonymous = await gql(POST_SLUGS, drafts)
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    assert slugs(await gql.data(POST_SLUGS, drafts, token=user_token)) == ["alice-draft"]
    staff = await gql.data(POST_SLUGS, drafts, token=editor_token)
    assert sorted(slugs(staff)) == ["alice-draft", "bob-draft"]


async def test_published_lists_never_show_drafts(gql, blog, user_token):
    assert "alice-draft" not in slugs(await gql.data(POST_SLUGS, token=user_token))


# ONE POST
# ------------------------------------------------------------------------------

POST = """
query($slug: String!) {
  post(slug: $slug) {
    slug title status publishedAt readTimeMinutes commentCount viewCount
    author { username displayName }
    category { slug parent { slug } }
    tags { slug name }
  }
}
"""


async def test_a_post_with_its_relations(gql, blog):
    post = (await gql.data(POST, {"slug": "django-orm-in-depth"}))["post"]
    assert post["status"] == "PUBLISHED"
    assert post["author"] == {"username": "alice", "displayName": "alice"}
    assert post["category"] == {"slug": "django", "parent": {"slug": "python"}}
    assert [tag["slug"] for tag in post["tags"]] == ["python", "web"]
    assert post["commentCount"] == 2
    assert post["readTimeMinutes"] == 1


async def test_a_draft_of_someone_else_is_invisible(
    gql, blog, user_token, other_token, editor_token
):
    variables = {"slug": "alice-draft"}
    assert (await gql.data(POST, variables))["post"] is None
    assert (await gql.data(POST, variables, token=other_token))["post"] is None
    assert (await gql.data(POST, variables, token=user_token))["post"]["status"] == "DRAFT"
    assert (await gql.data(POST, variables, token=editor_token))["post"]["slug"] == "alice-draft"


async def test_an_unknown_post_is_null(gql, blog):
    assert (await gql.data(POST, {"slug": "nope"}))["post"] is None


# COMMENTS
# ------------------------------------------------------------------------------

COMMENTS = """
query($slug: String!, $first: Int, $after: String, $orderBy: CommentOrder) {
  comments(postSlug: $slug, first: $first, after: $after, orderBy: $orderBy) {
    nodes { body author { username } post { slug } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_the_comments_of_a_post_page_oldest_first(gql, blog):
    first = (await gql.data(COMMENTS, {"slug": "django-orm-in-depth", "first": 1}))["comments"]
    assert first["nodes"] == [
        {"body": "First!", "author": {"username": "bob"}, "post": {"slug": "django-orm-in-depth"}}
    ]
    assert first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    rest = (await gql.data(COMMENTS, {"slug": "django-orm-in-depth", "after": after}))["comments"]
    assert [c["body"] for c in rest["nodes"]] == ["Thanks."]
    newest = await gql.data(COMMENTS, {"slug": "django-orm-in-depth", "orderBy": "CREATED_AT_DESC"})
    assert [c["body"] for c in newest["comments"]["nodes"]] == ["Thanks.", "First!"]


async def test_comments_of_an_invisible_post_are_not_found(gql, blog, user_token):
    assert codes(await gql(COMMENTS, {"slug": "alice-draft"})) == ["NOT_FOUND"]
    mine = await gql.data(COMMENTS, {"slug": "alice-draft"}, token=user_token)
    assert mine["comments"]["nodes"] == []


# CATEGORIES AND TAGS
# ------------------------------------------------------------------------------

TREE = """
{
  categories {
    slug postCount parent { slug }
    children { slug postCount posts { slug } children { slug parent { slug } } }
    posts(first: 5) { slug }
  }
}
"""


async def test_the_category_tree_holds_active_categories_with_posts_and_counts(gql, blog):
    tree = (await gql.data(TREE))["categories"]
    assert [root["slug"] for root in tree] == ["life", "tech"]
    life, tech = tree
    assert life == {
        "slug": "life",
        "postCount": 1,
        "parent": None,
        "children": [],
        "posts": [{"slug": "life-notes"}],
    }
    assert tech["posts"] == [{"slug": "bob-on-the-web"}]
    [python] = tech["children"]
    assert python["postCount"] == 1
    assert python["posts"] == [{"slug": "python-tips"}]
    assert python["children"] == [{"slug": "django", "parent": {"slug": "python"}}]


async def test_a_category_by_slug_hides_inactive_ones_from_all_but_managers(
    gql, blog, user_token, editor_token
):
    query = "query($slug: String!) { category(slug: $slug) { slug isActive postCount } }"
    assert (await gql.data(query, {"slug": "python"}))["category"]["postCount"] == 1
    assert (await gql.data(query, {"slug": "archive"}, token=user_token))["category"] is None
    archive = (await gql.data(query, {"slug": "archive"}, token=editor_token))["category"]
    assert archive == {"slug": "archive", "isActive": False, "postCount": 0}


async def test_category_post_counts_are_loaded_where_the_read_had_none(gql, blog):
    query = '{ post(slug: "python-tips") { category { postCount children { postCount } } } }'
    category = (await gql.data(query))["post"]["category"]
    assert category == {"postCount": 1, "children": [{"postCount": 1}]}


async def test_tags_are_paged_by_name_with_post_counts(gql, blog):
    query = """query($after: String) {
      tags(first: 1, after: $after) { nodes { slug postCount } pageInfo { hasNextPage endCursor } }
    }"""
    first = (await gql.data(query))["tags"]
    assert first["nodes"] == [{"slug": "python", "postCount": 2}]
    rest = (await gql.data(query, {"after": first["pageInfo"]["endCursor"]}))["tags"]
    assert rest["nodes"] == [{"slug": "web", "postCount": 2}]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_a_tag_by_slug_and_post_tags_have_counts(gql, blog):
    data = await gql.data(
        '{ tag(slug: "web") { name postCount } nope: tag(slug: "nope") { name } }'
    )
    assert data == {"tag": {"name": "web", "postCount": 2}, "nope": None}
    post = await gql.data('{ post(slug: "bob-on-the-web") { tags { postCount } } }')
    assert post["post"]["tags"] == [{"postCount": 2}]


async def test_tags_of_drafts_only_do_not_exist_for_anyone(gql, blog, editor_token):
    """Tags come from published posts only, for staff too (they see a draft's tags on it)."""

    def draft_only_tags() -> None:
        blog.alice_draft.tags.set([factories.make_tag("secret-topic")])
        factories.make_tag("unused")

    await db.run(draft_only_tags)
    query = '{ tags { nodes { slug } } secret: tag(slug: "secret-topic") { slug } }'
    for token in (None, editor_token):
        data = await gql.data(query, token=token)
        assert [node["slug"] for node in data["tags"]["nodes"]] == ["python", "web"]
        assert data["secret"] is None
    draft = await gql.data(
        '{ post(slug: "alice-draft") { tags { slug postCount } } }', token=editor_token
    )
    assert draft["post"]["tags"] == [{"slug": "secret-topic", "postCount": 0}]


# THE VIEWER AND TOKENS
# ------------------------------------------------------------------------------

ME = "{ me { username displayName email isStaff } tags { nodes { slug } } }"


async def test_me_is_the_token_holder(gql, user, user_token):
    data = await gql.data(ME, token=user_token)
    assert data["me"] == {
        "username": "alice",
        "displayName": "alice",
        "email": "",
        "isStaff": False,
    }


async def test_me_while_anonymous_is_null_with_an_error_and_the_rest_is_served(gql, blog):
    result = await gql(ME)
    assert result["data"]["me"] is None
    assert result["data"]["tags"]["nodes"]
    assert codes(result) == ["UNAUTHENTICATED"]
    assert result["errors"][0]["path"] == ["me"]


@pytest.mark.parametrize("authorization", ["Bearer fdj_unknown", "Basic YWxpY2U6cHc=", "Bearer "])
async def test_unusable_credentials_fail_the_whole_operation(http, blog, authorization):
    response = await http.post(
        "/graphql",
        json={"query": "{ tags { nodes { slug } } }"},
        headers={"Authorization": authorization},
    )
    result = response.json()
    assert result["data"] is None
    assert codes(result) == ["UNAUTHENTICATED"]


async def test_a_revoked_or_expired_token_no_longer_works(gql, user):
    revoked = (await db.run(token_issue, user=user)).token
    await db.run(token_revoke, user=user, token=revoked)
    expired = (await db.run(token_issue, user=user, ttl=timedelta(seconds=-1))).token
    for token in (revoked, expired):
        assert codes(await gql(ME, token=token)) == ["UNAUTHENTICATED"]
