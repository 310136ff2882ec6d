"""Keyset ("cursor") pagination, shared by REST and GraphQL.

A page ends with an opaque cursor naming the ordering and the last row's sort value and id; the next
page starts strictly after that row. Unlike OFFSET, pages stay stable while rows are added, and
every page costs the same whatever its depth. Sort keys may be nullable (NULLs sort last in both
directions) and the id breaks ties, so the order is total.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

import msgspec
from django.db.models import F, Model, Q, QuerySet

# Django's row comparisons (made for composite primary keys): ``(a, b) < (x, y)`` in SQL.
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from domain import inputs
from domain.errors import InvalidInput

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound=Model)

_cursor_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool
    kind: Literal["datetime", "str", "int"]
    nullable: bool = False

    def order_by(self) -> tuple[Any, Any]:
        expression = F(self.field)
        if self.descending:
            return expression.desc(nulls_last=self.nullable or None), F("id").desc()
        return expression.asc(nulls_last=self.nullable or None), F("id").asc()

    def after(self, value: Any, pk: int) -> Q | Any:
        """Rows strictly after ``(value, pk)`` in this order.

        Without NULLs this is the row comparison ``(field, id) < (value, pk)``, which PostgreSQL
        answers from a matching index by seeking to the cursor (an OR of comparisons makes it
        scan from the top of the list and filter, deeper pages costing more)."""
        if not self.nullable:
            compare = TupleLessThan if self.descending else TupleGreaterThan
            return compare(Tuple(F(self.field), F("id")), (value, pk))
        beyond = "lt" if self.descending else "gt"
        if value is None:
            return Q(**{f"{self.field}__isnull": True, f"id__{beyond}": pk})
        condition = Q(**{f"{self.field}__{beyond}": value}) | Q(
            **{self.field: value, f"id__{beyond}": pk}
        )
        if self.nullable:
            condition |= Q(**{f"{self.field}__isnull": True})
        return condition

    def encode(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    def decode(self, raw: Any) -> Any:
        if raw is None and self.nullable:
            return None
        if self.kind == "datetime" and isinstance(raw, str):
            return datetime.fromisoformat(raw)
        if self.kind == "str" and isinstance(raw, str):
            return raw
        if self.kind == "int" and isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        raise ValueError(raw)


class Page(msgspec.Struct, Generic[T], frozen=True, array_like=True):
    """One page of a list, and the cursor of the next page (``None`` on the last)."""

    items: tuple[T, ...]
    next_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def clamp_limit(limit: int | None) -> int:
    """The page size to use: the default when none was asked for, else ``limit`` if allowed
    (:func:`domain.inputs.page_size`, the one rule for every page and batch read)."""
    return inputs.page_size(limit)


def encode_cursor(ordering: str, value: Any, pk: int) -> str:
    # msgspec: every GraphQL edge has a cursor, and json.dumps costs several times more.
    raw = _cursor_encoder.encode([ordering, value, pk])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, ordering: str, key: SortKey) -> tuple[Any, int]:
    invalid = InvalidInput.field("cursor", "Not a cursor from this list; start again without it.")
    if len(cursor) > inputs.CURSOR_MAX_LENGTH:
        raise invalid
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, raw_value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if name != ordering or not isinstance(pk, int) or isinstance(pk, bool):
            raise invalid
        return key.decode(raw_value), pk
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid from None


def sort_key(orderings: dict[str, SortKey], ordering: str) -> SortKey:
    key = orderings.get(ordering)
    if key is None:
        raise InvalidInput.field("ordering", f"Must be one of: {', '.join(orderings)}.")
    return key


def keyset(queryset: QuerySet[M], key: SortKey, after: tuple[Any, int] | None, limit: int) -> Any:
    """``queryset`` in ``key``'s order, strictly after the row ``after`` (its sort value and id),
    with one row more than the page holds: its presence says that a next page exists."""
    queryset = queryset.order_by(*key.order_by())
    if after is not None:
        queryset = queryset.filter(key.after(*after))
    return queryset[: limit + 1]


def page_of(
    rows: Sequence[R],
    *,
    ordering: str,
    key: SortKey,
    limit: int,
    value_of: Callable[[R, str], Any] = getattr,
) -> tuple[Sequence[R], str | None]:
    """Split the rows of :func:`keyset` into the page and the next page's cursor (or ``None``).
    ``value_of(row, name)`` reads a column: ``getattr`` for instances, ``dict.get`` for rows."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    value = key.encode(value_of(last, key.field))
    return rows, encode_cursor(ordering, value, value_of(last, "id"))


def paginate(
    queryset: QuerySet[M],
    *,
    orderings: dict[str, SortKey],
    ordering: str,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[M], str | None]:
    """Return one page of ``queryset`` in ``ordering`` and the cursor of the next page, if any."""
    key = sort_key(orderings, ordering)
    after = decode_cursor(cursor, ordering, key) if cursor else None
    rows = list(keyset(queryset, key, after, limit))
    return page_of(rows, ordering=ordering, key=key, limit=limit)
