"""API tokens: issued once in clear, stored hashed, revocable, expiring; and the login throttle
every password login goes through (per address, per account at an address, per account), in
Redis or, while Redis is down, in the process."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from domain.accounts import throttle
from domain.accounts.models import ApiToken
from domain.accounts.services import (
    token_authenticate,
    token_issue,
    token_obtain,
    token_revoke,
)
from domain.errors import InvalidInput, NotAuthenticated, NotFound, RateLimited
from tests.domain.test_concurrency import run_together
from tests.factories import PASSWORD
from tests.infra import wait_for_redis

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    """No counters kept in this process, and Redis believed up, at the start of each test."""
    throttle._local.clear()
    throttle._redis.down_until, throttle._redis.failing = 0.0, False
    yield
    throttle._local.clear()


def test_a_token_is_stored_hashed_and_authenticates(user):
    issued = token_issue(user=user, name="laptop")
    stored = ApiToken.objects.get()
    assert issued.token.startswith("fdj_")
    assert len(issued.token) > 40
    assert stored.digest == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in {stored.digest, stored.prefix}
    assert stored.prefix == issued.token[:12]
    assert token_authenticate(issued.token) == user
    assert stored.expires_at > timezone.now() + timedelta(days=29)


def test_last_used_is_recorded_at_most_once_a_minute(user):
    issued = token_issue(user=user)
    token_authenticate(issued.token)
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    token_authenticate(issued.token)
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    token_authenticate(issued.token)
    assert ApiToken.objects.get().last_used_at > first


@pytest.mark.parametrize("token", ["", "fdj_wrong", "Bearer x", "x" * 500, "fdj_" + "x" * 200])
def test_unknown_tokens_do_not_authenticate(user, token):
    token_issue(user=user)
    assert token_authenticate(token) is None


def test_revoked_expired_and_inactive_tokens_do_not_authenticate(user):
    revoked = token_issue(user=user)
    token_revoke(user=user, token=revoked.token)
    assert token_authenticate(revoked.token) is None
    token_revoke(user=user, token=revoked.token)  # twice is fine

    expired = token_issue(user=user, ttl=timedelta(seconds=1))
    ApiToken.objects.filter(pk=expired.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert token_authenticate(expired.token) is None

    active = token_issue(user=user)
    user.is_active = False
    user.save()
    assert token_authenticate(active.token) is None


def test_a_user_cannot_revoke_someone_elses_token(user, other_user):
    issued = token_issue(user=user)
    with pytest.raises(NotFound):
        token_revoke(user=other_user, token=issued.token)
    assert token_authenticate(issued.token) == user


def test_obtain_with_a_password(user):
    issued = token_obtain(username="alice", password=PASSWORD, client_ip="10.0.0.1", name="cli")
    assert token_authenticate(issued.token) == user
    with pytest.raises(NotAuthenticated):
        token_obtain(username="alice", password="wrong", client_ip="10.0.0.1")
    with pytest.raises(NotAuthenticated):
        token_obtain(username="nobody", password="x", client_ip="10.0.0.1")


def fails(username: str, client_ip: str, password: str = "wrong") -> str:  # noqa: S107
    """The outcome of one login: "token", "NotAuthenticated" or "RateLimited"."""
    try:
        token_obtain(username=username, password=password, client_ip=client_ip)
    except (NotAuthenticated, RateLimited) as exc:
        return type(exc).__name__
    return "token"


def test_failed_logins_are_limited_per_account_and_address(user, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            token_obtain(username="alice", password="wrong", client_ip="10.0.0.1")
    with pytest.raises(RateLimited) as raised:
        token_obtain(username="alice", password=PASSWORD, client_ip="10.0.0.1")
    # The seconds left in the window that refused it.
    window = settings.LOGIN_FAILURE_WINDOW
    assert window - 5 < raised.value.retry_after <= window
    # Another address is not locked out by this one's failures.
    assert token_obtain(username="alice", password=PASSWORD, client_ip="10.0.0.2").token


def test_one_address_cannot_try_many_usernames(user, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 8
    for n in range(8):
        with pytest.raises(NotAuthenticated):
            token_obtain(username=f"guess{n}", password="x", client_ip="10.0.0.9")
    with pytest.raises(RateLimited):
        token_obtain(username="alice", password=PASSWORD, client_ip="10.0.0.9")


def test_one_account_is_limited_across_addresses(user, settings):
    """Rotating addresses is not enough: one guess from each of many addresses still counts
    against the account."""
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 4
    for n in range(4):
        assert fails("alice", f"10.1.0.{n}") == "NotAuthenticated"
    assert fails("alice", "10.1.0.99", PASSWORD) == "RateLimited"
    assert fails("ALICE", "10.1.0.98", PASSWORD) == "RateLimited", "case does not make a new count"
    # Other accounts are not affected.
    assert fails("bob", "10.1.0.99") == "NotAuthenticated"


def test_the_owner_at_a_known_address_is_not_locked_out_by_strangers(user, settings):
    """The per-account limit against a denial of service: strangers failing on purpose lock
    out other strangers, not the owner where they signed in before."""
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 3
    assert fails("alice", "192.0.2.10", PASSWORD) == "token"  # the owner's usual address
    for n in range(10):
        fails("alice", f"198.51.100.{n}")
    assert fails("alice", "203.0.113.7", PASSWORD) == "RateLimited"  # a new address waits
    assert fails("alice", "192.0.2.10", PASSWORD) == "token"
    # A known address still has its own limit for that account.
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert fails("alice", "192.0.2.10") == "NotAuthenticated"
    assert fails("alice", "192.0.2.10", PASSWORD) == "RateLimited"


def test_the_owners_success_does_not_reset_the_accounts_count(user, settings):
    """Otherwise each sign-in of the owner would give strangers a fresh set of guesses."""
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 4
    for n in range(3):
        assert fails("alice", f"198.51.100.{n}") == "NotAuthenticated"
    assert fails("alice", "192.0.2.10", PASSWORD) == "token"  # counted, then given back
    assert fails("alice", "198.51.100.50") == "NotAuthenticated"
    assert fails("alice", "198.51.100.51") == "RateLimited"


def test_a_locked_out_address_does_not_add_to_the_accounts_count(user, settings):
    settings.LOGIN_MAX_FAILURES, settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 2, 3
    outcomes = [fails("alice", "198.51.100.1") for _ in range(20)]
    assert outcomes.count("NotAuthenticated") == 2
    assert fails("alice", "198.51.100.2") == "NotAuthenticated"  # 3 of 3 password checks
    assert fails("alice", "198.51.100.3", PASSWORD) == "RateLimited"


def test_ipv6_clients_count_per_64(user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for suffix in ("1", "2"):
        assert fails("alice", f"2001:db8:1:2::{suffix}") == "NotAuthenticated"
    assert fails("alice", "2001:db8:1:2:ffff::3", PASSWORD) == "RateLimited"
    assert fails("alice", "2001:db8:1:3::1", PASSWORD) == "token"  # another /64
    assert throttle.client_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert throttle.client_key("unknown").startswith("other-")


def test_a_success_clears_the_users_failures(user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    with pytest.raises(NotAuthenticated):
        token_obtain(username="alice", password="wrong", client_ip="10.0.0.1")
    token_obtain(username="alice", password=PASSWORD, client_ip="10.0.0.1")
    with pytest.raises(NotAuthenticated):
        token_obtain(username="alice", password="wrong", client_ip="10.0.0.1")
    token_obtain(username="alice", password=PASSWORD, client_ip="10.0.0.1")


@pytest.mark.parametrize("username", ["al\x00ice", "alice"])
def test_null_characters_are_invalid_input(user, username):
    password = "pass\x00word" if username == "alice" else PASSWORD
    with pytest.raises(InvalidInput) as raised:
        token_obtain(username=username, password=password, client_ip="10.0.0.1")
    assert list(raised.value.errors) == ["username" if "\x00" in username else "password"]


def test_parallel_guesses_cannot_overrun_the_limit(user, settings):
    """Attempts are counted before the (slow) password check, so a burst of parallel guesses
    gets no more tries than the limit."""
    settings.LOGIN_MAX_FAILURES = 3
    outcomes = run_together(8, lambda: fails("alice", "10.0.0.7"))
    assert outcomes.count("NotAuthenticated") == 3
    assert outcomes.count("RateLimited") == 5


def test_parallel_guesses_from_many_addresses_cannot_overrun_the_account_limit(user, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 3
    addresses = iter(f"10.2.0.{n}" for n in range(8))
    outcomes = run_together(8, lambda: fails("alice", next(addresses)))
    assert outcomes.count("NotAuthenticated") == 3
    assert outcomes.count("RateLimited") == 5


def test_the_counters_are_in_redis_with_an_expiry(user, settings):
    """Shared by every process and replica; each counter ends with its window."""
    from django.core.cache import cache

    fails("alice", "10.0.0.1")
    client = cache._cache.get_client(write=True)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = sorted(key.decode() for key in client.scan_iter(match=f"{prefix}:*login:*"))
    kinds = [key.split("login:")[1].split(":")[0] for key in keys]
    assert sorted(kinds) == ["account", "address", "pair"]
    assert all(0 < client.ttl(key) <= settings.LOGIN_FAILURE_WINDOW for key in keys)
    assert "alice" not in "".join(keys), "usernames are stored as digests"
    assert not throttle._local._entries


# REDIS DOWN: THE SAME LIMITS, PER PROCESS
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("outage", ["stop", "pause"])
def test_the_limits_hold_while_redis_is_down(
    user,
    other_user,
    own_redis,
    settings,
    caplog,
    outage,
):
    settings.LOGIN_MAX_FAILURES, settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 2, 4
    settings.CACHE_RETRY_AFTER = 30  # a paused Redis costs one socket timeout, not one per try
    if outage == "stop":
        own_redis.stop(timeout=1)
    else:
        own_redis.pause()
    try:
        with caplog.at_level(logging.WARNING, logger="domain.accounts.throttle"):
            # Per account and address ...
            assert [fails("alice", "10.0.0.1") for _ in range(3)] == [
                "NotAuthenticated",
                "NotAuthenticated",
                "RateLimited",
            ]
            assert fails("alice", "10.0.0.1", PASSWORD) == "RateLimited"
            # ... and per account, across addresses (2 failures above, 2 more here).
            assert fails("alice", "10.0.0.2") == "NotAuthenticated"
            assert fails("alice", "10.0.0.3") == "NotAuthenticated"
            assert fails("alice", "10.0.0.4", PASSWORD) == "RateLimited"
            # Others still sign in, and their success is given back in this process.
            for _ in range(3):
                assert fails("bob", "10.0.0.5", PASSWORD) == "token"
        warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
        assert len(warnings) == 1, "logged once per outage"
    finally:
        if outage == "pause":
            own_redis.unpause()


def test_parallel_guesses_cannot_overrun_the_limit_while_redis_is_down(
    user,
    own_redis,
    settings,
):
    settings.LOGIN_MAX_FAILURES = 3
    own_redis.stop(timeout=1)
    outcomes = run_together(8, lambda: fails("alice", "10.0.0.7"))
    assert outcomes.count("NotAuthenticated") == 3
    assert outcomes.count("RateLimited") == 5


def test_counting_returns_to_redis_when_it_is_back(user, own_redis, settings):
    settings.LOGIN_MAX_FAILURES = 2
    own_redis.stop(timeout=1)
    assert fails("alice", "10.0.0.1") == "NotAuthenticated"
    own_redis.start()
    wait_for_redis()
    throttle._redis.down_until = 0.0  # past CACHE_RETRY_AFTER
    throttle._local.clear()  # what this process counted meanwhile is not what is counted now
    assert fails("alice", "10.0.0.1") == "NotAuthenticated"
    assert fails("alice", "10.0.0.1") == "NotAuthenticated"
    assert fails("alice", "10.0.0.1", PASSWORD) == "RateLimited"


def test_the_in_process_counters_are_bounded():
    store = throttle._LocalStore(max_keys=100)
    for n in range(1000):
        store.hit(f"key{n}", 60)
    assert len(store._entries) <= 100
    assert store.hit("key999", 60)[0] == 2, "the newest counters are kept"
