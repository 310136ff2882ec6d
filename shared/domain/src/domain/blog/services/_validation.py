from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models

from domain.errors import InvalidInput


class Unset:
    """Marks an argument the caller did not pass (``None`` may be a real value)."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = Unset()


def full_clean(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Run the model's validation; uniqueness is left to the database's constraints."""
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from None
