"""Conditional GETs: reads carry a strong ETag computed from their body, and 304 Not Modified
answers a client that already holds it.

The HTTP caching itself (ETags, 304s, ``Cache-Control`` and the shared cache of anonymous reads)
is :class:`domain.asgi.http_cache.HttpCacheMiddleware`; a route only says who may share its body
(:func:`readable_by`). This module holds that and the OpenAPI description of it.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from domain.asgi.http_cache import SCOPE_HEADER, etag_of, is_current
from rest_api.problems import problem_responses

__all__ = ["conditional", "etag_of", "is_current", "readable_by"]

_HEADER_DOCS = {
    "ETag": {"description": "Strong validator of this body.", "schema": {"type": "string"}},
    "Cache-Control": {
        "description": "`public` for anonymous reads, `private` with a token.",
        "schema": {"type": "string"},
    },
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETags you hold; 304 if one is current.",
    "schema": {"type": "string"},
}


def conditional(*error_statuses: int) -> dict[str, Any]:
    """The route decorator's ``responses`` and ``openapi_extra`` for a conditional read that can
    also fail with ``error_statuses``: ``@router.get(path, **conditional(404))``."""
    return {
        "responses": {
            200: {"headers": _HEADER_DOCS},
            304: {
                "description": "Not Modified: `If-None-Match` matched the current ETag; no body.",
                "headers": _HEADER_DOCS,
            },
            **problem_responses(*error_statuses),
        },
        "openapi_extra": {"parameters": [_IF_NONE_MATCH]},
    }


def readable_by(viewer: Any, body: bytes) -> Response:
    """A JSON read for ``viewer``: shared (``public``) when anonymous, ``private`` with a token."""
    scope = b"private" if viewer.is_authenticated else b"public"
    response = Response(body, media_type="application/json")
    response.raw_headers.append((SCOPE_HEADER, scope))
    return response
