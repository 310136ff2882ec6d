"""The GraphQL service's own settings, read once from the environment.

Everything else (database, Redis, page sizes, body size) comes from the domain's Django settings.
Production keeps the defaults except where ``docs/graphql.md`` says otherwise.

| Variable | Default | What it bounds |
| --- | --- | --- |
| ``GRAPHQL_MAX_DEPTH`` | 10 | nesting of selections in one operation |
| ``GRAPHQL_MAX_ALIASES`` | 15 | aliased fields in one document (each runs its resolver) |
| ``GRAPHQL_MAX_TOKENS`` | 2000 | tokens the parser reads before giving up |
| ``GRAPHQL_MAX_COST`` | 10000 | objects one operation may ask for (see ``limits``) |
| ``GRAPHQL_INTROSPECTION`` | ``DJANGO_DEBUG`` | ``__schema``/``__type`` queries |
| ``GRAPHIQL`` | ``DJANGO_DEBUG`` | the GraphiQL page on ``GET /graphql`` |
| ``GRAPHQL_MAX_SUBSCRIPTIONS`` | 20 | operations open at once on one WebSocket |
| ``GRAPHQL_WS_INIT_TIMEOUT`` | 10 | seconds a WebSocket may wait before ``connection_init`` |
| ``GRAPHQL_WS_MAX_CONNECTIONS`` | 1000 | WebSockets open at once on one process |
| ``GRAPHQL_WS_MAX_PER_ADDRESS`` | 50 | the same, from one client address |
| ``GRAPHQL_MAX_PROCESS_SUBSCRIPTIONS`` | 5000 | subscriptions open at once on one process |
| ``GRAPHQL_SUBSCRIPTION_BUFFER`` | 100 | events a subscriber may fall behind before it is closed |
| ``GRAPHQL_WS_RECHECK_INTERVAL`` | 30 | seconds between re-checks of signed-in WebSockets' tokens |
| ``GRAPHQL_APQ_TTL`` | 86400 | seconds a registered persisted query is kept (in Redis) |
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from domain.env import env_bool, env_float, env_int


@dataclass(frozen=True, kw_only=True)
class Config:
    """Limits and switches of one GraphQL app (tests build apps with other values)."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_cost: int = 10_000
    introspection: bool = False
    graphiql: bool = False
    # Unexpected errors reach clients as "Internal server error." unless DEBUG is on.
    mask_errors: bool = True
    max_subscriptions: int = 20
    ws_init_timeout: float = 10.0
    # WebSockets and subscriptions (docs/security.md, "Subscriptions and WebSockets").
    ws_max_connections: int = 1000
    ws_max_per_address: int = 50
    max_process_subscriptions: int = 5000
    subscription_buffer: int = 100
    ws_recheck_interval: float = 30.0
    apq_ttl: int = 86_400

    @classmethod
    def from_env(cls) -> Config:
        debug = bool(settings.DEBUG)
        return cls(
            max_depth=env_int("GRAPHQL_MAX_DEPTH", cls.max_depth, minimum=2),
            max_aliases=env_int("GRAPHQL_MAX_ALIASES", cls.max_aliases, minimum=0),
            max_tokens=env_int("GRAPHQL_MAX_TOKENS", cls.max_tokens, minimum=100),
            max_cost=env_int("GRAPHQL_MAX_COST", cls.max_cost, minimum=1),
            introspection=env_bool("GRAPHQL_INTROSPECTION", default=debug),
            graphiql=env_bool("GRAPHIQL", default=debug),
            mask_errors=not debug,
            max_subscriptions=env_int(
                "GRAPHQL_MAX_SUBSCRIPTIONS", cls.max_subscriptions, minimum=1
            ),
            ws_init_timeout=env_float("GRAPHQL_WS_INIT_TIMEOUT", cls.ws_init_timeout),
            ws_max_connections=env_int(
                "GRAPHQL_WS_MAX_CONNECTIONS", cls.ws_max_connections, minimum=1
            ),
            ws_max_per_address=env_int(
                "GRAPHQL_WS_MAX_PER_ADDRESS", cls.ws_max_per_address, minimum=1
            ),
            max_process_subscriptions=env_int(
                "GRAPHQL_MAX_PROCESS_SUBSCRIPTIONS", cls.max_process_subscriptions, minimum=1
            ),
            subscription_buffer=env_int(
                "GRAPHQL_SUBSCRIPTION_BUFFER", cls.subscription_buffer, minimum=1
            ),
            ws_recheck_interval=_positive(
                "GRAPHQL_WS_RECHECK_INTERVAL",
                env_float("GRAPHQL_WS_RECHECK_INTERVAL", cls.ws_recheck_interval),
            ),
            apq_ttl=env_int("GRAPHQL_APQ_TTL", cls.apq_ttl, minimum=60),
        )


def _positive(name: str, value: float) -> float:
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be more than 0, not {value}.")
    return value
