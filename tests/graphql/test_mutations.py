"""Every mutation: success, and each expected refusal as a typed error in its payload."""

from __future__ import annotations

import time
from typing import Any

import pytest

from domain import db
from domain.accounts.models import ApiToken
from domain.blog.models import Post
from tests import factories
from tests.graphql.helpers import codes

pytestmark = pytest.mark.django_db(transaction=True)

POST_FIELDS = (
    "slug title summary status publishedAt author { username } category { slug } tags { slug }"
)
ERRORS = "errors { field message code }"

CREATE_POST = f"""
mutation($input: CreatePostInput!) {{
  createPost(input: $input) {{ post {{ {POST_FIELDS} }} {ERRORS} }}
}}
"""
UPDATE_POST = f"""
mutation($input: UpdatePostInput!) {{
  updatePost(input: $input) {{ post {{ {POST_FIELDS} }} {ERRORS} }}
}}
"""


def refusal(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    """The ``(field, code)`` of each error of a payload."""
    return [(error["field"], error["code"]) for error in payload["errors"]]


@pytest.fixture
def python(db: Any) -> Any:
    return factories.make_category("Python")


# POSTS
# ------------------------------------------------------------------------------


async def test_create_post_writes_a_draft_by_the_viewer(gql, user_token, python):
    variables = {"input": {"title": "  Hello  ", "category": "python", "tags": ["Web", "web!"]}}
    payload = (await gql.data(CREATE_POST, variables, token=user_token))["createPost"]
    assert payload["errors"] == []
    assert payload["post"] == {
        "slug": "hello",
        "title": "Hello",
        "summary": "",
        "status": "DRAFT",
        "publishedAt": None,
        "author": {"username": "alice"},
        "category": {"slug": "python"},
        "tags": [{"slug": "web"}],
    }


async def test_create_post_can_publish_at_once(gql, user_token):
    variables = {"input": {"title": "Live", "publish": True}}
    post = (await gql.data(CREATE_POST, variables, token=user_token))["createPost"]["post"]
    assert post["status"] == "PUBLISHED"
    assert post["publishedAt"] is not None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"category": "nope"}, "category"),
        ({"tags": [str(n) for n in range(11)]}, "tags"),
        ({"slug": "not a slug!"}, "slug"),
    ],
)
async def test_create_post_reports_invalid_input_per_field(gql, user_token, changes, field):
    variables = {"input": {"title": "Fine", **changes}}
    payload = (await gql.data(CREATE_POST, variables, token=user_token))["createPost"]
    assert payload["post"] is None
    assert refusal(payload) == [(field, "BAD_USER_INPUT")]
    assert payload["errors"][0]["message"]


async def test_create_post_with_a_taken_slug_is_a_conflict(gql, user, user_token):
    await db.run(factories.make_post, user, "Taken")
    variables = {"input": {"title": "Other", "slug": "taken"}}
    payload = (await gql.data(CREATE_POST, variables, token=user_token))["createPost"]
    assert refusal(payload) == [(None, "CONFLICT")]


async def test_create_post_needs_a_viewer(gql):
    payload = (await gql.data(CREATE_POST, {"input": {"title": "Anonymous"}}))["createPost"]
    assert refusal(payload) == [(None, "UNAUTHENTICATED")]
    assert await db.run(Post.objects.count) == 0


async def test_create_post_with_an_idempotency_key_writes_once(gql, user_token):
    variables = {"input": {"title": "Once", "idempotencyKey": "retry-1"}}
    first = await gql.data(CREATE_POST, variables, token=user_token)
    again = await gql.data(CREATE_POST, variables, token=user_token)
    assert first == again
    assert await db.run(Post.objects.count) == 1


async def test_update_post_changes_only_what_is_given(gql, user, user_token, python):
    await db.run(factories.make_post, user, "Old title", category=python, tags=["a", "b"])
    variables = {"input": {"slug": "old-title", "title": "New title", "tags": ["c"]}}
    post = (await gql.data(UPDATE_POST, variables, token=user_token))["updatePost"]["post"]
    assert post["slug"] == "old-title"
    assert post["title"] == "New title"
    assert post["category"] == {"slug": "python"}
    assert post["tags"] == [{"slug": "c"}]


async def test_update_post_null_clears_a_nullable_field_and_new_slug_moves_it(
    gql, user, user_token, python
):
    await db.run(factories.make_post, user, "Filed", category=python)
    variables = {"input": {"slug": "filed", "category": None, "newSlug": "unfiled"}}
    post = (await gql.data(UPDATE_POST, variables, token=user_token))["updatePost"]["post"]
    assert post["category"] is None
    assert post["slug"] == "unfiled"


async def test_update_post_refuses_null_for_a_required_field(gql, user, user_token):
    await db.run(factories.make_post, user, "Titled")
    variables = {"input": {"slug": "titled", "title": None}}
    result = await gql(UPDATE_POST, variables, token=user_token)
    assert codes(result) == ["BAD_USER_INPUT"]
    assert "cannot be explicitly set to null" in result["errors"][0]["message"]


async def test_update_post_of_someone_else(gql, user, other_token, editor_token):
    await db.run(factories.make_post, user, "Mine")
    await db.run(factories.make_post, user, "My draft", status="draft")
    edit = {"input": {"slug": "mine", "summary": "Edited"}}
    draft = {"input": {"slug": "my-draft", "summary": "Edited"}}
    forbidden = (await gql.data(UPDATE_POST, edit, token=other_token))["updatePost"]
    assert refusal(forbidden) == [(None, "FORBIDDEN")]
    hidden = (await gql.data(UPDATE_POST, draft, token=other_token))["updatePost"]
    assert refusal(hidden) == [(None, "NOT_FOUND")]
    staff = (await gql.data(UPDATE_POST, edit, token=editor_token))["updatePost"]
    assert staff["post"]["summary"] == "Edited"


async def test_publish_and_unpublish(gql, user, user_token, other_token):
    await db.run(factories.make_post, user, "Soon", status="draft")
    publish = f'mutation {{ publishPost(slug: "soon") {{ post {{ {POST_FIELDS} }} {ERRORS} }} }}'
    unpublish = (
        f'mutation {{ unpublishPost(slug: "soon") {{ post {{ status publishedAt }} {ERRORS} }} }}'
    )
    refused = (await gql.data(publish, token=other_token))["publishPost"]
    assert refusal(refused) == [(None, "NOT_FOUND")]
    published = (await gql.data(publish, token=user_token))["publishPost"]["post"]
    assert published["status"] == "PUBLISHED"
    draft = (await gql.data(unpublish, token=user_token))["unpublishPost"]["post"]
    assert draft == {"status": "DRAFT", "publishedAt": published["publishedAt"]}


async def test_delete_post(gql, user, user_token, other_token):
    await db.run(factories.make_post, user, "Doomed")
    delete = f'mutation {{ deletePost(slug: "doomed") {{ deletedSlug {ERRORS} }} }}'
    refused = (await gql.data(delete, token=other_token))["deletePost"]
    assert refusal(refused) == [(None, "FORBIDDEN")]
    assert (await gql.data(delete, token=user_token))["deletePost"] == {
        "deletedSlug": "doomed",
        "errors": [],
    }
    assert (await gql.data('{ post(slug: "doomed") { slug } }'))["post"] is None


async def test_record_post_view_counts_published_posts_only(gql, user):
    await db.run(factories.make_post, user, "Popular")
    await db.run(factories.make_post, user, "Hidden", status="draft")
    view = "mutation($slug: String!) { recordPostView(slug: $slug) { viewCount " + ERRORS + " } }"
    assert (await gql.data(view, {"slug": "popular"}))["recordPostView"]["viewCount"] == 1
    assert (await gql.data(view, {"slug": "popular"}))["recordPostView"]["viewCount"] == 2
    hidden = (await gql.data(view, {"slug": "hidden"}))["recordPostView"]
    assert refusal(hidden) == [(None, "NOT_FOUND")]


# CATEGORIES
# ------------------------------------------------------------------------------

CREATE_CATEGORY = f"""
mutation($input: CreateCategoryInput!) {{
  createCategory(input: $input) {{ category {{ slug name isActive parent {{ slug }} }} {ERRORS} }}
}}
"""
UPDATE_CATEGORY = f"""
mutation($input: UpdateCategoryInput!) {{
  updateCategory(input: $input) {{ category {{ slug name parent {{ slug }} }} {ERRORS} }}
}}
"""


async def test_create_category_needs_the_permission(gql, python, user_token, editor_token):
    variables = {"input": {"name": "Django", "parent": "python"}}
    refused = (await gql.data(CREATE_CATEGORY, variables, token=user_token))["createCategory"]
    assert refusal(refused) == [(None, "FORBIDDEN")]
    created = (await gql.data(CREATE_CATEGORY, variables, token=editor_token))["createCategory"]
    assert created == {
        "category": {
            "slug": "django",
            "name": "Django",
            "isActive": True,
            "parent": {"slug": "python"},
        },
        "errors": [],
    }
    orphan = {"input": {"name": "Orphan", "parent": "nope"}}
    unknown = (await gql.data(CREATE_CATEGORY, orphan, token=editor_token))["createCategory"]
    assert refusal(unknown) == [("parent", "BAD_USER_INPUT")]


async def test_update_category_renames_and_moves_but_never_under_itself(gql, python, editor_token):
    await db.run(factories.make_category, "Django", parent=python)
    cycle = {"input": {"slug": "python", "parent": "django"}}
    refused = (await gql.data(UPDATE_CATEGORY, cycle, token=editor_token))["updateCategory"]
    assert refusal(refused) == [("parent", "BAD_USER_INPUT")]
    move = {"input": {"slug": "django", "parent": None, "name": "Django web", "newSlug": "dj"}}
    moved = (await gql.data(UPDATE_CATEGORY, move, token=editor_token))["updateCategory"]
    assert moved["category"] == {"slug": "dj", "name": "Django web", "parent": None}


async def test_update_category_needs_the_permission(gql, python, user_token):
    variables = {"input": {"slug": "python", "name": "Snake"}}
    refused = (await gql.data(UPDATE_CATEGORY, variables, token=user_token))["updateCategory"]
    assert refusal(refused) == [(None, "FORBIDDEN")]


DELETE_CATEGORY = f"""
mutation($slug: String!, $moveTo: String) {{
  deleteCategory(slug: $slug, moveTo: $moveTo) {{ deletedSlug {ERRORS} }}
}}
"""


async def test_delete_category_never_deletes_its_posts(gql, user, python, user_token, editor_token):
    await db.run(factories.make_category, "Snakes")
    await db.run(factories.make_post, user, "Filed", category=python)
    refused = await gql.data(DELETE_CATEGORY, {"slug": "python"}, token=user_token)
    assert refusal(refused["deleteCategory"]) == [(None, "FORBIDDEN")]
    full = await gql.data(DELETE_CATEGORY, {"slug": "python"}, token=editor_token)
    assert refusal(full["deleteCategory"]) == [(None, "CONFLICT")]
    moved = {"slug": "python", "moveTo": "snakes"}
    deleted = (await gql.data(DELETE_CATEGORY, moved, token=editor_token))["deleteCategory"]
    assert deleted == {"deletedSlug": "python", "errors": []}
    post = await gql.data('{ post(slug: "filed") { category { slug } } }')
    assert post == {"post": {"category": {"slug": "snakes"}}}


# COMMENTS
# ------------------------------------------------------------------------------

ADD_COMMENT = f"""
mutation($input: AddCommentInput!) {{
  addComment(input: $input) {{
    comment {{ body author {{ username }} post {{ slug commentCount }} }}
    {ERRORS}
  }}
}}
"""


async def test_add_comment(gql, user, other_token):
    await db.run(factories.make_post, user, "Open")
    variables = {"input": {"postSlug": "open", "body": " Great read. "}}
    payload = (await gql.data(ADD_COMMENT, variables, token=other_token))["addComment"]
    assert payload == {
        "comment": {
            "body": "Great read.",
            "author": {"username": "bob"},
            "post": {"slug": "open", "commentCount": 1},
        },
        "errors": [],
    }


async def test_add_comment_refusals(gql, user, other_token):
    await db.run(factories.make_post, user, "Open")
    await db.run(factories.make_post, user, "Private", status="draft")

    async def refused(body: str, slug: str, token: str | None) -> list[tuple[str | None, str]]:
        variables = {"input": {"postSlug": slug, "body": body}}
        return refusal((await gql.data(ADD_COMMENT, variables, token=token))["addComment"])

    assert await refused("  ", "open", other_token) == [("body", "BAD_USER_INPUT")]
    assert await refused("Hi", "private", other_token) == [(None, "NOT_FOUND")]
    assert await refused("Hi", "open", None) == [(None, "UNAUTHENTICATED")]


async def test_replays_of_deleted_objects_are_not_found(gql, user, user_token, other_token):
    created = {"input": {"title": "Once", "idempotencyKey": "retry-1"}}
    first = (await gql.data(CREATE_POST, created, token=user_token))["createPost"]
    await db.run(Post.objects.filter(slug=first["post"]["slug"]).delete)
    again = (await gql.data(CREATE_POST, created, token=user_token))["createPost"]
    assert again["post"] is None
    assert refusal(again) == [(None, "NOT_FOUND")]
    assert "deleted" in again["errors"][0]["message"]

    await db.run(factories.make_post, user, "Open")
    commented = {"input": {"postSlug": "open", "body": "Hi", "idempotencyKey": "c-1"}}
    assert (await gql.data(ADD_COMMENT, commented, token=other_token))["addComment"]["comment"]
    await db.run(Post.objects.filter(slug="open").delete)
    replayed = (await gql.data(ADD_COMMENT, commented, token=other_token))["addComment"]
    assert replayed["comment"] is None
    assert refusal(replayed) == [(None, "NOT_FOUND")]
    assert await db.run(Post.objects.count) == 0


# TOKENS
# ------------------------------------------------------------------------------

OBTAIN = """
mutation($username: String!, $password: String!) {
  obtainToken(input: {username: $username, password: $password, name: "cli"}) {
    token { token name expiresAt } errors { field message code }
  }
}
"""
REVOKE = "mutation($token: String) { revokeToken(token: $token) { revoked " + ERRORS + " } }"


async def test_obtain_token_and_use_it(gql, user):
    variables = {"username": "alice", "password": factories.PASSWORD}
    issued = (await gql.data(OBTAIN, variables))["obtainToken"]["token"]
    assert issued["token"].startswith("fdj_")
    assert issued["name"] == "cli"
    me = await gql.data("{ me { username } }", token=issued["token"])
    assert me == {"me": {"username": "alice"}}


async def test_obtain_token_refuses_wrong_passwords_then_rate_limits(gql, user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    variables = {"username": "alice", "password": "wrong"}
    for _ in range(2):
        payload = (await gql.data(OBTAIN, variables))["obtainToken"]
        assert refusal(payload) == [(None, "UNAUTHENTICATED")]
    right = {"username": "alice", "password": factories.PASSWORD}
    limited = (await gql.data(OBTAIN, right))["obtainToken"]
    assert refusal(limited) == [(None, "RATE_LIMITED")]


ALIASED = """
mutation($username: String!, $password: String!) {
  first: obtainToken(input: {username: $username, password: $password}) { token { token } }
  second: obtainToken(input: {username: $username, password: $password}) { token { token } }
}
"""
IN_FRAGMENTS = """
mutation($username: String!, $password: String!) { ...Login ...Again }
fragment Login on Mutation {
  obtainToken(input: {username: $username, password: $password}) { token { token } }
}
fragment Again on Mutation {
  again: obtainToken(input: {username: $username, password: $password}) { token { token } }
}
"""


@pytest.mark.parametrize("document", [ALIASED, IN_FRAGMENTS], ids=["aliases", "fragments"])
async def test_obtain_token_is_refused_twice_in_one_operation(gql, user, settings, document):
    """One request, one password check: aliases and fragments cannot multiply guesses, and
    nothing runs (no attempt is counted)."""
    settings.LOGIN_MAX_FAILURES = 1
    result = await gql(document, {"username": "alice", "password": "wrong"})
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "once per operation" in result["errors"][0]["message"]
    assert result.get("data") is None
    # The refused operation made no attempt: the one allowed failure is still there.
    payload = (await gql.data(OBTAIN, {"username": "alice", "password": "wrong"}))["obtainToken"]
    assert refusal(payload) == [(None, "UNAUTHENTICATED")]


async def test_obtain_token_once_per_operation_is_allowed(gql, user):
    once_in_a_fragment = """
    mutation($username: String!, $password: String!) { ...Login ...Login }
    fragment Login on Mutation {
      obtainToken(input: {username: $username, password: $password}) { token { name } }
    }
    """
    variables = {"username": "alice", "password": factories.PASSWORD}
    result = await gql.data(once_in_a_fragment, variables)
    assert result["obtainToken"]["token"] == {"name": ""}
    assert await db.run(ApiToken.objects.count) == 1, "the same response name is one call"


def test_the_once_per_operation_rule_reads_each_fragment_once():
    """Fragments spread twice per level: the rule's time grows with the document, not with
    what it expands to (2**levels calls)."""
    from graphql import parse, validate

    from graphql_api.accounts.limits import OneObtainTokenPerOperation
    from graphql_api.config import Config
    from graphql_api.schema import build_schema

    schema = build_schema(Config())._schema

    def document(levels: int) -> str:
        fragments = [
            f"fragment F{n} on Mutation {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels)
        ]
        leaf = f"fragment F{levels} on Mutation {{ a: obtainToken(input: $i) {{ __typename }} }}"
        twice = (
            f"fragment F{levels + 1} on Mutation {{ b: obtainToken(input: $i) {{ __typename }} }}"
        )
        root = f"mutation($i: ObtainTokenInput!) {{ ...F0 ...F{levels + 1} }}"
        return "\n".join([root, *fragments, leaf, twice])

    def seconds(levels: int) -> tuple[float, list[Any]]:
        ast = parse(document(levels))
        started = time.perf_counter()
        errors = validate(schema, ast, [OneObtainTokenPerOperation])
        return time.perf_counter() - started, errors

    small, errors = min(seconds(10) for _ in range(3))
    assert [e.message for e in errors] == [
        "`obtainToken` may be asked for once per operation, not 2 times."
    ]
    large, errors = min(seconds(20) for _ in range(3))
    assert len(errors) == 1
    # Twice the document: about twice the time. Walking every spread would take 1024 times.
    assert large < 30 * max(small, 1e-4), (small, large)


async def test_revoke_token_defaults_to_the_one_in_use(gql, user_token):
    assert (await gql.data(REVOKE, token=user_token))["revokeToken"] == {
        "revoked": True,
        "errors": [],
    }
    assert codes(await gql("{ me { username } }", token=user_token)) == ["UNAUTHENTICATED"]


async def test_revoke_token_of_another_token_of_the_viewer(gql, user, user_token):
    other = await gql.data(OBTAIN, {"username": "alice", "password": factories.PASSWORD})
    token = other["obtainToken"]["token"]["token"]
    revoked = await gql.data(REVOKE, {"token": token}, token=user_token)
    assert revoked["revokeToken"]["revoked"] is True
    assert codes(await gql("{ me { username } }", token=token)) == ["UNAUTHENTICATED"]
    assert (await gql.data("{ me { username } }", token=user_token))["me"]["username"] == "alice"


async def test_revoke_token_refusals(gql, user_token):
    anonymous = (await gql.data(REVOKE, {"token": "fdj_x"}))["revokeToken"]
    assert refusal(anonymous) == [(None, "UNAUTHENTICATED")]
    unknown = (await gql.data(REVOKE, {"token": "fdj_unknown"}, token=user_token))["revokeToken"]
    assert refusal(unknown) == [(None, "NOT_FOUND")]
