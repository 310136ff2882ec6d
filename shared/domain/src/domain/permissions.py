"""Checks shared by every area of the domain. Area-specific rules live beside their models
(e.g. :mod:`domain.blog.permissions`)."""

from __future__ import annotations

from typing import Any

from domain.errors import NotAuthenticated, PermissionDenied


def require_authenticated(user: Any) -> None:
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()


def require_perm(user: Any, perm: str) -> None:
    """Require a signed-in user holding the Django permission ``perm`` (``app.codename``)."""
    require_authenticated(user)
    if not user.has_perm(perm):
        raise PermissionDenied()
