"""Start a service as its container would (a real server process) against the test databases."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from tests.infra import free_port


def service_env(**extra: str) -> dict[str, str]:
    """The environment of a service process that uses the test PostgreSQL database and Redis."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    url = (
        f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}"
        f"/{quote(db['NAME'])}"
    )
    return {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": url,
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "DJANGO_SECRET_KEY": "serving-test-secret-key-" + "x" * 40,
        "DJANGO_HTTPS": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (a local test URL)
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@dataclass
class RunningServer:
    url: str
    # Filled in once the server has stopped (SIGTERM at the end of the ``with`` block).
    output: str = ""
    returncode: int | None = None


@contextmanager
def server(command: Sequence[str], *, env: dict[str, str], probe: str) -> Iterator[RunningServer]:
    """Run ``command`` on a free port until the block ends; yield it once ``probe`` answers."""
    port = free_port()
    running = RunningServer(url=f"http://127.0.0.1:{port}")
    base = running.url
    process = subprocess.Popen(
        [sys.executable, *command] if command[0] == "-m" else list(command),
        env={
            **env,
            "PORT": str(port),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "UVICORN_HOST": "127.0.0.1",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        try:
            wait_until_up(base + probe)
        except AssertionError:
            process.kill()
            raise AssertionError(process.communicate(timeout=10)[0]) from None
        yield running
    finally:
        process.terminate()
        try:
            running.output = process.communicate(timeout=25)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            running.output = process.communicate()[0]
        running.returncode = process.returncode
