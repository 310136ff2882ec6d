"""The domain's error tree.

Services raise these; each edge maps them once (REST to problem details, GraphQL to typed errors),
so a rule never has two renderings and nothing internal leaks to a client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """Base class: a request the domain refuses, with a stable machine-readable ``code``."""

    code = "error"
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    default_message = "Authentication credentials were missing or invalid."


class PermissionDenied(DomainError):
    code = "permission_denied"
    default_message = "You do not have permission to do this."


class NotFound(DomainError):
    """Also raised for objects the caller may not see: a draft of someone else does not exist."""

    code = "not_found"
    default_message = "Not found."


class Conflict(DomainError):
    """A valid request that clashes with the current state (a taken slug, a non-empty parent)."""

    code = "conflict"
    default_message = "The request conflicts with the current state."


class RateLimited(DomainError):
    code = "rate_limited"
    default_message = "Too many attempts; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency the request needs (PostgreSQL) does not answer."""

    code = "unavailable"
    default_message = "The service is temporarily unavailable; try again shortly."
    #: Seconds a client should wait before retrying, as every API tells it (``Retry-After``).
    retry_after = 5


class InvalidInput(DomainError):
    """Input that breaks a business rule, with the failing fields.

    ``errors`` maps a field name (or ``"__all__"``) to its messages.
    """

    code = "invalid"
    default_message = "The input is not valid."

    def __init__(
        self, errors: Mapping[str, Sequence[str]] | str, message: str | None = None
    ) -> None:
        if isinstance(errors, str):
            errors = {"__all__": [errors]}
        self.errors: dict[str, list[str]] = {field: list(msgs) for field, msgs in errors.items()}
        first = next(iter(self.errors.values()), [None])[0]
        super().__init__(message or first or self.default_message)

    @classmethod
    def field(cls, name: str, message: str) -> InvalidInput:
        return cls({name: [message]})
