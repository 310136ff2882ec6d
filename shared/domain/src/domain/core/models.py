from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """Remembers a write made under an ``Idempotency-Key``, so that a retry replays it.

    The record is written in the same transaction as the write it guards; see
    :func:`domain.core.idempotency.run_once`.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    scope = models.CharField(max_length=50, help_text="The operation, e.g. post_create.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request's input.")
    result_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scope", "key"], name="idempotency_user_scope_key_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
