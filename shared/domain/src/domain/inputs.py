"""Bounds on what clients may send, defined once for every edge.

REST (Pydantic constraints and validators), GraphQL (its limits extension) and the admin (its
middleware) check their input against these before calling the domain, so each edge refuses bad
input in its own shape (422 problem, ``BAD_USER_INPUT``, 400). The domain applies the same rules
again where a bad value would otherwise reach PostgreSQL: :func:`page_size` in every paginated and
batch read, :data:`CURSOR_MAX_LENGTH` when a cursor is decoded, and :func:`storage_error` for a
driver error that escaped every edge.

Input names are the domain's (``q``, ``cursor``, ``limit``, ``post_slug``); the edges translate
their own (GraphQL's ``search``, ``after``, ``first``, ``postSlug``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.db import DataError

from domain.errors import InvalidInput

# Fixed by the database schema, not settings: a longer value cannot match any row.
SLUG_MAX_LENGTH: Final = 220  # the longest slug column (Post.slug; categories 120, tags 60)
USERNAME_MAX_LENGTH: Final = 150  # django.contrib.auth's User.username
# Fixed by the cursor format: the longest is a title ordering's (200 characters of at most 12 bytes
# each as JSON, as cursors made by ``json.dumps`` escaped them, base64-encoded), about 3.3 KB;
# anything longer was not made by this API.
CURSOR_MAX_LENGTH: Final = 4096

# Inputs, by domain name, that are bounded in length (search text by a setting, read when asked).
_SLUGS = ("slug", "new_slug", "post_slug", "category", "tag", "parent", "move_to")
_FIXED_LENGTHS: dict[str, int] = {
    **dict.fromkeys(_SLUGS, SLUG_MAX_LENGTH),
    "author": USERNAME_MAX_LENGTH,
    "username": USERNAME_MAX_LENGTH,
    "cursor": CURSOR_MAX_LENGTH,
}

# NUL cannot be stored in a PostgreSQL text value; a lone surrogate cannot be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NOT_TEXT = "Must be text without NUL characters or unpaired surrogates."


def search_max_length() -> int:
    return settings.SEARCH_MAX_LENGTH


def page_size_max() -> int:
    return settings.PAGE_SIZE_MAX


def page_size_default() -> int:
    return settings.PAGE_SIZE_DEFAULT


def max_length(name: str) -> int | None:
    """The longest value the input ``name`` may have, or ``None`` if only the domain bounds it
    (a title, a body: their services validate them)."""
    if name == "q":
        return search_max_length()
    return _FIXED_LENGTHS.get(name)


def page_size(limit: int | None) -> int:
    """The page size to use: the default when none was asked for, else ``limit`` if it lies in
    1..``PAGE_SIZE_MAX``; :class:`InvalidInput` otherwise (never silently clamped)."""
    if limit is None:
        return page_size_default()
    if not 1 <= limit <= page_size_max():
        raise InvalidInput.field("limit", f"Must be between 1 and {page_size_max()}.")
    return limit


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored or searched for, or ``None`` if it can."""
    return NOT_TEXT if _UNSTORABLE.search(value) else None


def length_problem(name: str, value: str) -> str | None:
    bound = max_length(name)
    if bound is not None and len(value) > bound:
        return f"At most {bound} characters."
    return None


def check_text(name: str, value: str) -> str:
    """``value`` if the input ``name`` may have it, else :class:`InvalidInput` naming it."""
    problem = text_problem(value) or length_problem(name, value)
    if problem:
        raise InvalidInput.field(name, problem)
    return value


def strings(value: Any) -> Iterator[str]:
    """Every string inside a decoded JSON-like value (dict keys included)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def has_unstorable_text(value: Any) -> bool:
    return any(_UNSTORABLE.search(text) for text in strings(value))


def decode_url_part(raw: bytes, *, plus_is_space: bool = False) -> str | None:
    """A percent-encoded path or query string as text, or ``None`` if it does not decode to UTF-8
    or holds a NUL. Servers replace undecodable bytes with U+FFFD, so this must read the raw
    bytes."""
    if plus_is_space:
        raw = raw.replace(b"+", b" ")
    try:
        text = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def storage_error(exc: BaseException) -> InvalidInput | None:
    """The refusal a database error stands for when it is about the input's text (a NUL or a
    lone surrogate that reached the driver), else ``None``. A last line of defence: the edges
    refuse such input first."""
    for error in _causes(exc):
        if isinstance(error, UnicodeEncodeError) and error.reason == "surrogates not allowed":
            return InvalidInput(NOT_TEXT)
        if isinstance(error, DataError) and "cannot contain NUL" in str(error):
            return InvalidInput(NOT_TEXT)
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
