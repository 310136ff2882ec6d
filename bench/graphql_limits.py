"""Time the GraphQL service's answer to hostile documents within the token limit, in process.

    flock /tmp/fastdjango-timing.lock uv run python bench/graphql_limits.py

Each document is parsed (with the token limit), checked by ``graphql_api.limits`` and, unless its
shape is refused, validated by graphql-core's rules; documents that would pass end in an unknown
field, so nothing executes and no database is needed. Each time is the fastest of seven cold
runs (a comment of a new length first defeats the parser and validation caches), wall clock and
CPU. An ordinary document of the same size, validated in full, is the yardstick.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "domain.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")  # no secret key needed; the limits do not depend on it

from domain.asgi import setup_django

setup_django()

from graphql.language import Lexer, Source, TokenKind  # noqa: E402

from graphql_api.config import Config  # noqa: E402
from graphql_api.schema import build_schema  # noqa: E402

POST = "id slug title summary status publishedAt createdAt updatedAt viewCount commentCount"
_runs = itertools.count(1)


def tokens(query: str) -> int:
    lexer, count = Lexer(Source(query)), 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def fit(make: Callable[[int], str], limit: int = 1999) -> str:
    """``make(n)`` for the largest n that stays within ``limit`` tokens (the parser also counts
    the comment in front)."""
    low, high = 1, 4000
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if tokens(make(mid)) <= limit else (low, mid - 1)
    return make(low)


def chain(name: str, on: str, count: int, body: str, end: str) -> str:
    parts = [
        f"fragment {name}{n} on {on} {{ {body.replace('{next}', f'...{name}{n + 1}')} }}"
        for n in range(count)
    ]
    return " ".join([*parts, f"fragment {name}{count} on {on} {{ {end} }}"])


def ordinary() -> str:
    post = POST
    for _ in range(3):
        post = f"{POST} comments(first: 1) {{ id body post {{ {post} }} }}"
    category = "id slug name description isActive postCount parent { id slug name }"
    roots = [f"p{n}: posts(first: 1) {{ nodes {{ {post} }} }}" for n in range(15)]
    roots += [
        f'post(slug: "x") {{ {post} }}',
        f"categories {{ {category} posts(first: 1) {{ {post} }} }}",
        f'category(slug: "x") {{ {category} children {{ {category} }} }}',
        f'comments(postSlug: "x", first: 1) {{ nodes {{ id body post {{ {post} }} }} }}',
    ]
    return "{ " + " ".join(roots) + " nope }"


def documents() -> dict[str, str]:
    query_fields = ["posts { nodes { id } }", "categories { id }", "tags { nodes { id } }"]
    return {
        "ordinary, validated in full": ordinary(),
        "the issue's: 18 levels": "query { ...F0 } "
        + chain("F", "Query", 18, "{next} {next}", "__typename"),
        "fragment explosion, 190 levels": fit(
            lambda n: "query { ...F0 } " + chain("F", "Query", n, "{next} {next}", "__typename")
        ),
        "explosion inside fields": fit(
            lambda n: (
                "{ posts { nodes { ...P0 } } } "
                + chain("P", "Post", n, "id author { id } {next} {next}", "id")
            )
        ),
        "one field 280 times": fit(lambda n: "{ " + "tags { nodes { id } } " * n + "}"),
        "__typename 1998 times": fit(lambda n: "{ " + "__typename " * n + "}"),
        "130 fragments side by side": fit(
            lambda n: (
                "{ "
                + " ".join(f"...G{i}" for i in range(n))
                + " } "
                + " ".join(f"fragment G{i} on Query {{ {query_fields[i % 3]} }}" for i in range(n))
            )
        ),
        "666 aliases": fit(lambda n: "{ " + "a: __typename " * n + "}"),
        "fragment cycle": fit(
            lambda n: (
                "{ ...C0 } "
                + " ".join(
                    f"fragment C{i} on Query {{ ...C{(i + 1) % n} __typename }}" for i in range(n)
                )
            )
        ),
        "500 variables, unused": fit(
            lambda n: "query(" + " ".join(f"$v{i}: Int" for i in range(n)) + ") { __typename }"
        ),
        "900 directives": fit(lambda n: "{ __typename " + "@include(if: true) " * n + "}"),
        "just under the overlap budget": "{ "
        + " ".join(f"...G{i}" for i in range(22))
        + " nope } "
        + " ".join(f"fragment G{i} on Query {{ __typename }}" for i in range(22)),
    }


async def main() -> None:
    schema = build_schema(Config())
    print(f"{'document':34} {'tokens':>6} {'bytes':>6} {'wall ms':>8} {'cpu ms':>7}  answer")
    for name, query in documents().items():
        wall = cpu = float("inf")
        for _ in range(7):
            text = "#" * next(_runs) + "\n" + query
            started, started_cpu = time.perf_counter(), time.process_time()
            result = await schema.execute(text)
            wall = min(wall, time.perf_counter() - started)
            cpu = min(cpu, time.process_time() - started_cpu)
        error = (result.errors or [None])[0]
        answer = "accepted" if error is None else error.message[:60]
        print(
            f"{name:34} {tokens(query):>6} {len(query):>6} {wall * 1000:>8.1f} {cpu * 1000:>7.1f}"
            f"  {answer}"
        )


if __name__ == "__main__":
    asyncio.run(main())
