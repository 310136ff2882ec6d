"""Create the superuser named by the environment, if it does not exist yet.

    DJANGO_SUPERUSER_USERNAME=admin DJANGO_SUPERUSER_PASSWORD=... [DJANGO_SUPERUSER_EMAIL=...] \\
        python -m django ensure_superuser

Unlike ``createsuperuser --noinput`` it succeeds when the user already exists (its password is
left alone), so the migration job can run it on every deploy. Without the variables it does
nothing.
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the superuser from DJANGO_SUPERUSER_USERNAME/PASSWORD/EMAIL if missing."

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip()
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "").strip()
        if not username:
            self.stdout.write("DJANGO_SUPERUSER_USERNAME is not set: no superuser created.")
            return
        users = get_user_model()._default_manager
        if users.filter(username=username).exists():
            self.stdout.write(f"Superuser {username!r} already exists.")
            return
        if not password:
            raise CommandError("Set DJANGO_SUPERUSER_PASSWORD to create the superuser.")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("DJANGO_SUPERUSER_PASSWORD: " + " ".join(exc.messages)) from None
        users.create_superuser(username=username, email=email, password=password)
        self.stdout.write(self.style.SUCCESS(f"Superuser {username!r} created."))
