"""Fixtures for the REST service's tests: an in-process client (httpx over ASGI, no server),
tokens for the users of tests/conftest.py, and GETs that count their SQL statements.

Tests are async and the ORM refuses to run on the event loop, so test data is made in sync
fixtures or with ``await db.run(factory, ...)``, exactly as the service itself reaches the ORM.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from domain import db
from tests.rest.helpers import Headers, bearer


@pytest.fixture
def app() -> FastAPI:
    from rest_api.main import app

    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def user_auth(user: Any) -> Headers:
    return bearer(user)


@pytest.fixture
def other_auth(other_user: Any) -> Headers:
    return bearer(other_user)


@pytest.fixture
def editor_auth(editor: Any) -> Headers:
    return bearer(editor)


@pytest.fixture
def counted_get(
    client: httpx.AsyncClient,
) -> Callable[[str], Awaitable[tuple[httpx.Response, int]]]:
    """GET ``url`` and return the response with the number of SQL statements it ran (the
    request's own query log nests in this one)."""

    async def get(url: str) -> tuple[httpx.Response, int]:
        with db.track_queries() as log:
            response = await client.get(url)
        return response, log.count

    return get
