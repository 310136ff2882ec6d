"""The accounts area's object types."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(description="The signed-in user, as they see themselves.")
class Viewer:
    id: strawberry.ID
    username: str
    display_name: str = strawberry.field(description="The full name, or else the username.")
    email: str
    is_staff: bool = strawberry.field(description="Whether they may use the admin.")


@strawberry.type(description="A new API token. `token` is shown this once and never again.")
class IssuedToken:
    token: str = strawberry.field(description="Send it as `Authorization: Bearer <token>`.")
    id: strawberry.ID
    name: str
    created_at: datetime
    expires_at: datetime | None = strawberry.field(description="Null if it never expires.")
