"""``purge_idempotency_keys``: delete expired Idempotency-Key records, once or on a schedule.

The migration job runs it once per deploy; the ``scheduler`` service of docker-compose.yml runs it
with ``--every`` so that a stack that is not redeployed does not keep every key forever. A failed
round (PostgreSQL restarting, say) is logged and the next one runs on time; SIGTERM ends the
loop at once, so the container stops without waiting for its grace period. With ``--heartbeat``
the loop touches a file at least every ``HEARTBEAT_SECONDS``, which the container's health check
reads: a loop that hangs turns the container unhealthy.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from domain.core.idempotency import purge_expired

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than IDEMPOTENCY_KEY_TTL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="Keep running: purge now, then every SECONDS, until SIGTERM or SIGINT.",
        )
        parser.add_argument(
            "--heartbeat",
            type=Path,
            metavar="FILE",
            help=f"With --every: touch FILE at least every {HEARTBEAT_SECONDS} s.",
        )

    def handle(
        self, *args: Any, every: float | None = None, heartbeat: Path | None = None, **options: Any
    ) -> None:
        if every is None:
            self.stdout.write(f"Deleted {purge_expired()} expired idempotency records.")
            return
        if every <= 0:
            raise CommandError("--every needs a positive number of seconds.")
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Purging expired idempotency records every {every:g} s.")
        while not stop.is_set():
            self._purge_round()
            next_round = time.monotonic() + every
            while not stop.is_set() and (left := next_round - time.monotonic()) > 0:
                if heartbeat is not None:
                    heartbeat.touch()
                stop.wait(min(left, HEARTBEAT_SECONDS))

    def _purge_round(self) -> None:
        try:
            deleted = purge_expired()
        except Exception:
            logger.exception("purging expired idempotency records failed; retrying next round")
        else:
            self.stdout.write(f"Deleted {deleted} expired idempotency records.")
            self.stdout.flush()
        finally:
            # Rounds are far apart: hold no connection between them.
            connections.close_all()
