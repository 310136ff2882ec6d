"""Unique slugs that stay unique when many requests create the same title at once."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from django.db import IntegrityError, models, transaction
from django.utils.text import slugify

from domain.errors import Conflict

_ATTEMPTS = 8


def slug_base(text: str, *, max_length: int, fallback: str) -> str:
    """``text`` as a slug, cut to leave room for a ``-NNN`` suffix, or ``fallback`` if empty."""
    base = slugify(text)[: max_length - 8].strip("-")
    return base or fallback


def is_unique_violation(exc: IntegrityError, field: str) -> bool:
    cause = exc.__cause__
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", None) or ""
    return getattr(cause, "sqlstate", None) == "23505" and field in constraint


def save_with_unique_slug(
    instance: models.Model,
    base: str,
    *,
    save: Callable[[], None] | None = None,
) -> None:
    """Give ``instance`` the first free slug of ``base``, ``base-2``, ``base-3``… and save it.

    Each attempt is a savepoint: when a concurrent transaction commits the same slug first, the
    unique index rejects ours and the next candidate is tried; after a few collisions a random
    suffix ends the race. Must run inside ``transaction.atomic()``.
    """
    model = type(instance)
    pattern = rf"^{re.escape(base)}(-[0-9]+)?$"
    taken = set(model._default_manager.filter(slug__regex=pattern).values_list("slug", flat=True))
    save = save or instance.save
    for attempt in range(_ATTEMPTS):
        candidate = base
        number = 2
        while candidate in taken:
            candidate = f"{base}-{number}"
            number += 1
        if attempt == _ATTEMPTS - 1:
            candidate = f"{base}-{secrets.token_hex(3)}"
        instance.slug = candidate  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                save()
            return
        except IntegrityError as exc:
            if not is_unique_violation(exc, "slug"):
                raise
            taken.add(candidate)
    raise Conflict("Could not find a free slug; try again.")


def save_with_slug(instance: models.Model, *, save: Callable[[], None] | None = None) -> None:
    """Save ``instance`` with the slug it was given; a taken slug is a :class:`Conflict`."""
    try:
        with transaction.atomic():
            (save or instance.save)()
    except IntegrityError as exc:
        if is_unique_violation(exc, "slug"):
            raise Conflict(f"The slug {instance.slug!r} is already taken.") from exc  # type: ignore[attr-defined]
        raise
