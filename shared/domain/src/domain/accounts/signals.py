"""Receivers that announce, after the commit, every write that may end a user's access
(:mod:`domain.accounts.events`), whichever process makes it: the admin's change forms, the shell,
the services.

``QuerySet.update()`` sends no signal: code that revokes with it (``token_revoke``, the admin's
bulk "revoke" action) calls :func:`~domain.accounts.events.announce_access_changed` itself, or is
caught by the GraphQL service's periodic re-check.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from domain.accounts.events import announce_access_changed
from domain.accounts.models import ApiToken, User

# Saving only these fields changes nobody's access (every authentication and login touches them).
_TOKEN_FIELDS_NOT_ACCESS = frozenset({"last_used_at"})
_USER_FIELDS_NOT_ACCESS = frozenset({"last_login"})


def _changes_access(created: bool, update_fields: Any, fields_not_access: frozenset[str]) -> bool:
    return not created and (update_fields is None or not set(update_fields) <= fields_not_access)


def _token_saved(
    sender: Any, instance: ApiToken, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    if _changes_access(created, update_fields, _TOKEN_FIELDS_NOT_ACCESS):
        announce_access_changed(instance.user_id)


def _user_saved(
    sender: Any, instance: User, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    if _changes_access(created, update_fields, _USER_FIELDS_NOT_ACCESS):
        announce_access_changed(instance.pk)


def _token_deleted(sender: Any, instance: ApiToken, **kwargs: Any) -> None:
    announce_access_changed(instance.user_id)


def _user_deleted(sender: Any, instance: User, **kwargs: Any) -> None:
    announce_access_changed(instance.pk)


def _memberships_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    """A user's groups or permissions changed, from the user's side or the other one."""
    if not action.startswith("post_"):
        return
    if isinstance(instance, User):
        announce_access_changed(instance.pk)
    else:
        for user_id in pk_set or ():
            announce_access_changed(user_id)


def connect() -> None:
    post_save.connect(_token_saved, sender=ApiToken, dispatch_uid="accounts-access-token-save")
    post_delete.connect(_token_deleted, sender=ApiToken, dispatch_uid="accounts-access-token-del")
    post_save.connect(_user_saved, sender=User, dispatch_uid="accounts-access-user-save")
    post_delete.connect(_user_deleted, sender=User, dispatch_uid="accounts-access-user-delete")
    for through in (User.groups.through, User.user_permissions.through):
        m2m_changed.connect(
            _memberships_changed, sender=through, dispatch_uid=f"accounts-access-{through.__name__}"
        )
