"""How refusals reach GraphQL clients: the one mapping from the domain's errors to GraphQL.

Two shapes, both carrying the same :class:`ErrorCode`:

* a mutation's *expected* refusals (bad input, a taken slug, no permission, ...) come back as
  ``errors: [UserError!]!`` on its payload, next to the object that was not written;
* everything else is a GraphQL error whose ``extensions.code`` says what happened: query-level
  refusals (``me`` while anonymous, a bad token), limits, parse and validation errors. An
  unexpected exception becomes ``Internal server error.`` outside DEBUG: no traceback, no SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors
from strawberry.utils.str_converters import to_camel_case, to_snake_case

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

logger = logging.getLogger(__name__)

T = TypeVar("T")
P = TypeVar("P", bound="Payload")


@strawberry.enum(description="Why a request, or part of it, was refused.")
class ErrorCode(Enum):
    BAD_USER_INPUT = strawberry.enum_value(
        "BAD_USER_INPUT", description="The input breaks a rule; `field` names the culprit."
    )
    UNAUTHENTICATED = strawberry.enum_value(
        "UNAUTHENTICATED", description="Sign in first, or the bearer token is invalid or revoked."
    )
    FORBIDDEN = strawberry.enum_value("FORBIDDEN", description="Signed in, but not allowed.")
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="No such object, or one the viewer may not see."
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="Valid, but clashes with the current state (a taken slug)."
    )
    RATE_LIMITED = strawberry.enum_value(
        "RATE_LIMITED", description="Too many attempts; `extensions.retryAfter` seconds to wait."
    )
    UNAVAILABLE = strawberry.enum_value(
        "UNAVAILABLE", description="The database does not answer; retry shortly."
    )
    QUERY_TOO_COMPLEX = strawberry.enum_value(
        "QUERY_TOO_COMPLEX", description="The operation asks for more objects than allowed."
    )
    GRAPHQL_PARSE_FAILED = strawberry.enum_value(
        "GRAPHQL_PARSE_FAILED", description="The document is not valid GraphQL (or too long)."
    )
    PERSISTED_QUERY_NOT_FOUND = strawberry.enum_value(
        "PERSISTED_QUERY_NOT_FOUND",
        description="No query is registered under this `persistedQuery` hash: send it again "
        "with the query.",
    )
    PERSISTED_QUERY_HASH_MISMATCH = strawberry.enum_value(
        "PERSISTED_QUERY_HASH_MISMATCH",
        description="The `persistedQuery` hash is not the SHA-256 of the query sent with it.",
    )
    GRAPHQL_VALIDATION_FAILED = strawberry.enum_value(
        "GRAPHQL_VALIDATION_FAILED",
        description="The document does not fit the schema or a limit (depth, aliases).",
    )
    EVENTS_DROPPED = strawberry.enum_value(
        "EVENTS_DROPPED",
        description="A subscription fell too far behind and missed events; it has ended. Read "
        "again what it followed, then subscribe again.",
    )
    INTERNAL_SERVER_ERROR = strawberry.enum_value(
        "INTERNAL_SERVER_ERROR", description="A fault of the server; it has been logged."
    )


# THE MAPPING
# ------------------------------------------------------------------------------

DOMAIN_CODES: dict[type[DomainError], ErrorCode] = {
    InvalidInput: ErrorCode.BAD_USER_INPUT,
    NotAuthenticated: ErrorCode.UNAUTHENTICATED,
    PermissionDenied: ErrorCode.FORBIDDEN,
    NotFound: ErrorCode.NOT_FOUND,
    Conflict: ErrorCode.CONFLICT,
    RateLimited: ErrorCode.RATE_LIMITED,
    Unavailable: ErrorCode.UNAVAILABLE,
}
# Refusals a mutation reports in its payload; the others (Unavailable) are GraphQL errors.
USER_ERRORS: tuple[type[DomainError], ...] = (
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
    NotFound,
    Conflict,
    RateLimited,
)
# Where the domain names an input differently from the schema.
_FIELD_NAMES = {"cursor": "after", "limit": "first", "ordering": "orderBy", "q": "search"}
_DOMAIN_NAMES = {schema: domain for domain, schema in _FIELD_NAMES.items()}
_MASKED_MESSAGE = "Internal server error."


def domain_name(name: str) -> str:
    """The domain's name for a schema argument or input field name (``postSlug``: ``post_slug``),
    the inverse of :func:`field_name`."""
    return _DOMAIN_NAMES.get(name) or to_snake_case(name)


def code_of(error: DomainError) -> ErrorCode:
    for kind in type(error).__mro__:
        if kind in DOMAIN_CODES:
            return DOMAIN_CODES[kind]
    return ErrorCode.BAD_USER_INPUT


def field_name(name: str) -> str | None:
    """The schema's name for a domain field name (``None`` for the input as a whole)."""
    if name == "__all__":
        return None
    return _FIELD_NAMES.get(name) or to_camel_case(name)


def extensions_of(error: DomainError) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": code_of(error).value}
    if isinstance(error, InvalidInput):
        extensions["fields"] = {
            field_name(name) or "__all__": messages for name, messages in error.errors.items()
        }
    if isinstance(error, RateLimited):
        extensions["retryAfter"] = error.retry_after
    return extensions


def graphql_error(error: DomainError, *, like: GraphQLError | None = None) -> GraphQLError:
    """``error`` as a GraphQL error (at the place of ``like``, when given)."""
    return GraphQLError(
        error.message,
        nodes=like.nodes if like else None,
        source=like.source if like else None,
        positions=like.positions if like else None,
        path=like.path if like else None,
        original_error=error,
        extensions=extensions_of(error),
    )


# PAYLOAD ERRORS
# ------------------------------------------------------------------------------


@strawberry.type(description="Why a mutation did not happen, as data the client can show.")
class UserError:
    field: str | None = strawberry.field(
        description="The input field at fault (camelCase), or null for the input as a whole."
    )
    message: str = strawberry.field(description="Human-readable, safe to show to the user.")
    code: ErrorCode = strawberry.field(description="Stable, machine-readable reason.")


def user_errors(error: DomainError) -> list[UserError]:
    code = code_of(error)
    if isinstance(error, InvalidInput):
        return [
            UserError(field=field_name(name), message=message, code=code)
            for name, messages in error.errors.items()
            for message in messages
        ]
    return [UserError(field=None, message=error.message, code=code)]


@strawberry.type(
    description="The result of a mutation: `errors` is empty when it happened, and lists the "
    "reasons when it did not (the object is then null)."
)
class Payload:
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the mutation was refused; empty on success."
    )


async def payload(
    kind: type[P], call: Awaitable[T], field: str, present: Callable[[T], Any] | None = None
) -> P:
    """Await a domain call and wrap it in ``kind``: its result (or ``present(result)``) in
    ``field``, or the refusal in ``errors``. Unexpected errors and Unavailable propagate."""
    try:
        result = await call
    except USER_ERRORS as error:
        return kind(errors=user_errors(error))
    return kind(**{field: present(result) if present else result})


async def or_none(call: Awaitable[T]) -> T | None:
    """The result of a domain read, or ``None`` when it is NotFound (a nullable field)."""
    try:
        return await call
    except NotFound:
        return None


# GRAPHQL ERRORS
# ------------------------------------------------------------------------------


def _recode(error: GraphQLError, *, code: ErrorCode, mask: bool = False) -> GraphQLError:
    """``error`` with ``code``; masked, it keeps only its place (not its message or extensions,
    which an arbitrary exception may fill)."""
    return GraphQLError(
        _MASKED_MESSAGE if mask else error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**({} if mask else error.extensions or {}), "code": code.value},
    )


def is_outage(response: Mapping[str, Any]) -> bool:
    """Whether an HTTP response body served nothing because the database did not answer: every
    error is UNAVAILABLE and no top-level field has data. Such a response is a 503 with
    ``Retry-After`` like REST's, so that gateways, load balancers and retrying clients see the
    outage that a 200 would hide."""
    errors = response.get("errors")
    if not errors:
        return False
    if any(
        (error.get("extensions") or {}).get("code") != ErrorCode.UNAVAILABLE.value
        for error in errors
    ):
        return False
    data = response.get("data")
    return data is None or all(value is None for value in data.values())


def is_unexpected(error: GraphQLError) -> bool:
    """An exception nobody meant a client to see (a bug, a driver error)."""
    original = error.original_error
    return original is not None and not isinstance(original, DomainError | GraphQLError)


def log_unexpected(errors: Iterable[GraphQLError]) -> None:
    for error in errors:
        if is_unexpected(error):
            logger.error("unexpected error at %s", error.path, exc_info=error.original_error)


class ErrorPolicy(MaskErrors):
    """Give every error an ``extensions.code``; mask unexpected ones when ``mask`` is on.

    MaskErrors hands each error for which ``should_mask_error`` holds to ``anonymise_error``;
    here that is every error, and ``anonymise_error`` presents it.
    """

    def __init__(self, *, mask: bool) -> None:
        super().__init__(should_mask_error=lambda _: True, error_message=_MASKED_MESSAGE)
        self.mask = mask

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            return graphql_error(original, like=error)
        if error.extensions and "code" in error.extensions:
            return error
        if is_unexpected(error):
            return _recode(error, code=ErrorCode.INTERNAL_SERVER_ERROR, mask=self.mask)
        if isinstance(error, GraphQLSyntaxError):
            return _recode(error, code=ErrorCode.GRAPHQL_PARSE_FAILED)
        if error.path:
            # An argument that could not be coerced once variables were known.
            return _recode(error, code=ErrorCode.BAD_USER_INPUT)
        return _recode(error, code=ErrorCode.GRAPHQL_VALIDATION_FAILED)
