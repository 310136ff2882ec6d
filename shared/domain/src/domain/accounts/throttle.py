"""Limits on login attempts, counted in the cache (shared by every replica).

Two counters: per (username, client address), so one user cannot be guessed at from one place,
and per client address, so one place cannot try many usernames. An attempt is counted *before*
the password is checked, atomically, so a burst of parallel guesses cannot all pass the limit
while the slow password hash runs; a success then takes its attempt back and clears the user's
counter. When Redis is down the counters fail open (logins still work, unthrottled); the
gateway's rate limit on the REST token endpoint still applies there.
"""

from __future__ import annotations

import contextlib
import hashlib

from django.conf import settings
from django.core.cache import cache

from domain.errors import RateLimited

# One client address may fail this many times more often than one username from it.
_ADDRESS_FACTOR = 4


def _keys(username: str, client_ip: str) -> tuple[str, str]:
    user_digest = hashlib.blake2b(username.casefold().encode(), digest_size=12).hexdigest()
    return f"login-attempts:{client_ip}:{user_digest}", f"login-attempts:{client_ip}"


def _count(key: str) -> int:
    """Add one to ``key``'s count in the current window; the new count (0 if Redis is down)."""
    # add() starts a window; incr() counts within it without extending it.
    if cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW):
        return 1
    try:
        return cache.incr(key) or 0
    except ValueError:  # the window ended between the two calls
        cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW)
        return 1


def begin_attempt(username: str, client_ip: str) -> None:
    """Count one login attempt; :class:`RateLimited` if this username or address is over its
    limit of unsuccessful attempts."""
    user_key, address_key = _keys(username, client_ip)
    limit = settings.LOGIN_MAX_FAILURES
    user_count, address_count = _count(user_key), _count(address_key)
    if user_count > limit or address_count > limit * _ADDRESS_FACTOR:
        raise RateLimited(
            "Too many failed logins; try again later.", retry_after=settings.LOGIN_FAILURE_WINDOW
        )


def succeeded(username: str, client_ip: str) -> None:
    """Forget the user's failures from this address and take back the address's attempt."""
    user_key, address_key = _keys(username, client_ip)
    cache.delete(user_key)
    with contextlib.suppress(ValueError):  # the window ended meanwhile
        cache.decr(address_key)
