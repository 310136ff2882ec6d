from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from domain.core.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Read-only: the records exist so that retried API writes replay."""

    list_display = ("key", "scope", "user", "result_id", "created_at")
    list_select_related = ("user",)
    list_filter = ("scope",)
    search_fields = ("key", "user__username")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
