"""Small clients for the end-to-end tests: a browser-like admin session and GraphQL over HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token on {page.url}"
    return match.group(1)


def admin_login(client: httpx.Client, username: str, password: str) -> None:
    """Sign in as a browser does: fetch the form, post it back with its CSRF token."""
    page = client.get("/admin/login/")
    response = client.post(
        "/admin/login/?next=/admin/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(page)},
        headers={"Referer": str(page.url)},
    )
    assert response.status_code == 302, response.text[:500]
    assert response.headers["location"] == "/admin/"


def admin_post(client: httpx.Client, path: str, data: dict[str, Any]) -> httpx.Response:
    """Submit an admin form at ``path`` (as a browser would, with the page's CSRF token)."""
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    return client.post(
        path,
        data={**data, "csrfmiddlewaretoken": csrf_token(page)},
        headers={"Referer": str(page.url)},
    )


def graphql(
    client: httpx.Client,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]
