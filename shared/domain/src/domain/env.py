"""Typed readers for configuration that comes from the environment (12-factor).

Each reader names the variable in its error, so a bad deployment fails at start-up with a message
that says what to fix instead of a traceback from deep inside Django. An empty variable counts as
unset (``FOO=`` in a compose file or .env means "use the default").
"""

from __future__ import annotations

import os
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value is not None and value.strip() else None


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_required(name: str, why: str) -> str:
    value = (_raw(name) or "").strip()
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable: {why}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None
    if minimum is not None and not value >= minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {raw}.")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = _raw(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def postgres_from_env() -> dict[str, str]:
    """Return NAME/USER/PASSWORD/HOST/PORT from DATABASE_URL, or from the POSTGRES_* variables.

    DATABASE_URL wins when set: ``postgres://user:password@host:5432/name``.
    """
    url = (_raw("DATABASE_URL") or "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
            raise ImproperlyConfigured(
                f"DATABASE_URL must be a postgres:// URL; PostgreSQL is the only database "
                f"supported, not {parts.scheme!r}."
            )
        return {
            "NAME": unquote(parts.path.lstrip("/")) or "postgres",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "localhost",
            "PORT": str(parts.port or 5432),
        }
    return {
        "NAME": env_str("POSTGRES_DB", "fastdjango"),
        "USER": env_str("POSTGRES_USER", "fastdjango"),
        "PASSWORD": env_str("POSTGRES_PASSWORD"),
        "HOST": env_str("POSTGRES_HOST", "localhost"),
        "PORT": env_str("POSTGRES_PORT", "5432"),
    }


def redis_url_from_env() -> str:
    """``REDIS_URL`` (default ``redis://localhost:6379/0``) with ``REDIS_PASSWORD``, when set, as
    its password: the compose stack keeps the secret out of the URL it writes down."""
    url = env_str("REDIS_URL", "redis://localhost:6379/0")
    password = env_str("REDIS_PASSWORD")
    if not password:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    user = quote(unquote(parts.username or ""), safe="")
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def redacted(url: str) -> str:
    """``url`` without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
