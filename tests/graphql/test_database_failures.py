"""What a GraphQL client sees when PostgreSQL fails or is saturated: a prompt UNAVAILABLE error,
never a wait for the pool's timeout; after a restart the next operation is served."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from django.db import connection

from domain import db
from domain.errors import Unavailable
from tests.dbfaults import behind_proxy
from tests.graphql.helpers import codes

pytestmark = pytest.mark.django_db(transaction=True)

PROMPT = 1.0
SEARCH = "query ($s: String) { posts(first: 5, filter: {search: $s}) { edges { node { slug } } } }"


def status_of(gql) -> int:
    return gql.response.status_code


async def uncached_search(gql) -> tuple[float, dict]:
    started = time.perf_counter()
    result = await gql(SEARCH, {"s": uuid.uuid4().hex})
    return time.perf_counter() - started, result


async def test_postgres_down_is_a_prompt_unavailable_and_back_is_served(gql, settings):
    with behind_proxy() as proxy:
        assert "errors" not in (await uncached_search(gql))[1]
        proxy.stop()
        for _ in range(3):
            elapsed, result = await uncached_search(gql)
            assert codes(result) == ["UNAVAILABLE"]
            assert status_of(gql) == 503
            assert elapsed < PROMPT, elapsed
        proxy.start()
        await asyncio.sleep(settings.DB_RETRY_INTERVAL + 0.3)
        elapsed, result = await uncached_search(gql)
        assert "errors" not in result, result
        assert status_of(gql) == 200
        assert elapsed < PROMPT, elapsed


async def test_a_restart_while_idle_costs_no_operation(gql):
    with behind_proxy(pool={"min_size": 4}) as proxy:
        assert "errors" not in (await uncached_search(gql))[1]
        await asyncio.sleep(0.5)
        proxy.restart()
        await asyncio.sleep(1)
        for _ in range(3):
            elapsed, result = await uncached_search(gql)
            assert "errors" not in result, result
            assert elapsed < PROMPT, elapsed


async def test_busy_database_threads_shed_the_operation(gql, settings):
    settings.DB_QUEUE_TIMEOUT = 0.2

    def sleep_in_postgres() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1.5)")

    busy = [asyncio.ensure_future(db.run(sleep_in_postgres)) for _ in range(settings.DB_THREADS)]
    await asyncio.sleep(0.2)
    elapsed, result = await uncached_search(gql)
    assert codes(result) == ["UNAVAILABLE"]
    assert status_of(gql) == 503
    assert elapsed < PROMPT, elapsed
    await asyncio.gather(*busy)


async def test_an_operation_that_served_something_stays_a_200(gql, monkeypatch):
    """Only a response that served nothing is an outage: data next to an UNAVAILABLE field is
    still a 200 (GraphQL's partial results)."""

    async def down(**kwargs: object) -> object:
        raise Unavailable()

    monkeypatch.setattr("domain.blog.selectors.apost_detail", down)
    result = await gql('{ tags { nodes { slug } } post(slug: "a") { slug } }')
    assert codes(result) == ["UNAVAILABLE"]
    assert result["data"] == {"tags": {"nodes": []}, "post": None}
    assert status_of(gql) == 200
    result = await gql('{ post(slug: "a") { slug } }')
    assert codes(result) == ["UNAVAILABLE"]
    assert result["data"] == {"post": None}
    assert status_of(gql) == 503
