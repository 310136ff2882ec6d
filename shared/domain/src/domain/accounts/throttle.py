"""The login throttle: limits on password attempts, shared by the admin login and both token
endpoints (they all reach it through :func:`domain.accounts.services.password_authenticate`).

Three counters per window of ``LOGIN_FAILURE_WINDOW`` seconds, checked in this order:

* per client address (``LOGIN_MAX_FAILURES_PER_ADDRESS``): one place cannot try many accounts;
  IPv6 addresses count per /64, which one subscriber usually holds whole;
* per account and address (``LOGIN_MAX_FAILURES``): one place cannot guess one password;
* per account (``LOGIN_MAX_FAILURES_PER_ACCOUNT``), over every address the account has *not*
  signed in from within ``LOGIN_KNOWN_ADDRESS_TTL``: rotating addresses is not enough.

An attempt is counted *before* the password is checked, each counter atomically, so parallel
guesses cannot all pass while the slow hash runs; an attempt refused by one counter is not
counted by the next (a locked-out address does not add to an account's count). A success takes
its attempt back, clears the account's count at that address and makes the address *known* for
the account: known addresses skip the account's own counter, so a stranger who fails on purpose
on a known username locks out other strangers, not the owner at their usual address
(docs/security.md, "Logins and permissions", weighs this).

Counters live in Redis, so the limits hold across replicas and services. When Redis does not
answer, the same counters are kept in this process's memory (bounded), so the limits still hold,
per process: the throttle never fails open.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from domain.errors import RateLimited

logger = logging.getLogger(__name__)

T = TypeVar("T")

# IPv6 clients are counted per network of this prefix length.
IPV6_PREFIX = 64
# Most counters one process keeps while Redis is down (each costs ~200 bytes).
LOCAL_MAX_KEYS = 100_000


class _Store(Protocol):
    def hit(self, key: str, window: int) -> tuple[int, int]:
        """Add one to ``key`` (a new key starts a window); its count and seconds left."""

    def has(self, key: str) -> bool: ...

    def give_back(self, key: str) -> None:
        """Take one off ``key`` if it still counts anything."""

    def forget(self, key: str) -> None: ...

    def remember(self, key: str, seconds: int) -> None: ...


# REDIS
# ------------------------------------------------------------------------------

# DECR on a key that expired meanwhile would create it at -1 with no expiry: only if it exists.
_GIVE_BACK = """
local count = tonumber(redis.call('GET', KEYS[1]))
if count and count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class _RedisStore:
    """The counters in Redis, in the cache's server and key namespace."""

    def __init__(self, backend: RedisCache) -> None:
        self._backend = backend
        # Django's own client (the fail-open backend would hide an outage as a miss).
        self._client = backend._cache.get_client(write=True)

    def _key(self, key: str) -> str:
        return self._backend.make_and_validate_key(key)

    def hit(self, key: str, window: int) -> tuple[int, int]:
        name = self._key(key)
        pipe = self._client.pipeline(transaction=True)
        pipe.set(name, 0, ex=window, nx=True)
        pipe.incr(name)
        pipe.ttl(name)
        _, count, ttl = pipe.execute()
        if ttl < 0:  # no expiry (written by something else): never count forever
            self._client.expire(name, window)
            ttl = window
        return count, ttl

    def has(self, key: str) -> bool:
        return bool(self._client.exists(self._key(key)))

    def give_back(self, key: str) -> None:
        self._client.eval(_GIVE_BACK, 1, self._key(key))

    def forget(self, key: str) -> None:
        self._client.delete(self._key(key))

    def remember(self, key: str, seconds: int) -> None:
        self._client.set(self._key(key), 1, ex=seconds)


class _RedisHealth:
    """After a failure, Redis is not tried again for ``CACHE_RETRY_AFTER`` seconds, so attempts
    do not each wait for a socket timeout; the outage is logged once."""

    def __init__(self) -> None:
        self.down_until = 0.0
        self.failing = False

    def store(self) -> _RedisStore | None:
        backend = caches["default"]
        if not isinstance(backend, RedisCache) or time.monotonic() < self.down_until:
            return None
        return _RedisStore(backend)

    def failed(self, exc: Exception) -> None:
        self.down_until = time.monotonic() + settings.CACHE_RETRY_AFTER
        if not self.failing:
            self.failing = True
            logger.warning(
                "login throttle: Redis unavailable, counting in this process: %s: %s",
                exc.__class__.__name__,
                exc,
            )

    def succeeded(self) -> None:
        if self.failing:
            self.failing = False
            logger.info("login throttle: counting in Redis again")


# IN-PROCESS FALLBACK
# ------------------------------------------------------------------------------


class _LocalStore:
    """The same counters in this process's memory, for while Redis is down.

    Bounded: when full, expired entries go first, then the oldest tenth. Pushing a victim's
    counter out therefore takes tens of thousands of fresh counters, each one attempt counted
    against its own address.
    """

    def __init__(self, max_keys: int = LOCAL_MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._entries: dict[str, list[float]] = {}  # key -> [count, expires at (monotonic)]

    def _live(self, key: str, now: float) -> list[float] | None:
        entry = self._entries.get(key)
        if entry is not None and entry[1] <= now:
            del self._entries[key]
            return None
        return entry

    def _make_room(self, now: float) -> None:
        if len(self._entries) < self.max_keys:
            return
        self._entries = {k: e for k, e in self._entries.items() if e[1] > now}
        excess = len(self._entries) - self.max_keys * 9 // 10
        for key in list(self._entries)[: max(0, excess)]:
            del self._entries[key]

    def hit(self, key: str, window: int) -> tuple[int, int]:
        with self._lock:
            now = time.monotonic()
            entry = self._live(key, now)
            if entry is None:
                self._make_room(now)
                entry = self._entries[key] = [0, now + window]
            entry[0] += 1
            return int(entry[0]), max(1, math.ceil(entry[1] - now))

    def has(self, key: str) -> bool:
        with self._lock:
            return self._live(key, time.monotonic()) is not None

    def give_back(self, key: str) -> None:
        with self._lock:
            entry = self._live(key, time.monotonic())
            if entry is not None and entry[0] > 0:
                entry[0] -= 1

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def remember(self, key: str, seconds: int) -> None:
        with self._lock:
            now = time.monotonic()
            self._make_room(now)
            self._entries[key] = [1, now + seconds]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_redis = _RedisHealth()
_local = _LocalStore()


# THE RULE
# ------------------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def client_key(client_ip: str) -> str:
    """What a client address is counted as: an IPv4 address, an IPv6 /64, or a digest of
    anything else."""
    try:
        address = ipaddress.ip_address(client_ip.strip())
    except ValueError:
        return "other-" + _digest(client_ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network(f"{address.exploded}/{IPV6_PREFIX}", strict=False)
        return str(network)
    return str(address)


def account_key(username: str) -> str:
    """A digest of the username, case- and compatibility-folded (variants share one count)."""
    return _digest(unicodedata.normalize("NFKC", username).casefold())


@dataclass(frozen=True, slots=True)
class _Keys:
    address: str
    pair: str
    account: str
    known: str

    @classmethod
    def of(cls, username: str, client_ip: str) -> _Keys:
        account, address = account_key(username), client_key(client_ip)
        return cls(
            address=f"login:address:{address}",
            pair=f"login:pair:{account}:{address}",
            account=f"login:account:{account}",
            known=f"login:known:{account}:{address}",
        )


def _refuse(retry_after: int) -> RateLimited:
    return RateLimited("Too many failed logins; try again later.", retry_after=retry_after)


@dataclass(frozen=True, slots=True)
class Attempt:
    """A counted attempt; call :meth:`succeeded` once the password proved right."""

    keys: _Keys
    store: _Store  # where it was counted
    counted_for_account: bool

    def succeeded(self) -> None:
        """Take the attempt back, forget the account's failures at this address and remember
        the address as one the account signs in from."""
        _run(self._succeeded, counted_in=self.store)

    def _succeeded(self, store: _Store) -> None:
        store.give_back(self.keys.address)
        store.forget(self.keys.pair)
        if self.counted_for_account:
            store.give_back(self.keys.account)
        if settings.LOGIN_KNOWN_ADDRESS_TTL:
            store.remember(self.keys.known, settings.LOGIN_KNOWN_ADDRESS_TTL)


def _begin(store: _Store, keys: _Keys) -> Attempt:
    window = settings.LOGIN_FAILURE_WINDOW
    count, left = store.hit(keys.address, window)
    if count > settings.LOGIN_MAX_FAILURES_PER_ADDRESS:
        raise _refuse(left)
    count, left = store.hit(keys.pair, window)
    if count > settings.LOGIN_MAX_FAILURES:
        raise _refuse(left)
    if settings.LOGIN_KNOWN_ADDRESS_TTL and store.has(keys.known):
        return Attempt(keys=keys, store=store, counted_for_account=False)
    count, left = store.hit(keys.account, window)
    if count > settings.LOGIN_MAX_FAILURES_PER_ACCOUNT:
        raise _refuse(left)
    return Attempt(keys=keys, store=store, counted_for_account=True)


def _run(step: Callable[[_Store], T], *, counted_in: _Store | None = None) -> T | None:
    """``step(store)`` in Redis, or in this process's memory when Redis does not answer. With
    ``counted_in``, only in that kind of store: an attempt counted in a Redis that is gone now
    stays counted (``None``)."""
    if counted_in is _local:
        return step(_local)
    store = _redis.store()
    if store is not None:
        try:
            result = step(store)
        except RedisError as exc:
            _redis.failed(exc)
        else:
            _redis.succeeded()
            return result
    return None if counted_in is not None else step(_local)


def begin_attempt(username: str, client_ip: str) -> Attempt:
    """Count one login attempt before its password is checked; :class:`RateLimited` (with the
    seconds until the refusing window ends) when the address, the account at this address or
    the account is over its limit."""
    keys = _Keys.of(username, client_ip)
    attempt = _run(lambda store: _begin(store, keys))
    assert attempt is not None  # only a success's step may be skipped
    return attempt
