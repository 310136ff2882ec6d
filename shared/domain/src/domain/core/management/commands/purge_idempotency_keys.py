"""``purge_idempotency_keys``: delete expired Idempotency-Key records, once or on a schedule.

The migration job runs it once per deploy; the ``scheduler`` service of docker-compose.yml runs it
with ``--every`` so that a stack that is not redeployed does not keep every key forever. A failed
round (PostgreSQL restarting, say) is logged and the next one runs on time; SIGTERM ends the
loop at once, so the container stops without waiting for its grace period.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from domain.core.idempotency import purge_expired

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than IDEMPOTENCY_KEY_TTL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="Keep running: purge now, then every SECONDS, until SIGTERM or SIGINT.",
        )

    def handle(self, *args: Any, every: float | None = None, **options: Any) -> None:
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
            stop.wait(every)

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
