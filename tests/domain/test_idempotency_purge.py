"""Expired Idempotency-Key records are purged on a schedule, by the command the ``scheduler``
service of docker-compose.yml runs, not only at deploy time. Run as that container runs it: a
process of its own, stopped with SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from domain.core.models import IdempotencyRecord
from tests.infra import free_port
from tests.serving import service_env

pytestmark = pytest.mark.django_db(transaction=True)


def record(user: Any, key: str, *, expired: bool) -> IdempotencyRecord:
    made = IdempotencyRecord.objects.create(
        user=user, scope="post_create", key=key, fingerprint="f"
    )
    if expired:
        age = timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL + 60)
        IdempotencyRecord.objects.filter(pk=made.pk).update(created_at=timezone.now() - age)
    return made


def eventually(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{condition} did not hold within {seconds} s")


@contextmanager
def scheduler(every: str, *options: str, **env: str) -> Iterator[subprocess.Popen[str]]:
    command = ["-m", "admin_site", "purge_idempotency_keys", "--every", every, *options]
    process = subprocess.Popen(
        [sys.executable, *command],
        env=service_env(DJANGO_SETTINGS_MODULE="admin_site.settings", DB_POOL="false", **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, as ``docker stop`` sends; the loop must end at once and cleanly."""
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=10)[0]
    assert process.returncode == 0, output
    return output


def test_the_command_alone_purges_once(user):
    old = record(user, "old", expired=True)
    fresh = record(user, "fresh", expired=False)
    call_command("purge_idempotency_keys")
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert old.pk != fresh.pk


def test_with_every_it_keeps_purging_until_sigterm(user, tmp_path):
    fresh = record(user, "fresh", expired=False)
    record(user, "old-1", expired=True)
    heartbeat = tmp_path / "alive"
    with scheduler("0.2", "--heartbeat", str(heartbeat)) as process:
        eventually(lambda: not IdempotencyRecord.objects.filter(key="old-1").exists())
        record(user, "old-2", expired=True)
        eventually(lambda: not IdempotencyRecord.objects.filter(key="old-2").exists())
        assert process.poll() is None, "still running"
        assert time.time() - heartbeat.stat().st_mtime < 5, "the health check's heartbeat"
        output = stop(process)
    assert IdempotencyRecord.objects.filter(pk=fresh.pk).exists()
    assert "every 0.2 s" in output
    assert output.count("Deleted 1 expired idempotency records.") == 2


def test_a_round_that_fails_is_logged_and_the_next_one_still_runs():
    unreachable = f"postgres://nobody:nothing@127.0.0.1:{free_port()}/none"
    with scheduler("0.2", DATABASE_URL=unreachable, LOG_FORMAT="text") as process:
        time.sleep(1.5)
        assert process.poll() is None, "a database error does not end the scheduler"
        output = stop(process)
    assert output.count("purging expired idempotency records failed") >= 2, output
