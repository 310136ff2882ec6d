"""The accounts area's root query fields."""

from __future__ import annotations

import strawberry

from domain.permissions import require_authenticated
from graphql_api.accounts.types import Viewer
from graphql_api.context import Info


@strawberry.type
class AccountsQuery:
    @strawberry.field(
        description="The signed-in user; null with an UNAUTHENTICATED error when there is none."
    )
    async def me(self, info: Info) -> Viewer | None:
        require_authenticated(info.context.user)
        return info.context.user
