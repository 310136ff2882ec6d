"""ORM lookups the domain adds (registered by :class:`domain.core.apps.CoreConfig`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Lookup


class AnyOf(Lookup):
    """``field__any=[1, 2, 3]``: ``field = ANY(%s)`` with the list as *one* parameter.

    ``__in`` spells one placeholder per value, so its SQL changes with the number of values;
    this one does not, which lets :mod:`domain.compiled` compile a batch read once.
    """

    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [list(value)]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def register() -> None:
    from django.db.models import IntegerField
    from django.db.models.fields.related import ForeignObject

    IntegerField.register_lookup(AnyOf)
    ForeignObject.register_lookup(AnyOf)
