"""Bearer-token authentication, the same for REST and GraphQL."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from domain.accounts.services import atoken_authenticate
from domain.errors import NotAuthenticated


def bearer_token(authorization: str | None) -> str | None:
    """The token in an ``Authorization: Bearer <token>`` header value, or ``None`` if absent.

    A header in another scheme, or a malformed one, is :class:`NotAuthenticated`: credentials
    that were sent but cannot be used must not silently count as anonymous.
    """
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Use an 'Authorization: Bearer <token>' header.")
    return token.strip()


async def authenticate_bearer(authorization: str | None) -> Any:
    """The user an ``Authorization`` header names: ``AnonymousUser`` when there is none,
    :class:`NotAuthenticated` when the token is unknown, revoked or expired."""
    token = bearer_token(authorization)
    if token is None:
        return AnonymousUser()
    user = await atoken_authenticate(token)
    if user is None:
        raise NotAuthenticated("The token is invalid, expired or revoked.")
    return user
