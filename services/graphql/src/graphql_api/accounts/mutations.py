"""API tokens: the same tokens as the REST service's, from the same domain services."""

from __future__ import annotations

import strawberry

from domain.accounts import services
from graphql_api.accounts.types import IssuedToken
from graphql_api.context import Info
from graphql_api.errors import Payload, payload


@strawberry.input(description="Credentials to exchange for a token.")
class ObtainTokenInput:
    username: str
    password: str
    name: str = strawberry.field(default="", description="What the token is for (a label).")


@strawberry.type(description="The token issued, or why not.")
class ObtainTokenPayload(Payload):
    token: IssuedToken | None = None


@strawberry.type(description="Whether the token is revoked now, or why not.")
class RevokeTokenPayload(Payload):
    revoked: bool = False


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(
        description="Exchange a username and password for a bearer token; at most once per "
        "operation. Failed attempts are limited per address and per account: past a limit the "
        "answer is RATE_LIMITED, whatever the password."
    )
    async def obtain_token(self, info: Info, input: ObtainTokenInput) -> ObtainTokenPayload:
        call = services.atoken_obtain(
            username=input.username,
            password=input.password,
            name=input.name,
            client_ip=info.context.client_ip,
        )
        return await payload(ObtainTokenPayload, call, "token")

    @strawberry.mutation(
        description="Revoke one of the viewer's tokens: `token`, or else the one this request "
        "is signed with. Revoking twice is not an error."
    )
    async def revoke_token(self, info: Info, token: str | None = None) -> RevokeTokenPayload:
        call = services.atoken_revoke(
            user=info.context.user, token=token or info.context.token or ""
        )
        return await payload(RevokeTokenPayload, call, "revoked", lambda _: True)
