"""Helpers for the GraphQL tests: a small client and what tests check in responses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx


class GraphQLClient:
    """Posts operations to ``/graphql`` and returns the decoded response (the last one is kept in
    ``response``). Every answer is a 200, except an outage: a 503 with ``Retry-After`` whose
    errors are all UNAVAILABLE."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.response: httpx.Response | None = None

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        self.response = response
        if response.status_code == 503:
            assert int(response.headers["retry-after"]) > 0
            assert set(codes(response.json())) == {"UNAVAILABLE"}, response.text
        else:
            assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """The response's data, asserting there were no errors."""
        result = await self(query, variables, **kw)
        assert "errors" not in result, result["errors"]
        return result["data"]


def client_of(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def codes(result: dict[str, Any]) -> list[str]:
    """The ``extensions.code`` of each GraphQL error of a response."""
    return [error["extensions"]["code"] for error in result.get("errors", ())]


async def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait until ``condition()`` holds (state another task changes), failing after ``seconds``."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{condition} did not hold within {seconds} s")
