"""Users and API tokens in the admin.

What a staff member may do here cannot exceed what they were given: only superusers grant
permissions or superuser status, and only they change superusers or other staff accounts (a
password reset there would be a way in). A token, once issued, keeps its user, expiry and
revocation (the revoke action only ever revokes); a staff member issues tokens for themselves,
expiring within ``API_TOKEN_TTL``, and only superusers for others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from domain.accounts.models import ApiToken, User
from domain.accounts.services import new_token_secret, token_expiry, tokens_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Sequence[str]:
        fields = [*super().get_readonly_fields(request, obj)]
        if not request.user.is_superuser:
            fields += ["is_superuser", "groups", "user_permissions"]
        return fields

    def _may_manage(self, request: HttpRequest, obj: User | None) -> bool:
        user = request.user
        return (
            obj is None
            or user.is_superuser
            or (not obj.is_superuser and (not obj.is_staff or obj.pk == user.pk))
        )

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_manage(request, obj)


class ApiTokenForm(forms.ModelForm):
    # Who fills the form in; set on the class get_form makes for each request.
    actor: Any = None

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is None:
            return None  # the default lifetime (save_model)
        if expires_at <= timezone.now():
            raise forms.ValidationError("A new token must expire in the future.")
        latest = token_expiry()
        if latest is not None and expires_at > latest and not self.actor.is_superuser:
            days = settings.API_TOKEN_TTL / 86_400
            raise forms.ValidationError(f"A token lives at most {days:g} days (API_TOKEN_TTL).")
        return expires_at


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = (
        "prefix",
        "name",
        "user",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_select_related = ("user",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("prefix", "name", "user__username")
    autocomplete_fields = ("user",)
    date_hierarchy = "created_at"
    actions = ("revoke",)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            # Others' tokens only by superusers; anyone else's are their own.
            mine = ["name", "expires_at"]
            return ["user", *mine] if request.user.is_superuser else mine
        return ["user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: ApiToken | None = None
    ) -> Sequence[str]:
        if obj is None:
            return ()
        # Only the label changes: re-pointing, un-expiring or un-revoking a token would hand it
        # to someone else or bring it back to life.
        return ("user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")

    def get_form(
        self, request: HttpRequest, obj: ApiToken | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change, **kwargs)  # a new class per call
        form.actor = request.user
        return form

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if not change:
            if not request.user.is_superuser:
                obj.user = request.user
            secret = new_token_secret()
            obj.prefix, obj.digest = secret.prefix, secret.digest
            # Left empty, it expires like every token (API_TOKEN_TTL).
            obj.expires_at = obj.expires_at or token_expiry()
            super().save_model(request, obj, form, change)
            self.message_user(
                request,
                f"Token for {obj.user}: {secret.token} — copy it now, it is not shown again.",
                messages.WARNING,
            )
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = tokens_revoke(tokens=queryset)
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
