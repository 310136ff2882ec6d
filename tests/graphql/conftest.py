"""Fixtures for the GraphQL service's tests: an app with its lifespan running (its comment feed
subscribed to the test Redis), an in-process GraphQL client (httpx over ASGI, no server) and
tokens for the users of tests/conftest.py.

Tests are async and the ORM refuses to run on the event loop, so test data is made in sync
fixtures or with ``await db.run(factory, ...)``, the way the service itself reaches the ORM.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from domain.accounts.services import token_issue
from tests.graphql.helpers import GraphQLClient, client_of


@pytest.fixture
def make_app() -> Callable[..., Starlette]:
    """Build an app from the environment's config with some values replaced."""
    from graphql_api.app import create_app
    from graphql_api.config import Config

    def make(**changes: Any) -> Starlette:
        return create_app(dataclasses.replace(Config.from_env(), **changes))

    return make


@pytest.fixture
async def app(make_app: Callable[..., Starlette]) -> AsyncIterator[Starlette]:
    app = make_app()
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
def user_token(user: Any) -> str:
    return token_issue(user=user).token


@pytest.fixture
def other_token(other_user: Any) -> str:
    return token_issue(user=other_user).token


@pytest.fixture
def editor_token(editor: Any) -> str:
    return token_issue(user=editor).token
