"""Safety: each limit refuses with a clear, coded error; internals never leak; introspection,
GraphiQL and the body size are bounded as configured."""

from __future__ import annotations

import itertools
import json
import logging
import math
import time
from typing import Any

import pytest
from django.conf import settings
from graphql import get_introspection_query
from graphql.language import Lexer, Source, TokenKind

from domain import inputs
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


def chain(name: str, on: str, count: int, body: str, end: str) -> str:
    """Fragments ``name0`` .. ``name{count}``: each holds ``body`` with ``{next}`` replaced by a
    spread of the next; the last holds ``end``."""
    fragments = [
        f"fragment {name}{n} on {on} {{ {body.replace('{next}', f'...{name}{n + 1}')} }}"
        for n in range(count)
    ]
    return " ".join([*fragments, f"fragment {name}{count} on {on} {{ {end} }}"])


def exploding(levels: int, end: str = "__typename") -> str:
    """The issue's document: each fragment spreads the next twice, so the last one is selected
    2^levels times."""
    return "query { ...F0 } " + chain("F", "Query", levels, "{next} {next}", end)


async def test_depth_counts_through_fragment_spreads(gql):
    def through_fragments(depth: int) -> str:
        # categories, then depth - 2 levels of children in fragments, then one more level.
        fragments = chain("C", "Category", depth - 2, "children { {next} }", "children { slug }")
        return "{ categories { ...C0 } } " + fragments

    assert "errors" not in await gql(through_fragments(10))
    result = await gql(through_fragments(11))
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert message(result) == "'anonymous' exceeds maximum operation depth of 10"
    # Also when the fragments are spread twice at every level (2^10 paths, each measured once).
    doubled = "{ categories { ...C0 } } " + chain(
        "C", "Category", 9, "children { {next} } children { {next} }", "children { slug }"
    )
    assert "'anonymous' exceeds maximum operation depth of 10" in {
        error["message"] for error in (await gql(doubled))["errors"]
    }


async def test_aliases_count_at_every_spread(gql):
    def spread(times: int, aliases: int) -> str:
        fields = " ".join(f"t{n}: tags {{ nodes {{ slug }} }}" for n in range(aliases))
        places = ["tags { nodes { slug } }", "categories { slug }", 'tag(slug: "x") { id }', ""]
        selections = " ".join(f"{places[n]} ...A" for n in range(times))
        return f"{{ {selections} }} fragment A on Query {{ {fields} }}"

    assert "errors" not in await gql(spread(3, 5))
    result = await gql(spread(4, 4))
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert message(result) == "16 aliases found. Allowed: 15"
    # Spread 2^20 times: counted once per fragment, then multiplied.
    aliases = (await gql(exploding(20, "a: __typename")))["errors"]
    assert f"{2**20} aliases found. Allowed: 15" in {error["message"] for error in aliases}
    # Counts saturate where JSON numbers stop being exact.
    errors = (await gql(exploding(100, "a: __typename")))["errors"]
    assert f"{2**53 - 1} aliases found. Allowed: 15" in {error["message"] for error in errors}


async def test_expanded_selections_are_capped(make_app):
    gql = GraphQLClient(client_of(make_app(max_selections=64, max_overlaps=10**6)))
    assert "errors" not in await gql(exploding(6))  # 64 selections of __typename
    result = await gql(exploding(7))
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert message(result) == (
        "The document selects 128 fields once its fragments are expanded; the limit is 64."
    )
    assert result["errors"][0]["extensions"] == {
        "code": "GRAPHQL_VALIDATION_FAILED",
        "selections": 128,
        "maxSelections": 64,
    }
    # Fragments no operation uses are validated too, so they count.
    unused = "{ __typename } " + chain("F", "Query", 7, "{next} {next}", "__typename")
    assert "selects 129 fields" in message(await gql(unused))


async def test_overlapping_selections_are_capped(gql, make_app):
    # graphql-core compares every pair of fields that land on the same response field ...
    result = await gql("{ " + "tags { nodes { id } } " * 40 + "}")
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    pairs = 3 * 40 * 39 // 2  # tags, nodes and id: 40 of each in one place
    assert message(result) == (
        f"The document selects the same things again too often: {pairs} pairs of fields or "
        "fragments meet in one place; the limit is 500. "
        "`tags` alone is selected 40 times in one place."
    )
    assert result["errors"][0]["extensions"] == {
        "code": "GRAPHQL_VALIDATION_FAILED",
        "overlaps": pairs,
        "maxOverlaps": 500,
    }
    # ... and every pair of fragments spread side by side, whatever they select.
    strict = GraphQLClient(client_of(make_app(max_overlaps=100)))

    def side_by_side(count: int) -> str:
        spreads = " ".join(f"...G{n}" for n in range(count))
        fragments = " ".join(f"fragment G{n} on Query {{ g{n}: __typename }}" for n in range(count))
        return f"{{ {spreads} }} {fragments}"

    assert "errors" not in await strict(side_by_side(14))  # 91 pairs
    assert message(await strict(side_by_side(15))) == (
        "The document selects the same things again too often: 105 pairs of fields or "
        "fragments meet in one place; the limit is 100."
    )


async def test_fragment_cycles_are_refused_by_the_standard_rule(gql):
    result = await gql("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert message(result) == "Cannot spread fragment 'A' within itself via 'B'."


async def test_the_shape_is_checked_before_graphql_cores_rules(gql, monkeypatch):
    """graphql-core's own rules (OverlappingFieldsCanBeMerged is quadratic) never see a document
    whose shape is refused."""
    from graphql_api import limits

    standard = limits.validate_document
    calls = []
    monkeypatch.setattr(
        limits, "validate_document", lambda *args: calls.append(1) or standard(*args)
    )
    assert "errors" not in await gql("{ __typename }")
    assert calls == [1]
    for query in (exploding(30), "{ " + "tags { nodes { id } } " * 100 + "}"):
        assert codes(await gql(query)) == ["GRAPHQL_VALIDATION_FAILED"]
    assert calls == [1]


async def test_a_repeated_document_is_validated_once_without_hashing_it(gql, monkeypatch):
    """The validation cache finds the parser cache's document by identity: a graphql-core
    document is a tree of frozen dataclasses, and hashing it walks the whole tree."""
    from graphql import DocumentNode

    from graphql_api import limits

    standard = limits.validate_document
    calls = []
    monkeypatch.setattr(
        limits, "validate_document", lambda *args: calls.append(1) or standard(*args)
    )

    def unhashable(self: DocumentNode) -> int:
        raise AssertionError("a document was hashed")

    monkeypatch.setattr(DocumentNode, "__hash__", unhashable)
    query = "query Again { tags(first: 3) { nodes { slug } } }"
    for _ in range(3):
        assert "errors" not in await gql(query)
    assert calls == [1]


# Linear time, measured against a document of the same size in the same test.

_runs = itertools.count(1)
POST_FIELDS = "id slug title summary status publishedAt createdAt updatedAt viewCount commentCount"


def token_count(query: str) -> int:
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def ordinary(tokens: int) -> str:
    """An ordinary document of about ``tokens`` tokens (up to 2000), nothing selected twice in one
    place, ending in a field that does not exist: graphql-core validates all of it, then refuses
    it, so nothing runs."""
    post = POST_FIELDS
    for _ in range(3):
        post = f"{POST_FIELDS} comments(first: 1) {{ id body post {{ {post} }} }}"
    category = "id slug name description isActive postCount parent { id slug name }"
    roots = [f"p{n}: posts(first: 1) {{ nodes {{ {post} }} }}" for n in range(15)]
    roots += [
        f'post(slug: "x") {{ {post} }}',
        f"categories {{ {category} posts(first: 1) {{ {post} }} }}",
        f'category(slug: "x") {{ {category} children {{ {category} }} }}',
        'tag(slug: "x") { id slug name postCount }',
        f'comments(postSlug: "x", first: 1) {{ nodes {{ id body post {{ {post} }} }} }}',
    ]
    for count in range(1, len(roots) + 1):
        query = "{ " + " ".join(roots[:count]) + " nope }"
        if token_count(query) >= tokens:
            break
    return query


async def seconds_per_token(gql: GraphQLClient, query: str) -> float:
    """The fastest of five cold answers, per token of the document. A comment of a new length
    first moves every node, which defeats the parser's and validation's caches."""
    best = math.inf
    for _ in range(5):
        text = "#" * next(_runs) + f"\n{query}"
        started = time.perf_counter()
        await gql(text)
        best = min(best, time.perf_counter() - started)
    return best / token_count(query)


async def assert_linear(gql: GraphQLClient, *queries: str) -> None:
    refused = await gql(ordinary(2000))
    assert [error["message"] for error in refused["errors"]] == [
        "Cannot query field 'nope' on type 'Query'."
    ]
    for query in queries:
        assert token_count(query) <= 2000
        # Measured in turns, so that a busy machine slows both alike.
        baseline = await seconds_per_token(gql, ordinary(token_count(query)))
        measured = await seconds_per_token(gql, query)
        baseline = min(baseline, await seconds_per_token(gql, ordinary(token_count(query))))
        tokens = token_count(query)
        print(f"\n{tokens} tokens: {measured * tokens * 1000:.1f} ms, {measured / baseline:.2f} x")
        assert measured < 3 * baseline, (query[:80], measured / baseline)


async def test_the_issues_fragment_explosion_is_answered_as_fast_as_an_ordinary_document(gql):
    # 760 bytes, 18 levels: 1.18 s when each spread was walked again.
    await assert_linear(gql, exploding(18))


async def test_documents_at_the_token_limit_are_answered_in_linear_time(gql):
    await assert_linear(
        gql,
        exploding(190),  # the longest that fits
        "{ posts { nodes { ...P0 } } } "
        + chain("P", "Post", 100, "id author { id } {next} {next}", "id"),
        "{ " + "tags { nodes { id } } " * 280 + "}",  # the same field again and again
        "{ "
        + " ".join(f"...G{n}" for n in range(130))
        + " } "
        + " ".join(f"fragment G{n} on Query {{ tags {{ nodes {{ id }} }} }}" for n in range(130)),
    )


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


async def test_the_cost_walk_is_planned_once_per_document_and_reads_each_runs_arguments(
    gql, monkeypatch
):
    """What the walk visits (the fields that take arguments, through fields that take none and
    inline fragments) is worked out at a document's first run; every run reads its own
    variables."""
    from graphql_api import limits

    standard = limits._cost_plan
    plans = []
    monkeypatch.setattr(limits, "_cost_plan", lambda *args: plans.append(1) or standard(*args))
    query = """
    query($posts: Int, $comments: Int, $q: String) {
      posts(first: $posts, filter: {search: $q}) {
        nodes { ... on Post { comments(first: $comments) { id } } }
      }
    }
    """
    assert "errors" not in await gql(query, {"posts": 100, "comments": 99})
    result = await gql(query, {"posts": 100, "comments": 100})
    assert result["errors"][0]["extensions"]["cost"] == 100 + 100 * 100
    result = await gql(query, {"posts": 5, "comments": 101})
    assert message(result) == "`first` on `comments` must be between 1 and 100, not 101."
    result = await gql(query, {"posts": 5, "comments": 5, "q": "a\x00b"})
    assert result["errors"][0]["extensions"]["fields"] == {"filter.search": [inputs.NOT_TEXT]}
    assert plans == [1]


EVERYTHING = """
query($n: Int!) { categories { posts(first: $n) { title comments(first: $n) { body } } } }
"""


@pytest.mark.parametrize("n", [100_000, 100_000.0])
async def test_page_sizes_and_cost_read_the_coerced_variables(gql, n):
    """graphql-core coerces a JSON float with no fraction to an Int: so do the limits."""
    result = await gql(EVERYTHING, {"n": n})
    assert codes(result) == ["BAD_USER_INPUT", "BAD_USER_INPUT", "QUERY_TOO_COMPLEX"]
    assert [error["message"] for error in result["errors"][:2]] == [
        "`first` on `posts` must be between 1 and 100, not 100000.",
        "`first` on `comments` must be between 1 and 100, not 100000.",
    ]
    result = await gql(POSTS_WITH_COMMENTS, {"posts": 100.0, "comments": float(100)})
    assert result["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 10100,
        "maxCost": 10000,
    }


async def test_arguments_execution_refuses_are_left_to_it(gql):
    result = await gql("query($n: Int) { posts(first: $n) { nodes { id } } }", {"n": None})
    assert codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["path"] == ["posts"]


# TEXT AND LENGTHS
# ------------------------------------------------------------------------------

POST_BY_SLUG = "query($s: String!) { post(slug: $s) { id } }"
SEARCH = "query($q: String) { posts(filter: {search: $q}) { nodes { id } } }"
FILTERED = "query($f: PostFilter) { posts(filter: $f) { nodes { id } } }"


@pytest.mark.parametrize(
    ("query", "variables", "path"),
    [
        (POST_BY_SLUG, {"s": "a\x00b"}, "slug"),
        ('{ post(slug: "a\\u0000b") { id } }', None, "slug"),
        (SEARCH, {"q": "lone \ud800 surrogate"}, "filter.search"),
        (FILTERED, {"f": {"tag": "\x00"}}, "filter.tag"),
        (
            'mutation($u: String!) { obtainToken(input: {username: $u, password: "x"}) '
            "{ token { token } errors { code } } }",
            {"u": "admin\x00"},
            "input.username",
        ),
    ],
)
async def test_text_that_cannot_be_stored_is_bad_user_input(http, caplog, query, variables, path):
    # json.dumps escapes a lone surrogate (as a client's JSON may); httpx would refuse to send it.
    payload = json.dumps({"query": query, "variables": variables})
    response = await http.post(
        "/graphql", content=payload, headers={"Content-Type": "application/json"}
    )
    result = response.json()
    assert codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["fields"] == {path: [inputs.NOT_TEXT]}
    assert result["data"] is None  # refused before anything ran
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "request_body",
    [
        {"query": "{ __typename }", "operationName": "\ud800"},
        {"query": "# \ud800\n{ __typename }"},
        # A persisted query is hashed and stored: a lone surrogate could be neither.
        {
            "query": "# \udfff\n{ __typename }",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}},
        },
    ],
)
async def test_a_request_that_is_not_text_is_bad_user_input(http, request_body):
    response = await http.post(
        "/graphql", content=json.dumps(request_body), headers={"Content-Type": "application/json"}
    )
    assert response.json() == {
        "data": None,
        "errors": [{"message": inputs.NOT_TEXT, "extensions": {"code": "BAD_USER_INPUT"}}],
    }


async def test_text_that_cannot_be_stored_is_refused_in_mutation_inputs(gql, user_token):
    result = await gql(
        'mutation { createPost(input: {title: "x", body: "a\\u0000b"}) { errors { code } } }',
        token=user_token,
    )
    assert codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["fields"] == {"input.body": [inputs.NOT_TEXT]}


@pytest.mark.parametrize(
    ("query", "path", "limit"),
    [
        (SEARCH, "filter.search", settings.SEARCH_MAX_LENGTH),
        (POST_BY_SLUG, "slug", inputs.SLUG_MAX_LENGTH),
        (
            "query($s: String!) { comments(postSlug: $s) { nodes { id } } }",
            "postSlug",
            inputs.SLUG_MAX_LENGTH,
        ),
        (
            "query($s: String) { tags(after: $s) { nodes { id } } }",
            "after",
            inputs.CURSOR_MAX_LENGTH,
        ),
        (FILTERED, "filter.author", inputs.USERNAME_MAX_LENGTH),
    ],
)
async def test_search_cursor_and_slug_lengths_are_the_domains(gql, query, path, limit):
    def variables(length: int) -> dict[str, Any]:
        value = "x" * length
        if query == FILTERED:
            return {"f": {path.rpartition(".")[2]: value}}
        return {query.split("$")[1].split(":")[0]: value}

    too_long = {path: [f"At most {limit} characters."]}
    at_limit = await gql(query, variables(limit))
    assert all(
        error["extensions"].get("fields") != too_long for error in at_limit.get("errors", ())
    )
    result = await gql(query, variables(limit + 1))
    assert codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["fields"] == too_long


async def test_the_introspection_query_fits_the_limits(make_app):
    """GraphiQL's first request, when introspection is on."""
    gql = GraphQLClient(client_of(make_app(introspection=True)))
    assert (await gql.data(get_introspection_query(descriptions=True)))["__schema"]["types"]


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
        "GRAPHQL_MAX_SELECTIONS": "300",
        "GRAPHQL_MAX_OVERLAPS": "0",
        "GRAPHQL_INTROSPECTION": "true",
        "GRAPHIQL": "on",
    }.items():
        monkeypatch.setenv(name, value)
    config = Config.from_env()
    limits = (config.max_depth, config.max_aliases, config.max_tokens, config.max_cost)
    assert limits == (4, 3, 500, 99)
    assert (config.max_selections, config.max_overlaps) == (300, 0)
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
