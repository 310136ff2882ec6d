from typing import Any

from django.core.management.base import BaseCommand

from domain.core.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than IDEMPOTENCY_KEY_TTL."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Deleted {purge_expired()} expired idempotency records.")
