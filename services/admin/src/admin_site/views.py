from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from domain.health import readiness


@require_safe
@never_cache
def live(request: HttpRequest) -> JsonResponse:
    """The process answers (no dependency is checked)."""
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    """PostgreSQL answers (else 503); Redis is reported, but the cache fails open without it."""
    report = readiness()
    return JsonResponse(report.as_dict(), status=200 if report.ready else 503)
