"""What routes need, as ``Annotated`` aliases: a route's signature lists its requirements."""

from __future__ import annotations

from typing import Annotated

from django.contrib.auth.models import AnonymousUser
from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.accounts.models import User
from domain.asgi.auth import authenticate_bearer
from domain.errors import NotAuthenticated

# Documents the scheme in OpenAPI (and gives /api/docs its Authorize button); the header itself is
# read by the domain, which also refuses malformed or unknown credentials instead of ignoring them.
bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An API token from `POST /api/v1/auth/token`.",
)


async def get_viewer(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> User | AnonymousUser:
    """The user the request's token names, or AnonymousUser without one. A token that is sent
    but unknown, expired or revoked is a 401 on every endpoint, public ones included."""
    return await authenticate_bearer(request.headers.get("authorization"))


async def get_current_user(viewer: Annotated[User | AnonymousUser, Depends(get_viewer)]) -> User:
    if not isinstance(viewer, User):
        raise NotAuthenticated()
    return viewer


async def get_client_ip(request: Request) -> str:
    # uvicorn has already replaced it with X-Forwarded-For's when the peer is a trusted proxy.
    # `async` so that FastAPI calls it on the loop, not in its thread pool.
    return request.client.host if request.client else "unknown"


Viewer = Annotated[User | AnonymousUser, Depends(get_viewer)]
CurrentUser = Annotated[User, Depends(get_current_user)]
ClientIP = Annotated[str, Depends(get_client_ip)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retrying with the same key returns the first result instead of writing "
        "again (per user, for 24 hours).",
    ),
]
