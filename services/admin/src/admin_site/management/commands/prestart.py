"""The once-per-deploy job: ``python -m admin_site prestart``.

Run by the ``migrate`` service before any replica starts, never by the replicas themselves (two
replicas migrating at once is how deploys break): apply migrations, collect static files for the
gateway, create the superuser named by the environment, purge expired idempotency records.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, collect static files, ensure the superuser, purge old idempotency keys."

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("collectstatic", interactive=False, clear=True, verbosity=0)
        self.stdout.write("Static files collected.")
        call_command("ensure_superuser", verbosity=verbosity)
        call_command("purge_idempotency_keys", verbosity=verbosity)
