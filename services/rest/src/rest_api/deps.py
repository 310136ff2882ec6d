"""What routes need, as ``Annotated`` aliases: a route's signature lists its requirements."""

from __future__ import annotations

from typing import Annotated

from django.contrib.auth.models import AnonymousUser
from fastapi import Depends, Header, Path, Request, Security
from fastapi.security import HTTPBearer

from domain import inputs
from domain.accounts.models import User
from domain.asgi.auth import authenticate_bearer
from domain.errors import NotAuthenticated


class BearerViewer(HTTPBearer):
    """The API's bearer scheme, resolved to the viewer: the user the request's token names, or
    AnonymousUser without one. A token that is sent but unknown, expired or revoked is a 401 on
    every endpoint, public ones included.

    One dependency both documents the scheme in OpenAPI (and gives /api/docs its Authorize
    button) and authenticates: FastAPI solves every dependency of a route on every request, so a
    viewer dependency over the stock scheme cost a request two more solves."""

    async def __call__(self, request: Request) -> User | AnonymousUser:  # type: ignore[override]
        # The domain reads the header itself, and refuses malformed credentials instead of
        # ignoring them as HTTPBearer would.
        return await authenticate_bearer(request.headers.get("authorization"))


viewer_scheme = BearerViewer(
    # The stock scheme's name, which OpenAPI clients already know it by.
    scheme_name="HTTPBearer",
    auto_error=False,
    description="An API token from `POST /api/v1/auth/token`.",
)

Viewer = Annotated[User | AnonymousUser, Security(viewer_scheme)]


async def get_current_user(viewer: Viewer) -> User:
    if not isinstance(viewer, User):
        raise NotAuthenticated()
    return viewer


async def get_client_ip(request: Request) -> str:
    # uvicorn has already replaced it with X-Forwarded-For's when the peer is a trusted proxy.
    # `async` so that FastAPI calls it on the loop, not in its thread pool.
    return request.client.host if request.client else "unknown"


CurrentUser = Annotated[User, Depends(get_current_user)]
ClientIP = Annotated[str, Depends(get_client_ip)]
# Every path parameter is a slug, and one longer than any row's is refused before anything looks
# for it. (A NUL or bytes that are not UTF-8 never get this far: rest_api.inputs refuses the URL.)
Slug = Annotated[str, Path(max_length=inputs.SLUG_MAX_LENGTH)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retrying with the same key returns the first result instead of writing "
        "again (per user, for 24 hours).",
    ),
]
