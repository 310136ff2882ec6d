"""API tokens: issued once in clear, stored hashed, revocable, expiring; failed logins limited."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from domain.accounts.models import ApiToken
from domain.accounts.services import (
    token_authenticate,
    token_issue,
    token_obtain,
    token_revoke,
)
from domain.errors import NotAuthenticated, NotFound, RateLimited
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_failed_logins_are_limited_per_user_and_address(user, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            token_obtain(username="alice", password="wrong", client_ip="10.0.0.1")
    with pytest.raises(RateLimited) as raised:
        token_obtain(username="alice", password=PASSWORD, client_ip="10.0.0.1")
    assert raised.value.retry_after == settings.LOGIN_FAILURE_WINDOW
    # Another address is not locked out by this one's failures.
    assert token_obtain(username="alice", password=PASSWORD, client_ip="10.0.0.2").token


def test_one_address_cannot_try_many_usernames(user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for n in range(8):
        with pytest.raises(NotAuthenticated):
            token_obtain(username=f"guess{n}", password="x", client_ip="10.0.0.9")
    with pytest.raises(RateLimited):
        token_obtain(username="alice", password=PASSWORD, client_ip="10.0.0.9")


def test_a_success_clears_the_users_failures(user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    with pytest.raises(NotAuthenticated):
        token_obtain(username="alice", password="wrong", client_ip="10.0.0.1")
    token_obtain(username="alice", password=PASSWORD, client_ip="10.0.0.1")
    with pytest.raises(NotAuthenticated):
        token_obtain(username="alice", password="wrong", client_ip="10.0.0.1")
    token_obtain(username="alice", password=PASSWORD, client_ip="10.0.0.1")


def test_parallel_guesses_cannot_overrun_the_limit(user, settings):
    """Attempts are counted before the (slow) password check, so a burst of parallel guesses
    gets no more tries than the limit."""
    from tests.domain.test_concurrency import run_together

    settings.LOGIN_MAX_FAILURES = 3

    def guess() -> str:
        try:
            token_obtain(username="alice", password="wrong", client_ip="10.0.0.7")
        except (NotAuthenticated, RateLimited) as exc:
            return type(exc).__name__
        return "token"

    outcomes = run_together(8, guess)
    assert outcomes.count("NotAuthenticated") == 3
    assert outcomes.count("RateLimited") == 5
