"""Exactly-once writes under an ``Idempotency-Key``.

A client that retries a POST (after a timeout, say) with the same key must get the first result
back, not a second post. The key is recorded in the *same transaction* as the write it guards:

1. ``INSERT ... ON CONFLICT DO NOTHING`` claims the key. If another transaction holds the same key
   and has not finished, PostgreSQL makes this one wait for it.
2. ``SELECT ... FOR UPDATE`` reads the record. A result id means the write already happened: return
   it. No result means the claim is ours: do the write and store its id.
3. Commit (both, or neither: a failed write releases the key for the next retry).

A replay whose object has since been deleted is :class:`NotFound` (404, ``NOT_FOUND``), not a
second write: the request did happen, and what it made is gone. 404 rather than 410 because every
edge already maps ``NotFound`` once; the message says why.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.utils import timezone

from domain.core.models import IdempotencyRecord
from domain.errors import Conflict, InvalidInput, NotFound

MAX_KEY_LENGTH = 255


def fingerprint(payload: dict[str, Any]) -> str:
    """A stable digest of a request's input, to recognise a key reused for a different request."""
    canonical = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(
    *,
    user: Any,
    scope: str,
    key: str,
    payload: dict[str, Any],
    write: Callable[[], int],
    model: type[Model],
) -> tuple[int, bool]:
    """Run ``write`` (which returns the id of the ``model`` row it created) at most once per
    ``(user, scope, key)``.

    Returns ``(id, replayed)``; a replay of a row deleted since is :class:`NotFound`. Must be
    called inside ``transaction.atomic()``.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput.field(
            "Idempotency-Key", f"Must be 1 to {MAX_KEY_LENGTH} printable characters."
        )
    digest = fingerprint(payload)
    IdempotencyRecord.objects.bulk_create(
        [IdempotencyRecord(user=user, scope=scope, key=key, fingerprint=digest)],
        ignore_conflicts=True,
    )
    record = IdempotencyRecord.objects.select_for_update().get(user=user, scope=scope, key=key)
    expired = record.created_at < timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    if record.result_id is not None and not expired:
        if record.fingerprint != digest:
            raise Conflict("This Idempotency-Key was already used for a different request.")
        if not model._default_manager.filter(pk=record.result_id).exists():
            raise NotFound(
                f"The {model._meta.verbose_name} this Idempotency-Key created has been deleted."
            )
        return record.result_id, True
    record.result_id = write()
    record.fingerprint = digest
    record.created_at = timezone.now()
    record.save(update_fields=["result_id", "fingerprint", "created_at"])
    return record.result_id, False


def purge_expired() -> int:
    """Delete records older than ``IDEMPOTENCY_KEY_TTL``; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
