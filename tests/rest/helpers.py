"""Assertions and small helpers shared by the REST tests."""

from __future__ import annotations

from typing import Any

import httpx

from rest_api.schemas.problems import Problem

Headers = dict[str, str]


def bearer(user: Any) -> Headers:
    """Headers that authenticate as ``user`` with a new token (sync: not on the event loop)."""
    from domain.accounts.services import token_issue

    return {"Authorization": f"Bearer {token_issue(user=user).token}"}


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert that ``response`` is a problem document with this status and code; return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    Problem.model_validate(body)
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def fields(response: httpx.Response) -> set[str | None]:
    """The failing fields of a 422 problem."""
    return {error["field"] for error in problem(response, 422, "invalid")["errors"]}
