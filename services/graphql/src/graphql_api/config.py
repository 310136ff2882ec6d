"""The GraphQL service's own settings, read once from the environment.

Everything else (database, Redis, page sizes, body size) comes from the domain's Django settings.
Production keeps the defaults except where ``docs/graphql.md`` says otherwise.

| Variable | Default | What it bounds |
| --- | --- | --- |
| ``GRAPHQL_MAX_DEPTH`` | 10 | nesting of selections in one operation |
| ``GRAPHQL_MAX_ALIASES`` | 15 | aliased fields in one document (each runs its resolver) |
| ``GRAPHQL_MAX_TOKENS`` | 2000 | tokens the parser reads before giving up |
| ``GRAPHQL_MAX_SELECTIONS`` | 2000 | fields a document selects once fragments are expanded |
| ``GRAPHQL_MAX_OVERLAPS`` | 500 | pairs of selections meeting in one place (one field twice) |
| ``GRAPHQL_MAX_COST`` | 10000 | objects one operation may ask for (see ``limits``) |
| ``GRAPHQL_INTROSPECTION`` | ``DJANGO_DEBUG`` | ``__schema``/``__type`` queries |
| ``GRAPHIQL`` | ``DJANGO_DEBUG`` | the GraphiQL page on ``GET /graphql`` |
| ``GRAPHQL_MAX_SUBSCRIPTIONS`` | 20 | operations open at once on one WebSocket |
| ``GRAPHQL_WS_INIT_TIMEOUT`` | 10 | seconds a WebSocket may wait before ``connection_init`` |
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from domain.env import env_bool, env_float, env_int


@dataclass(frozen=True, kw_only=True)
class Config:
    """Limits and switches of one GraphQL app (tests build apps with other values)."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_selections: int = 2000
    max_overlaps: int = 500
    max_cost: int = 10_000
    introspection: bool = False
    graphiql: bool = False
    # Unexpected errors reach clients as "Internal server error." unless DEBUG is on.
    mask_errors: bool = True
    max_subscriptions: int = 20
    ws_init_timeout: float = 10.0

    @classmethod
    def from_env(cls) -> Config:
        debug = bool(settings.DEBUG)
        return cls(
            max_depth=env_int("GRAPHQL_MAX_DEPTH", cls.max_depth, minimum=2),
            max_aliases=env_int("GRAPHQL_MAX_ALIASES", cls.max_aliases, minimum=0),
            max_tokens=env_int("GRAPHQL_MAX_TOKENS", cls.max_tokens, minimum=100),
            max_selections=env_int("GRAPHQL_MAX_SELECTIONS", cls.max_selections, minimum=1),
            max_overlaps=env_int("GRAPHQL_MAX_OVERLAPS", cls.max_overlaps, minimum=0),
            max_cost=env_int("GRAPHQL_MAX_COST", cls.max_cost, minimum=1),
            introspection=env_bool("GRAPHQL_INTROSPECTION", default=debug),
            graphiql=env_bool("GRAPHIQL", default=debug),
            mask_errors=not debug,
            max_subscriptions=env_int(
                "GRAPHQL_MAX_SUBSCRIPTIONS", cls.max_subscriptions, minimum=1
            ),
            ws_init_timeout=env_float("GRAPHQL_WS_INIT_TIMEOUT", cls.ws_init_timeout),
        )
