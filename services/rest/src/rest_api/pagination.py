"""``next`` links of keyset-paginated lists (:mod:`domain.pagination` makes the cursors).

Links are relative and built from the request's own path and query, never from its Host header,
so they are right behind the gateway and cannot be pointed elsewhere by a client.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from fastapi import Request


def next_link(path: str, params: Iterable[tuple[str, str]], cursor: str | None) -> str | None:
    """``path`` with ``params`` and ``cursor`` (replacing any cursor in ``params``)."""
    if cursor is None:
        return None
    query = [(name, value) for name, value in params if name != "cursor"]
    return f"{path}?{urlencode([*query, ('cursor', cursor)])}"


def next_page(request: Request, cursor: str | None) -> str | None:
    """The link to the page after this request's, with the same filters: its own query string
    as sent, with the cursor replaced (cursors are URL-safe base64)."""
    if cursor is None:
        return None
    query = request.scope["query_string"].decode("latin-1")
    kept = [part for part in query.split("&") if part and not part.startswith("cursor=")]
    return f"{request.scope['path']}?{'&'.join([*kept, f'cursor={cursor}'])}"
