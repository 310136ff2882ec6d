"""Django settings for the Fast Django domain, read from the environment.

Every service (admin, REST, GraphQL, the migration job) runs on these settings; the admin service
adds what only it needs in ``admin_site.settings``. ``.env.example`` at the repository root lists
every variable an operator sets, with its default; the compose file sets the rest (the database
and Redis addresses, each service's name and pool size).

https://docs.djangoproject.com/en/5.2/ref/settings/
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from domain.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_required,
    env_str,
    postgres_from_env,
    redis_url_from_env,
)
from domain.observability import logging_config

# GENERAL
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env_bool("DJANGO_DEBUG", default=False)

# Names this process in logs and in PostgreSQL's pg_stat_activity.application_name.
SERVICE_NAME = env_str("SERVICE_NAME", "fastdjango")

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
# Production refuses to start without one: a default would silently sign sessions with a known key.
SECRET_KEY = (
    (env_str("DJANGO_SECRET_KEY") or "django-insecure-development-only-key")
    if DEBUG
    else env_required(
        "DJANGO_SECRET_KEY",
        "it signs sessions and CSRF tokens and is required when DJANGO_DEBUG is off. "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'",
    )
)

# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["*"] if DEBUG else ["localhost", "127.0.0.1"])
# https://docs.djangoproject.com/en/5.2/ref/settings/#csrf-trusted-origins
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

# APPS
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.postgres",
    "domain.core",
    "domain.accounts",
    "domain.blog",
]

# https://docs.djangoproject.com/en/5.2/topics/auth/customizing/#substituting-a-custom-user-model
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# https://docs.djangoproject.com/en/5.2/topics/auth/passwords/#password-validation
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

# DATABASE
# ------------------------------------------------------------------------------
# PostgreSQL only, through domain.postgresql: Django's backend plus the checkouts, breaker and
# round-trip accounting of domain.db. Connections come from psycopg's pool (one per process): the
# admin's WSGI threads and the API services' database threads check a connection out for one unit
# of work and give it back at once, so a process needs as many connections as it has database
# threads, not one per request. Size it so that, summed over every process, it fits PostgreSQL's
# max_connections (docs/architecture.md works the numbers). DB_POOL=false falls back to
# persistent connections (e.g. behind PgBouncer). docs/security.md lists every limit.
# https://docs.djangoproject.com/en/5.2/ref/databases/#connection-pool
DB_POOL = env_bool("DB_POOL", default=True)
DB_POOL_MIN_SIZE = env_int("DB_POOL_MIN_SIZE", 1, minimum=0)
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 10, minimum=1)
# Database threads per API process; more threads than pooled connections would only queue on the
# pool, so the default is the pool's size.
DB_THREADS = env_int("DB_THREADS", DB_POOL_MAX_SIZE, minimum=1)
# Seconds a request waits for a free database thread before it is shed with a 503.
DB_QUEUE_TIMEOUT = env_float("DB_QUEUE_TIMEOUT", 1.0, minimum=0)
# How a connection taken from the pool is checked: "socket" (default) looks for input on its idle
# socket, which is how a restarted server's goodbye shows, and spends a round trip only then;
# "query" sends an empty statement every time (psycopg_pool's check); "none" trusts it.
DB_LIVENESS_CHECK = env_choice("DB_LIVENESS_CHECK", "socket", ("socket", "query", "none"))
# While PostgreSQL is down, requests fail at once and one of them tries a new connection this
# often (seconds); the first that succeeds ends the outage for the process.
DB_RETRY_INTERVAL = env_float("DB_RETRY_INTERVAL", 0.5, minimum=0.1)

# Seconds to wait for a new connection (libpq counts anything under 2 as 2).
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 5, minimum=2)
_db_options: dict[str, object] = {
    "connect_timeout": DB_CONNECT_TIMEOUT,
    "application_name": SERVICE_NAME,
}
# Prepared statements: psycopg prepares a statement on its DB_PREPARE_THRESHOLD-th run (5) on a
# connection, so PostgreSQL parses and plans the hot queries once per connection, not once per
# request. It prepares only what runs with server-side parameters: the hot reads compiled once per
# shape (domain.compiled) always do, and with DB_PREPARED_STATEMENTS (the default) every ORM query
# does too. A migration that changes a selected column makes such a statement fail ("cached plan
# must not change result type"): domain.compiled and domain.db drop the connection's prepared
# statements and run the statement (or the unit of work, if it changed nothing) again.
# A transaction-mode pooler that cannot keep prepared statements (PgBouncer before 1.21): set
# DB_PREPARE_THRESHOLD=-1 (and DB_PREPARED_STATEMENTS=false) behind one.
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", default=True)
if DB_PREPARED_STATEMENTS:
    _db_options["server_side_binding"] = True
DB_PREPARE_THRESHOLD = env_int("DB_PREPARE_THRESHOLD", 5, minimum=-1)
if DB_PREPARE_THRESHOLD >= 0:
    _db_options["prepare_threshold"] = DB_PREPARE_THRESHOLD
_statement_timeout_ms = env_int("DB_STATEMENT_TIMEOUT_MS", 30_000, minimum=0)
if _statement_timeout_ms:
    _db_options["options"] = f"-c statement_timeout={_statement_timeout_ms}"
if DB_POOL:
    _db_options["pool"] = {
        "min_size": min(DB_POOL_MIN_SIZE, DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        # Seconds a checkout waits for a free connection before it fails with a 503.
        "timeout": env_float("DB_POOL_TIMEOUT", 5.0, minimum=0.1),
        "name": SERVICE_NAME,
    }

DATABASES = {
    "default": {
        "ENGINE": "domain.postgresql",
        **postgres_from_env(),
        # The pool requires CONN_MAX_AGE = 0; without a pool, keep connections for a minute.
        "CONN_MAX_AGE": 0 if DB_POOL else env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        # Without the pool, Django checks a persistent connection once per request. With it,
        # domain.db checks each checkout (DB_LIVENESS_CHECK) instead of psycopg_pool.
        "CONN_HEALTH_CHECKS": not DB_POOL,
        "OPTIONS": _db_options,
    }
}

# Seconds a readiness answer is reused: a flood of health checks costs one database round trip
# per process per period, on a pooled connection.
READINESS_CACHE_SECONDS = env_float("READINESS_CACHE_SECONDS", 1.0, minimum=0)

# CACHE
# ------------------------------------------------------------------------------
# Redis through Django's cache framework, failing open: when Redis does not answer, reads and
# writes go to PostgreSQL and the failure is logged (domain.cache).
# https://docs.djangoproject.com/en/5.2/topics/cache/#redis
# REDIS_PASSWORD, when set, goes into the URL (the compose stack requires one: Redis holds the
# cache every service trusts and the login counters).
REDIS_URL = redis_url_from_env()
CACHE_TTL = env_int("CACHE_TTL", 300, minimum=1)
CACHES = {
    "default": {
        "BACKEND": "domain.cache.FailOpenRedisCache",
        "LOCATION": REDIS_URL,
        # Deployments sharing one Redis need distinct prefixes (the live comment feed's
        # channel name carries it too).
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "fastdjango"),
        "TIMEOUT": CACHE_TTL,
        "OPTIONS": {
            # Short timeouts: a slow Redis must not make a request slower than PostgreSQL would.
            "socket_connect_timeout": env_float("REDIS_CONNECT_TIMEOUT", 0.5),
            "socket_timeout": env_float("REDIS_TIMEOUT", 0.5),
        },
    }
}
# After a Redis failure, skip Redis for this many seconds instead of paying a timeout per request.
CACHE_RETRY_AFTER = env_float("CACHE_RETRY_AFTER", 2.0)

# SECURITY
# ------------------------------------------------------------------------------
# The services sit behind a TLS-terminating proxy (the gateway, or a load balancer in front of it)
# that sets X-Forwarded-Proto; the services themselves are never published.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# DJANGO_HTTPS says the public URL is https://: cookies are then sent over TLS only. Off for a
# plain-HTTP gateway on localhost, on by default everywhere else.
HTTPS = env_bool("DJANGO_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-ssl-redirect
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=HTTPS)
# Container health checks talk plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^admin/health/"]
# https://docs.djangoproject.com/en/5.2/ref/middleware/#http-strict-transport-security
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 3600 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# LOGINS
# ------------------------------------------------------------------------------
# One throttle for the admin login and both token endpoints (domain.accounts.throttle), counted
# in Redis, or per process while Redis is down. Within a window of LOGIN_FAILURE_WINDOW
# seconds, past any of these the answer is 429 whatever the password:
# failed logins to one account from one address,
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
# from one address to any accounts (IPv6: per /64),
LOGIN_MAX_FAILURES_PER_ADDRESS = env_int(
    "LOGIN_MAX_FAILURES_PER_ADDRESS", 4 * LOGIN_MAX_FAILURES, minimum=1
)
# to one account from all the addresses it has not signed in from before.
LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int(
    "LOGIN_MAX_FAILURES_PER_ACCOUNT", 4 * LOGIN_MAX_FAILURES, minimum=1
)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 900, minimum=1)
# Seconds an address where an account signed in stays exempt from that account's own limit, so
# strangers failing on a known username do not lock its owner out (0: no exemption).
LOGIN_KNOWN_ADDRESS_TTL = env_int("LOGIN_KNOWN_ADDRESS_TTL", 30 * 86_400, minimum=0)

# API
# ------------------------------------------------------------------------------
# Largest page a client may ask for, and the page size when it asks for none.
PAGE_SIZE_MAX = env_int("PAGE_SIZE_MAX", 100, minimum=1)
PAGE_SIZE_DEFAULT = env_int("PAGE_SIZE_DEFAULT", 20, minimum=1)
if PAGE_SIZE_DEFAULT > PAGE_SIZE_MAX:
    raise ImproperlyConfigured(
        f"PAGE_SIZE_DEFAULT ({PAGE_SIZE_DEFAULT}) cannot exceed PAGE_SIZE_MAX ({PAGE_SIZE_MAX})."
    )
# Longest full-text search a client may send (REST's `q`, GraphQL's `search`); see domain/inputs.py.
SEARCH_MAX_LENGTH = env_int("SEARCH_MAX_LENGTH", 200, minimum=1)
# Request bodies larger than this are refused with 413 by the API services.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1_048_576, minimum=1024)
# Lifetime of an API token, in seconds (0: tokens never expire).
API_TOKEN_TTL = env_int("API_TOKEN_TTL", 30 * 86_400, minimum=0)
# How long a used Idempotency-Key is remembered.
IDEMPOTENCY_KEY_TTL = env_int("IDEMPOTENCY_KEY_TTL", 86_400, minimum=60)

# LOGGING
# ------------------------------------------------------------------------------
# LOG_FORMAT=json writes one JSON object per line; text is for people reading a terminal.
LOGGING = logging_config(
    level=env_str("LOG_LEVEL", "INFO").upper(),
    json_lines=env_str("LOG_FORMAT", "text").lower() == "json",
)
