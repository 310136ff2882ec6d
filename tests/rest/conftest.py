"""Fixtures for the REST service's tests: an in-process client (httpx over ASGI, no server),
tokens for the users of tests/conftest.py, and the SQL count of the last request.

Tests are async and the ORM refuses to run on the event loop, so test data is made in sync
fixtures or with ``await db.run(factory, ...)``, exactly as the service itself reaches the ORM.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

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
def sql_count(caplog: pytest.LogCaptureFixture) -> Callable[[], int]:
    """Return the number of SQL statements the last request ran, from its access log line.

    ``db.track_queries`` around a request cannot see them: the middleware opens its own log,
    which is the one the database threads count into."""
    caplog.set_level(logging.INFO, logger="fastdjango.access")

    def last() -> int:
        lines = [record for record in caplog.records if record.name == "fastdjango.access"]
        return lines[-1].db_queries

    return last
