"""What every baseline shares: the product's cursor format, its ``next`` links and page size.

A cursor is base64url (unpadded) JSON ``[ordering, value, pk]``; the baselines list posts in the
product's default order, newest publication first, so ``value`` is an ISO 8601 datetime.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from urllib.parse import urlencode

ORDERING = "-published_at"
PAGE_SIZE = 20
LIST_PATH = "/api/v1/posts"


class BadCursor(ValueError):
    pass


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """``(published_at, id)`` of the row the page starts after."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ordering, value, pk = json.loads(raw)
        bound = datetime.fromisoformat(value)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadCursor(cursor) from exc
    if ordering != ORDERING or type(pk) is not int or bound.tzinfo is None:
        raise BadCursor(cursor)
    return bound, pk


def encode_cursor(published_at: datetime, pk: int) -> str:
    raw = json.dumps([ORDERING, published_at.isoformat(), pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def next_link(published_at: datetime, pk: int) -> str:
    """The product's ``next``: the list's path with the cursor of the page's last row."""
    return f"{LIST_PATH}?{urlencode([('cursor', encode_cursor(published_at, pk))])}"
