"""Tokens: obtained with a password (failures are throttled), sent as Bearer, revoked; /me.
A token that is sent but not valid is refused everywhere, public endpoints included."""

from __future__ import annotations

import httpx
import pytest

from domain.accounts.models import ApiToken
from domain.db import run
from tests.factories import PASSWORD
from tests.rest.helpers import bearer, problem

pytestmark = pytest.mark.django_db(transaction=True)


async def login(client, username="alice", password=PASSWORD, **extra):
    return await client.post(
        "/api/v1/auth/token", json={"username": username, "password": password, **extra}
    )


async def test_a_token_for_a_password(client, user):
    response = await login(client, name="laptop")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_at"]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json() == {
        "id": user.pk,
        "username": "alice",
        "display_name": "alice",
        "email": "",
        "is_staff": False,
    }
    assert (await run(ApiToken.objects.get)).name == "laptop"


async def test_a_wrong_password_is_unauthenticated(client, user):
    problem(await login(client, password="wrong"), 401, "not_authenticated")
    problem(await login(client, username="nobody"), 401, "not_authenticated")


async def test_failed_logins_are_limited(client, user, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        problem(await login(client, password="wrong"), 401, "not_authenticated")
    response = await login(client)
    problem(response, 429, "rate_limited")
    assert 0 < int(response.headers["retry-after"]) <= settings.LOGIN_FAILURE_WINDOW
    assert not await run(ApiToken.objects.exists)


def client_at(app, address: str) -> httpx.AsyncClient:
    """A client whose requests come from ``address`` (as uvicorn reports the gateway's
    X-Forwarded-For)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_one_account_is_limited_across_addresses(app, user, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 3
    for n in range(3):
        async with client_at(app, f"198.51.100.{n}") as client:
            problem(await login(client, password="wrong"), 401, "not_authenticated")
    async with client_at(app, "203.0.113.9") as client:
        response = await login(client)
    problem(response, 429, "rate_limited")
    assert 0 < int(response.headers["retry-after"]) <= settings.LOGIN_FAILURE_WINDOW


async def test_a_null_character_is_invalid_input_not_a_server_error(client, user):
    response = await login(client, username="al\x00ice")
    assert [e["field"] for e in problem(response, 422, "invalid")["errors"]] == ["username"]


async def test_a_success_clears_the_failures(client, user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    problem(await login(client, password="wrong"), 401, "not_authenticated")
    assert (await login(client)).status_code == 201
    problem(await login(client, password="wrong"), 401, "not_authenticated")
    assert (await login(client)).status_code == 201


async def test_login_needs_both_fields(client):
    response = await client.post("/api/v1/auth/token", json={"username": "alice"})
    assert [e["field"] for e in problem(response, 422, "invalid")["errors"]] == ["password"]


async def test_invalid_input_is_never_echoed(client):
    payload = {"username": "alice", "password": ["s3cret-value"]}
    response = await client.post("/api/v1/auth/token", json=payload)
    problem(response, 422, "invalid")
    assert "s3cret-value" not in response.text


async def test_revoke_the_token_in_use(client, user_auth):
    assert (await client.delete("/api/v1/auth/token", headers=user_auth)).status_code == 204
    problem(await client.get("/api/v1/me", headers=user_auth), 401, "not_authenticated")
    problem(await client.delete("/api/v1/auth/token", headers=user_auth), 401, "not_authenticated")


async def test_revoking_one_token_keeps_the_others(client, user):
    first, second = await run(lambda: (bearer(user), bearer(user)))
    await client.delete("/api/v1/auth/token", headers=first)
    assert (await client.get("/api/v1/me", headers=second)).status_code == 200


async def test_me_needs_a_token(client):
    response = await client.get("/api/v1/me")
    problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_editor_sees_staff_status(client, editor_auth):
    assert (await client.get("/api/v1/me", headers=editor_auth)).json()["is_staff"] is True


@pytest.mark.parametrize(
    "authorization",
    ["Bearer fdj_unknown", "Bearer nonsense", "Basic YWxpY2U6cHc=", "Bearer", "Token abc"],
)
async def test_bad_credentials_are_refused_even_on_public_endpoints(client, authorization):
    for url in ("/api/v1/posts", "/api/v1/tags", "/api/v1/categories"):
        response = await client.get(url, headers={"Authorization": authorization})
        problem(response, 401, "not_authenticated")


async def test_an_inactive_users_token_is_refused(client, user, user_auth):
    user.is_active = False
    await run(user.save)
    problem(await client.get("/api/v1/posts", headers=user_auth), 401, "not_authenticated")
