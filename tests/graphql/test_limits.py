"""Safety: each limit refuses with a clear, coded error; internals never leak; introspection,
GraphiQL and the body size are bounded as configured."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.conf import settings

from domain.blog import selectors
from domain.errors import Unavailable
from graphql_api.config import Config
from tests.graphql.helpers import GraphQLClient, client_of, codes

pytestmark = pytest.mark.django_db(transaction=True)


def message(result: dict[str, Any]) -> str:
    """The message of the response's first error."""
    return result["errors"][0]["message"]


# DEPTH, ALIASES, TOKENS
# ------------------------------------------------------------------------------


def nested_categories(depth: int) -> str:
    """``{ categories { children { ... { slug } } } }``, ``depth`` levels of selections."""
    return "{ categories " + "{ children " * (depth - 1) + "{ slug" + " }" * depth + " }"


async def test_depth_is_limited(gql):
    assert "errors" not in await gql(nested_categories(10))
    result = await gql(nested_categories(11))
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert message(result) == "'anonymous' exceeds maximum operation depth of 10"


async def test_aliases_are_limited(gql):
    def aliased(count: int) -> str:
        return "{ " + " ".join(f"t{n}: tags {{ nodes {{ slug }} }}" for n in range(count)) + " }"

    assert "errors" not in await gql(aliased(15))
    result = await gql(aliased(16))
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert message(result) == "16 aliases found. Allowed: 15"


async def test_tokens_are_limited(gql):
    result = await gql("{ " + "__typename " * 2000 + "}")
    assert codes(result) == ["GRAPHQL_PARSE_FAILED"]
    assert "more than 2000 tokens" in message(result)


# PAGE SIZES AND COST
# ------------------------------------------------------------------------------

POSTS_WITH_COMMENTS = """
query($posts: Int, $comments: Int) {
  posts(first: $posts) { edges { node { comments(first: $comments) { id } } } }
}
"""


@pytest.mark.parametrize(
    ("query", "field", "size"),
    [
        ("{ posts(first: 101) { nodes { id } } }", "posts", 101),
        ("{ tags(first: 0) { nodes { id } } }", "tags", 0),
        ('{ comments(postSlug: "x", first: -1) { nodes { id } } }', "comments", -1),
        ("{ categories { posts(first: 500) { id } } }", "posts", 500),
        ("{ posts { nodes { comments(first: 1000) { id } } } }", "comments", 1000),
    ],
)
async def test_page_sizes_are_bounded(gql, query, field, size):
    result = await gql(query)
    assert codes(result)[0] == "BAD_USER_INPUT"
    assert message(result) == f"`first` on `{field}` must be between 1 and 100, not {size}."


async def test_page_sizes_in_variables_are_bounded(gql):
    result = await gql(POSTS_WITH_COMMENTS, {"posts": 5, "comments": 101})
    assert codes(result) == ["BAD_USER_INPUT"]
    assert "`first` on `comments`" in message(result)


async def test_cost_multiplies_page_sizes_through_nesting(gql):
    assert "errors" not in await gql(POSTS_WITH_COMMENTS, {"posts": 100, "comments": 99})
    result = await gql(POSTS_WITH_COMMENTS, {"posts": 100, "comments": 100})
    assert codes(result) == ["QUERY_TOO_COMPLEX"]
    assert message(result) == (
        "This operation may return up to 10100 objects; the limit is 10000. "
        "Ask for smaller pages (`first`) or nest fewer lists."
    )
    assert result["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 10100,
        "maxCost": 10000,
    }


async def test_cost_counts_defaults_aliases_and_fragments(make_app):
    gql = GraphQLClient(client_of(make_app(max_cost=600)))
    query = """
    query($n: Int = 30) {
      a: posts(first: $n) { ...withComments }
      b: posts { ...withComments }
    }
    fragment withComments on PostConnection { nodes { comments(first: 10) { id } } }
    """
    # a: 30 + 30 x 10; b: 20 (the default page) + 20 x 10; 550 in all.
    assert "errors" not in await gql(query)
    result = await gql(query, {"n": 40})
    assert result["errors"][0]["extensions"]["cost"] == 40 + 400 + 20 + 200


# ERRORS
# ------------------------------------------------------------------------------


@pytest.fixture
def broken_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(**kwargs: Any) -> Any:
        raise RuntimeError('relation "blog_secret" does not exist: SELECT password FROM users')

    monkeypatch.setattr(selectors, "atag_list", broken)


async def test_unexpected_errors_are_masked_and_logged(http, broken_tags, caplog):
    response = await http.post("/graphql", json={"query": "{ tags { nodes { slug } } me { id } }"})
    result = response.json()
    assert result["data"] is None
    masked, refused = sorted(result["errors"], key=lambda error: error["path"], reverse=True)
    assert masked == {
        "message": "Internal server error.",
        "locations": [{"line": 1, "column": 3}],
        "path": ["tags"],
        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
    }
    for secret in ("SELECT", "blog_secret", "Traceback", "RuntimeError"):
        assert secret not in response.text
    # The expected refusal next to it is neither masked nor logged as a fault.
    assert refused["extensions"] == {"code": "UNAUTHENTICATED"}
    [logged] = [r for r in caplog.records if r.name == "graphql_api.errors"]
    assert "blog_secret" in logged.exc_text


async def test_debug_shows_the_message_but_never_a_traceback(make_app, broken_tags):
    gql = GraphQLClient(client_of(make_app(mask_errors=False)))
    result = await gql("{ tags { nodes { slug } } }")
    assert "blog_secret" in message(result)
    assert set(result["errors"][0]) == {"message", "locations", "path", "extensions"}


async def test_an_unavailable_database_is_a_coded_error_not_a_payload(gql, monkeypatch, user_token):
    async def down(**kwargs: Any) -> Any:
        raise Unavailable()

    monkeypatch.setattr("domain.blog.services.posts.apost_create", down)
    result = await gql(
        'mutation { createPost(input: {title: "x"}) { errors { code } } }', token=user_token
    )
    assert codes(result) == ["UNAVAILABLE"]


async def test_unknown_fields_and_syntax_errors_are_coded(gql):
    assert codes(await gql("{ nope }")) == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes(await gql("{ posts ")) == ["GRAPHQL_PARSE_FAILED"]


# INTROSPECTION, GRAPHIQL, BODY SIZE, CONFIG
# ------------------------------------------------------------------------------

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_is_off_unless_configured(gql, make_app):
    result = await gql(INTROSPECTION)
    assert set(codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in message(result).lower()
    assert (await gql.data("{ __typename }")) == {"__typename": "Query"}
    open_gql = GraphQLClient(client_of(make_app(introspection=True)))
    assert (await open_gql.data(INTROSPECTION))["__schema"]["queryType"]["name"] == "Query"


async def test_graphiql_is_served_only_when_enabled(http, make_app):
    page = {"Accept": "text/html"}
    assert (await http.get("/graphql", headers=page)).status_code == 404
    async with client_of(make_app(graphiql=True)) as enabled:
        response = await enabled.get("/graphql", headers=page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_queries_over_get_work_but_mutations_do_not(http, user):
    query = await http.get("/graphql", params={"query": "{ tags { nodes { slug } } }"})
    assert query.json() == {"data": {"tags": {"nodes": []}}}
    mutation = await http.get(
        "/graphql", params={"query": 'mutation { recordPostView(slug: "x") { viewCount } }'}
    )
    assert mutation.status_code == 400


async def test_request_bodies_are_bounded(http):
    padding = "x" * settings.API_MAX_BODY_BYTES
    response = await http.post(
        "/graphql", json={"query": "{ __typename }", "variables": {"p": padding}}
    )
    assert response.status_code == 413
    assert response.json()["title"] == "Payload Too Large"


def test_limits_come_from_the_environment(monkeypatch):
    for name, value in {
        "GRAPHQL_MAX_DEPTH": "4",
        "GRAPHQL_MAX_ALIASES": "3",
        "GRAPHQL_MAX_TOKENS": "500",
        "GRAPHQL_MAX_COST": "99",
        "GRAPHQL_INTROSPECTION": "true",
        "GRAPHIQL": "on",
    }.items():
        monkeypatch.setenv(name, value)
    config = Config.from_env()
    limits = (config.max_depth, config.max_aliases, config.max_tokens, config.max_cost)
    assert limits == (4, 3, 500, 99)
    assert config.introspection
    assert config.graphiql
    assert config.mask_errors  # tests run with DEBUG off


async def test_a_user_error_is_not_logged_as_a_fault(gql, user, user_token, caplog):
    data = await gql.data(
        'mutation { addComment(input: {postSlug: "nope", body: "x"}) { errors { code } } }',
        token=user_token,
    )
    assert data["addComment"]["errors"] == [{"code": "NOT_FOUND"}]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
