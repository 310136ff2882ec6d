"""Settings come from the environment; production refuses to start without a secret key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

BASE_ENV = {
    "PATH": os.environ["PATH"],
    "DJANGO_SETTINGS_MODULE": "domain.settings",
}


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "db = settings.DATABASES['default']; "
        "print(settings.DEBUG, db['HOST'], db['PORT'], db['NAME'], db['USER'], "
        "settings.CACHES['default']['LOCATION'], settings.SESSION_COOKIE_SECURE, "
        "settings.SECURE_SSL_REDIRECT, 'pool' in db['OPTIONS'], db['CONN_MAX_AGE'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = load_settings()
    assert result.returncode != 0
    assert "Set the DJANGO_SECRET_KEY environment variable" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_debug_runs_without_a_secret_key():
    result = load_settings(DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True ")


def test_production_settings_from_the_environment():
    result = load_settings(
        DJANGO_SECRET_KEY="s" * 50,
        DATABASE_URL="postgres://app:p%40ss@db.internal:6543/blog",
        REDIS_URL="redis://cache:6379/2",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False", "db.internal", "6543", "blog", "app", "redis://cache:6379/2",
        "True", "True", "True", "0",
    ]  # fmt: skip


def test_plain_http_deployments_and_persistent_connections():
    result = load_settings(
        DJANGO_SECRET_KEY="s" * 50, DJANGO_HTTPS="false", DB_POOL="false", POSTGRES_HOST="pg"
    )
    assert result.returncode == 0, result.stderr
    values = result.stdout.split()
    assert values[1] == "pg"
    assert values[6:] == ["False", "False", "False", "60"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://x@y/z"}, "PostgreSQL is the only database"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be true or false"),
        ({"DB_POOL_MAX_SIZE": "0"}, "DB_POOL_MAX_SIZE must be at least 1"),
        ({"CACHE_TTL": "soon"}, "CACHE_TTL must be an integer"),
        ({"PAGE_SIZE_DEFAULT": "200"}, "PAGE_SIZE_DEFAULT (200) cannot exceed PAGE_SIZE_MAX"),
    ],
)
def test_bad_values_fail_with_a_message_naming_the_variable(env, message):
    result = load_settings(DJANGO_SECRET_KEY="s" * 50, **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_admin_passes_djangos_deploy_checks_when_configured_for_https():
    result = subprocess.run(
        [sys.executable, "-m", "admin_site", "check", "--deploy", "--fail-level", "WARNING"],
        env={
            **BASE_ENV,
            "DJANGO_SETTINGS_MODULE": "admin_site.settings",
            "DJANGO_SECRET_KEY": "k3y-" + "x9Y!" * 15,
            "DJANGO_ALLOWED_HOSTS": "blog.example.com",
            "DJANGO_SECURE_HSTS_SECONDS": "31536000",
            "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
            "DJANGO_SECURE_HSTS_PRELOAD": "true",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
