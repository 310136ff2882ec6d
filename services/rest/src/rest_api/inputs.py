"""Input the schemas cannot see: the raw path and query string.

The rules are the domain's (:mod:`domain.inputs`); bodies and query parameters are checked by the
Pydantic schemas (``rest_api.schemas.common``), whatever is left here.
"""

from __future__ import annotations

from domain import inputs
from domain.asgi.middleware import ASGIApp, Receive, Scope, Send
from domain.errors import InvalidInput
from rest_api.problems import problem_response
from rest_api.schemas.problems import FieldError


class UndecodableInputMiddleware:
    """Answer 422 to a request whose path or query string is not text: percent-escapes that are
    not UTF-8, or a NUL. Servers hand undecodable bytes on as U+FFFD, and PostgreSQL refuses a NUL
    (a 500 if it got that far), so this reads the raw bytes before anything decodes them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = _undecodable(scope)
            if field is not None:
                response = problem_response(
                    422,
                    code=InvalidInput.code,
                    detail="The URL is not valid: it must be percent-encoded UTF-8 text.",
                    errors=[FieldError(field=field, message=inputs.NOT_TEXT)],
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _undecodable(scope: Scope) -> str | None:
    """``"path"``, or the name of the first query parameter, that does not decode; else None."""
    # Without a query: some servers (and test transports) include it in raw_path.
    raw_path = (scope.get("raw_path") or scope["path"].encode()).partition(b"?")[0]
    query = scope.get("query_string", b"")
    if _plainly_text(raw_path) and _plainly_text(query):
        return None  # the common case, decided without decoding: every request passes here
    if inputs.decode_url_part(raw_path) is None:
        return "path"
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        decoded_name = inputs.decode_url_part(name, plus_is_space=True)
        if decoded_name is None:
            return "query"
        if inputs.decode_url_part(value, plus_is_space=True) is None:
            return decoded_name
    return None


def _plainly_text(raw: bytes) -> bool:
    """ASCII with no escapes and no NUL: text as it is."""
    return raw.isascii() and b"%" not in raw and b"\x00" not in raw
