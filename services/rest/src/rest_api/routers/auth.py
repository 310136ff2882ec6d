from __future__ import annotations

from fastapi import APIRouter, Request, status

from domain.accounts.services import IssuedToken, atoken_obtain, atoken_revoke
from domain.asgi.auth import bearer_token
from rest_api.deps import ClientIP, CurrentUser
from rest_api.problems import WRITE_ERRORS, problem_responses
from rest_api.schemas.auth import MeOut, TokenOut, TokenRequest

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
    summary="Get a token",
    responses=problem_responses(429, *WRITE_ERRORS),
)
async def obtain_token(credentials: TokenRequest, client_ip: ClientIP) -> IssuedToken:
    """Exchange a username and password for an API token. Failed attempts are limited per
    client address, per account at an address and per account: past a limit the answer is 429
    with `Retry-After`, whatever the password."""
    return await atoken_obtain(
        username=credentials.username,
        password=credentials.password.get_secret_value(),
        client_ip=client_ip,
        name=credentials.name,
    )


@router.delete(
    "/auth/token",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the token in use",
)
async def revoke_token(request: Request, user: CurrentUser) -> None:
    """Revoke the token that authenticated this request (sign out)."""
    token = bearer_token(request.headers.get("authorization"))
    assert token is not None  # CurrentUser authenticated with it
    await atoken_revoke(user=user, token=token)


@router.get("/me", response_model=MeOut, summary="The signed-in user")
async def me(user: CurrentUser) -> MeOut:
    return MeOut.model_validate(user)
