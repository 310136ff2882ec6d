"""API tokens: obtain (with a password), issue, authenticate, revoke.

The REST and GraphQL services accept the same tokens (``Authorization: Bearer <token>``) and both
authenticate through :func:`token_authenticate`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from domain.accounts import throttle
from domain.accounts.events import announce_access_changed
from domain.accounts.models import ApiToken, User
from domain.db import to_async
from domain.errors import InvalidInput, NotAuthenticated, NotFound
from domain.permissions import require_authenticated

TOKEN_PREFIX = "fdj_"  # noqa: S105 (a marker, not a secret)
# last_used_at is written at most this often per token, so reads do not all become writes.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token. ``token`` is the secret itself: shown once, never stored."""

    token: str
    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class TokenSecret:
    token: str
    prefix: str
    digest: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token_secret() -> TokenSecret:
    """A fresh random token with what is stored of it (its prefix and digest)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return TokenSecret(token=token, prefix=token[:12], digest=_digest(token))


def token_expiry(ttl: timedelta | None = None) -> datetime | None:
    """When a token issued now expires: after ``ttl``, by default ``API_TOKEN_TTL`` (``None``
    when that is 0: never)."""
    ttl = ttl if ttl is not None else timedelta(seconds=settings.API_TOKEN_TTL)
    return timezone.now() + ttl if ttl else None


def token_issue(*, user: Any, name: str = "", ttl: timedelta | None = None) -> IssuedToken:
    """Issue a token for ``user``; it expires after ``ttl`` (default ``API_TOKEN_TTL``)."""
    require_authenticated(user)
    secret = new_token_secret()
    record = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=secret.prefix,
        digest=secret.digest,
        expires_at=token_expiry(ttl),
    )
    return IssuedToken(
        token=secret.token,
        id=record.pk,
        name=record.name,
        created_at=record.created_at,
        expires_at=record.expires_at,
    )


def password_authenticate(
    *, username: str, password: str, client_ip: str, request: Any = None
) -> User:
    """The active user with this username and password: every password login (the admin's,
    both token endpoints) comes through here. ``request`` (the admin's) is handed on to
    Django's ``authenticate()``, whose backends and signals take one.

    The attempt is counted by the login throttle before the password is checked; past a limit
    the answer is :class:`RateLimited` whatever the password (:mod:`domain.accounts.throttle`).
    """
    if "\x00" in username or "\x00" in password:
        # As Django's own login form: PostgreSQL text cannot hold NUL, so no account matches.
        field = "username" if "\x00" in username else "password"
        raise InvalidInput.field(field, "Null characters are not allowed.")
    attempt = throttle.begin_attempt(username, client_ip)
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise NotAuthenticated("Invalid username or password.")
    attempt.succeeded()
    return user


def token_obtain(*, username: str, password: str, client_ip: str, name: str = "") -> IssuedToken:
    """Exchange a username and password for a new token (throttled: see
    :func:`password_authenticate`)."""
    user = password_authenticate(username=username, password=password, client_ip=client_ip)
    return token_issue(user=user, name=name)


def token_authenticate(token: str) -> User | None:
    """The active user holding ``token``, or ``None``. One indexed query; ``last_used_at`` is
    refreshed at most once a minute."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    record = ApiToken.objects.active().select_related("user").filter(digest=_digest(token)).first()
    if record is None:
        return None
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=record.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - _LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    return record.user


def token_revoke(*, user: Any, token: str) -> None:
    """Revoke ``token``, which must belong to ``user``. Revoking twice is not an error."""
    require_authenticated(user)
    revoked = tokens_revoke(tokens=ApiToken.objects.filter(user=user, digest=_digest(token)))
    if not revoked and not ApiToken.objects.filter(user=user, digest=_digest(token)).exists():
        raise NotFound("No such token.")


def tokens_revoke(*, tokens: Any) -> int:
    """Revoke the unrevoked tokens of the QuerySet ``tokens``; how many. Their users' open
    WebSockets are closed at once (:mod:`domain.accounts.events`): an ``update()`` sends no model
    signal, so the announcement is made here."""
    with transaction.atomic():
        pending = tokens.filter(revoked_at__isnull=True)
        users = set(pending.values_list("user_id", flat=True))
        count = pending.update(revoked_at=timezone.now())
        for user_id in users:
            announce_access_changed(user_id)
    return count


atoken_issue = to_async(token_issue)
atoken_obtain = to_async(token_obtain)
atoken_authenticate = to_async(token_authenticate)
atoken_revoke = to_async(token_revoke)
