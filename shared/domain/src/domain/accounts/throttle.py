"""Limits on failed logins, counted in the cache (shared by every replica).

Two counters: per (username, client address), so one user cannot be guessed at from one place,
and per client address, so one place cannot try many usernames. A success clears the first.
When Redis is down the counters fail open (logins still work, unthrottled) and the gateway's own
rate limit on the token endpoint is what remains.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

from domain.errors import RateLimited

# One client address may fail this many times more often than one username from it.
_ADDRESS_FACTOR = 4


def _keys(username: str, client_ip: str) -> tuple[str, str]:
    user_digest = hashlib.blake2b(username.casefold().encode(), digest_size=12).hexdigest()
    return f"login-failures:{client_ip}:{user_digest}", f"login-failures:{client_ip}"


def check(username: str, client_ip: str) -> None:
    """Raise :class:`RateLimited` if this username or address has failed too often lately."""
    user_key, address_key = _keys(username, client_ip)
    counts = cache.get_many([user_key, address_key])
    limit = settings.LOGIN_MAX_FAILURES
    if counts.get(user_key, 0) >= limit or counts.get(address_key, 0) >= limit * _ADDRESS_FACTOR:
        raise RateLimited(
            "Too many failed logins; try again later.", retry_after=settings.LOGIN_FAILURE_WINDOW
        )


def record_failure(username: str, client_ip: str) -> None:
    for key in _keys(username, client_ip):
        # add() starts the window; incr() counts within it without extending it.
        if not cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW):
            try:
                cache.incr(key)
            except ValueError:  # expired between the two calls
                cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW)


def record_success(username: str, client_ip: str) -> None:
    user_key, _ = _keys(username, client_ip)
    cache.delete(user_key)
