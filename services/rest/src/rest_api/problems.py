"""Every error as RFC 9457 problem details: the domain's errors, FastAPI's and Starlette's, and
whatever nothing else caught. This module is the only place a status code is chosen for an error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from domain.asgi.middleware import ASGIApp, Message, Receive, Scope, Send
from domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unavailable,
)
from domain.observability import request_id_var
from rest_api.schemas.problems import FieldError, Problem

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
_DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotAuthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    RateLimited: 429,
    Unavailable: 503,
}
# Codes for the errors FastAPI and Starlette raise themselves, in the domain's vocabulary.
_HTTP_CODE = {
    401: NotAuthenticated.code,
    403: PermissionDenied.code,
    404: NotFound.code,
    409: Conflict.code,
    413: "payload_too_large",
}
_REQUEST_PARTS = frozenset({"body", "query", "path", "header", "cookie"})


def problem_response(
    status: int,
    *,
    code: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    problem = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        request_id=request_id_var.get(),
        errors=errors,
    )
    return Response(
        problem.model_dump_json(exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


# DOMAIN ERRORS
# ------------------------------------------------------------------------------


def _domain_status(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in _DOMAIN_STATUS:
            return _DOMAIN_STATUS[cls]
    return 400


def _domain_headers(exc: DomainError) -> dict[str, str]:
    if isinstance(exc, NotAuthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, Unavailable):
        return {"Retry-After": str(exc.retry_after)}
    return {}


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    errors = None
    if isinstance(exc, InvalidInput):
        errors = [
            FieldError(field=None if name == "__all__" else name, message=message)
            for name, messages in exc.errors.items()
            for message in messages
        ]
    return problem_response(
        _domain_status(exc),
        code=exc.code,
        detail=exc.message,
        errors=errors,
        headers=_domain_headers(exc),
    )


# FRAMEWORK ERRORS
# ------------------------------------------------------------------------------


def _field(loc: Iterable[int | str]) -> str:
    parts = [str(part) for part in loc]
    if len(parts) > 1 and parts[0] in _REQUEST_PARTS:
        parts = parts[1:]
    return ".".join(parts)


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    for error in errors:
        if error["type"] == "json_invalid":
            reason = error.get("ctx", {}).get("error", "JSON decode error")
            return problem_response(
                400,
                code="malformed_json",
                detail=f"The request body is not valid JSON: {reason} "
                f"(at character {error['loc'][-1]}).",
            )
        if tuple(error["loc"]) == ("body",) and isinstance(error.get("input"), bytes):
            # FastAPI parses a body as JSON only when the Content-Type says it is JSON.
            return problem_response(
                415,
                code="unsupported_media_type",
                detail="Send the body as JSON, with 'Content-Type: application/json'.",
            )
    return problem_response(
        422,
        code=InvalidInput.code,
        detail="The input is not valid.",
        errors=[FieldError(field=_field(e["loc"]), message=e["msg"]) for e in errors],
    )


def _allowed_methods(request: Request) -> str:
    """Every method some route accepts at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status, detail, headers = exc.status_code, exc.detail, dict(exc.headers or {})
    if status == 404:
        detail = "Nothing is at this URL."
    elif status == 405:
        headers["Allow"] = _allowed_methods(request)
        detail = f"{request.method} is not allowed here; use {headers['Allow']}."
    code = _HTTP_CODE.get(status) or HTTPStatus(status).phrase.lower().replace(" ", "_")
    return problem_response(status, code=code, detail=detail, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)


# UNEXPECTED ERRORS
# ------------------------------------------------------------------------------


class UnhandledErrorMiddleware:
    """Answer an exception nothing handled with a generic 500 problem, and log it once.

    Not ``app.exception_handler(Exception)``: Starlette runs that handler outside every other
    middleware, after the request ID is gone, so neither the log line nor the response could
    carry it. Placed inside :class:`~domain.asgi.middleware.RequestContextMiddleware`, both do.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if started:
                raise  # too late for a response: the server aborts the connection
            response = problem_response(
                500,
                code="internal_error",
                detail="Something went wrong on our side; it has been logged.",
            )
            await response(scope, receive, send)


# OPENAPI
# ------------------------------------------------------------------------------

_DESCRIPTIONS = {
    400: "The body is not valid JSON (`malformed_json`).",
    401: "No valid token: it is missing where one is required, or it is unknown, expired or "
    "revoked (`not_authenticated`).",
    403: "Signed in, but not allowed to do this (`permission_denied`).",
    404: "No such resource, or one you may not see (`not_found`).",
    409: "The request conflicts with the current state (`conflict`).",
    413: "The body is larger than the limit (`payload_too_large`).",
    415: "The body is not sent as JSON (`unsupported_media_type`).",
    422: "Invalid input; `errors` names the failing fields (`invalid`).",
    429: "Too many requests from this address (a limit of the gateway), or too many failed "
    "logins; wait `Retry-After` seconds (`rate_limited`).",
    503: "A dependency (PostgreSQL) does not answer; see `Retry-After` (`unavailable`).",
}
PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"
WRITE_ERRORS = (400, 413, 415, 422)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, each a problem document."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        }
        for status in statuses
    }
