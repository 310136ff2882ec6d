"""The admin login goes through the domain's login throttle: the same counters as the API token
endpoints, a 429 with Retry-After past a limit, and no password hashed once refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.signals import user_login_failed
from django.test import Client, RequestFactory

from admin_site.sites import client_ip
from domain.accounts.services import token_obtain
from domain.errors import NotAuthenticated
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(client: Client, password: str, address: str = "10.0.0.1", username: str = "root"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        HTTP_X_FORWARDED_FOR=address,  # as the gateway sets it; the test client is 127.0.0.1
    )


@pytest.fixture
def password_checks():
    """How many passwords were checked and found wrong."""
    failed: list[str] = []

    def count(sender, credentials, **kwargs):
        failed.append(credentials["username"])

    user_login_failed.connect(count)
    yield failed
    user_login_failed.disconnect(count)


def test_failed_admin_logins_are_throttled(superuser, settings, password_checks):
    settings.LOGIN_MAX_FAILURES = 3
    client = Client()
    for _ in range(3):
        response = sign_in(client, "wrong")
        assert response.status_code == 200
        assert response.context["form"].errors
    response = sign_in(client, PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW
    assert "Too many failed sign-ins" in response.content.decode()
    assert b"csrfmiddlewaretoken" in response.content, "the form, with its error"
    assert client.get("/admin/").status_code == 302, "not signed in"
    for _ in range(5):
        assert sign_in(client, "wrong").status_code == 429
    assert len(password_checks) == 3, "a refused attempt hashes no password"
    # Another address is not locked out by this one.
    assert sign_in(client, PASSWORD, address="10.0.0.2").status_code == 302


def test_the_admin_and_the_token_endpoints_share_one_throttle(superuser, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            token_obtain(username="root", password="wrong", client_ip="10.0.0.5")
    assert sign_in(Client(), PASSWORD, address="10.0.0.5").status_code == 429


def test_one_account_is_limited_across_addresses(superuser, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 3
    for n in range(3):
        assert sign_in(Client(), "wrong", address=f"198.51.100.{n}").status_code == 200
    assert sign_in(Client(), PASSWORD, address="203.0.113.1").status_code == 429


def test_a_success_signs_in_and_clears_the_failures(superuser, settings):
    settings.LOGIN_MAX_FAILURES = 2
    client = Client()
    assert sign_in(client, "wrong").status_code == 200
    response = sign_in(client, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert sign_in(Client(), "wrong").status_code == 200
    assert sign_in(Client(), PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("10.9.0.2", "", ["*"], "10.9.0.2"),
        ("10.9.0.2", "198.51.100.7", ["*"], "198.51.100.7"),
        ("10.9.0.2", "198.51.100.7", ["10.9.0.0/16"], "198.51.100.7"),
        # A peer that is not a trusted proxy cannot choose its address.
        ("203.0.113.5", "198.51.100.7", ["10.9.0.0/16"], "203.0.113.5"),
        # Through a chain, the nearest address that is not a trusted proxy.
        ("10.9.0.2", "6.6.6.6, 198.51.100.7, 10.9.0.3", ["10.9.0.0/16"], "198.51.100.7"),
        ("10.9.0.2", "not-an-address", ["*"], "10.9.0.2"),
    ],
)
def test_the_client_address(settings, peer, forwarded, trusted, expected):
    settings.FORWARDED_ALLOW_IPS = trusted
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR=peer, **headers)
    assert client_ip(request) == expected


def test_a_null_character_is_a_form_error(superuser):
    response = sign_in(Client(), PASSWORD, username="ro\x00ot")
    assert response.status_code == 200
    assert response.context["form"].errors
