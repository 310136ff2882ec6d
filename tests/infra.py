"""The PostgreSQL and Redis the tests run against.

Taken from ``DATABASE_URL`` / ``REDIS_URL`` when set (for people who already run them), else
started with testcontainers from ``POSTGRES_IMAGE`` / ``REDIS_IMAGE`` (official images by default;
``make test`` points these at images built from the Debian mirror when no registry answers).
Ports are published on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# testcontainers reads these when imported. The containers' ports are published on 127.0.0.1
# and must be reached there: this machine has a /.dockerenv file, from which testcontainers would
# otherwise conclude it runs inside a container and aim at the bridge gateway instead.
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")

from testcontainers.community.postgres import PostgresContainer
from testcontainers.community.redis import RedisContainer
from testcontainers.core.container import DockerContainer

POSTGRES_IMAGE = os.environ.get("POSTGRES_IMAGE", "postgres:17")
REDIS_IMAGE = os.environ.get("REDIS_IMAGE", "redis:8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _loopback_only(container: DockerContainer, port: int, host_port: int | None = None) -> None:
    """Publish ``port`` on 127.0.0.1 (testcontainers would publish it on every interface)."""
    for key in [key for key in container.ports if str(key).split("/")[0] == str(port)]:
        del container.ports[key]
    container.ports[str(port)] = ("127.0.0.1", host_port)  # type: ignore[assignment]


@dataclass
class Backing:
    database_url: str
    redis_url: str


@contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL URL: ``DATABASE_URL``, or a fresh container's."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    container = PostgresContainer(
        POSTGRES_IMAGE,
        username="fastdjango",
        password="fastdjango",
        dbname="fastdjango",
        driver=None,
    )
    container.with_command("postgres -c fsync=off -c full_page_writes=off -c max_connections=200")
    _loopback_only(container, 5432)
    with container:
        yield container.get_connection_url()


@contextmanager
def redis(*, host_port: int | None = None) -> Iterator[RedisContainer]:
    """A Redis container; with ``host_port`` it keeps that port across a stop and start."""
    container = RedisContainer(REDIS_IMAGE)
    _loopback_only(container, 6379, host_port)
    with container:
        yield container


def redis_url(container: RedisContainer) -> str:
    return f"redis://127.0.0.1:{container.get_exposed_port(6379)}/0"


@contextmanager
def backing_services() -> Iterator[Backing]:
    with postgres() as database_url:
        if url := os.environ.get("REDIS_URL"):
            yield Backing(database_url=database_url, redis_url=url)
            return
        with redis() as container:
            yield Backing(database_url=database_url, redis_url=redis_url(container))


def wait_for_redis() -> None:
    """Until the default cache's Redis answers a PING (at most 20 s)."""
    from django.core.cache import caches

    deadline = time.monotonic() + 20
    backend = caches["default"]
    while time.monotonic() < deadline:
        try:
            backend.ping()
            return
        except Exception:
            time.sleep(0.1)
    raise AssertionError("Redis did not come back")
