"""The admin site: Django's, with its login going through the domain's login throttle.

A password guess costs the admin a PBKDF2 hash on one of its few threads, so the login counts
every attempt before the password is checked (the same counters as the API token endpoints,
:mod:`domain.accounts.throttle`) and, past a limit, answers 429 with ``Retry-After`` and the form
with its error, without hashing anything.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from domain.accounts.services import password_authenticate
from domain.errors import InvalidInput, NotAuthenticated, RateLimited


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _trusts(address: str, trusted: list[str]) -> bool:
    """Whether ``address`` is one of ``trusted`` (addresses or networks, or ``*``)."""
    if "*" in trusted:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request: HttpRequest) -> str:
    """The client's address: the peer's, or the one a trusted proxy (``FORWARDED_ALLOW_IPS``)
    put in ``X-Forwarded-For``.

    Read as uvicorn reads it for the API services: when every peer is trusted (``*``) the first
    address, otherwise the nearest one that is not itself a trusted proxy.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    trusted = settings.FORWARDED_ALLOW_IPS
    hops = [
        hop.strip()
        for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if hop.strip()
    ]
    if not hops or not _trusts(peer, trusted):
        return peer or "unknown"
    if "*" in trusted:
        chosen = hops[0]
    else:
        chosen = next((hop for hop in reversed(hops) if not _trusts(hop, trusted)), hops[0])
    return chosen if _is_address(chosen) else peer or "unknown"


class LoginForm(AdminAuthenticationForm):
    """Django's admin login form, authenticating through the domain (and so its throttle)."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "rate_limited": "Too many failed sign-ins. Try again in %(minutes)d minute(s).",
    }

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.rate_limited: RateLimited | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        assert self.request is not None  # the admin's login view always passes it
        try:
            self.user_cache = password_authenticate(
                username=username,
                password=password,
                client_ip=client_ip(self.request),
                request=self.request,
            )
        except RateLimited as refused:
            self.rate_limited = refused
            raise ValidationError(
                self.error_messages["rate_limited"],
                code="rate_limited",
                params={"minutes": max(1, -(-refused.retry_after // 60))},
            ) from None
        except (NotAuthenticated, InvalidInput):
            raise self.get_invalid_login_error() from None
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class AdminSite(admin.AdminSite):
    site_header = "Fast Django administration"
    site_title = "Fast Django admin"
    index_title = "Blog and accounts"
    login_form = LoginForm

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        response: HttpResponse = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        refused = getattr(form, "rate_limited", None)
        if refused is not None:
            response.status_code = 429
            response["Retry-After"] = str(refused.retry_after)
        return response
