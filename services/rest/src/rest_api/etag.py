"""Conditional GETs: a strong ETag computed from the response body, and 304 Not Modified when
the client already holds that body.

The body is serialised before the response is built (Pydantic's Rust serialiser, the same one
FastAPI uses for response models), so the tag is exact whatever produced the data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header
from pydantic import BaseModel
from starlette.responses import Response

from rest_api.deps import Viewer

PUBLIC = "public, max-age=0, must-revalidate"
PRIVATE = "private, max-age=0, must-revalidate"

_HEADER_DOCS = {
    "ETag": {"description": "Strong validator of this body.", "schema": {"type": "string"}},
    "Cache-Control": {
        "description": "`public` for anonymous reads, `private` with a token.",
        "schema": {"type": "string"},
    },
}
CONDITIONAL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"headers": _HEADER_DOCS},
    304: {
        "description": "Not Modified: `If-None-Match` matched the current ETag; no body.",
        "headers": _HEADER_DOCS,
    },
}


def etag_of(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def is_current(if_none_match: str | None, etag: str) -> bool:
    """True when ``If-None-Match`` is ``*`` or names ``etag`` (the weak comparison RFC 9110
    asks for): the client's copy is the current one."""
    if not if_none_match:
        return False
    tags = (candidate.strip() for candidate in if_none_match.split(","))
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


@dataclass(frozen=True, slots=True)
class ConditionalGet:
    if_none_match: str | None
    private: bool

    def respond(self, model: BaseModel) -> Response:
        body = model.model_dump_json().encode()
        headers = {
            "ETag": etag_of(body),
            "Cache-Control": PRIVATE if self.private else PUBLIC,
            "Vary": "Authorization",
        }
        if is_current(self.if_none_match, headers["ETag"]):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)


async def conditional_get(
    viewer: Viewer,
    if_none_match: Annotated[
        str | None,
        Header(alias="If-None-Match", description="ETags you hold; 304 if one is current."),
    ] = None,
) -> ConditionalGet:
    return ConditionalGet(if_none_match=if_none_match, private=viewer.is_authenticated)


Conditional = Annotated[ConditionalGet, Depends(conditional_get)]
