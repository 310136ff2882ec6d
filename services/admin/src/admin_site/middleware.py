"""Request context for the admin service: request ID, access log, database round trips, and a 503
(not a 500) when PostgreSQL does not answer; and the refusal of input that is not text."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable

from django.db import InterfaceError, NotSupportedError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from domain import inputs
from domain.db import is_stale_plan, track_queries
from domain.errors import Unavailable
from domain.observability import clean_request_id, log_access, request_id_var

logger = logging.getLogger(__name__)


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.headers.get("X-Request-ID")) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        with track_queries() as queries:
            try:
                response = self.get_response(request)
                status = response.status_code
                response["X-Request-ID"] = request_id
                return response
            finally:
                log_access(
                    method=request.method or "-",
                    path=request.path,
                    status=status,
                    seconds=time.perf_counter() - started,
                    queries=queries.count,
                )
                request_id_var.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Connection refused, pool exhausted, statement timeout: a problem for the client to
        retry, not a server error page."""
        unavailable = isinstance(exception, (OperationalError, InterfaceError)) or (
            isinstance(exception, NotSupportedError) and is_stale_plan(exception)
        )
        if not unavailable:
            return None
        logger.warning("database unavailable: %s", exception.__class__.__name__, exc_info=exception)
        body = {
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": "The service is temporarily unavailable; try again shortly.",
            "code": "unavailable",
            "request_id": request_id_var.get(),
        }
        response = HttpResponse(
            json.dumps(body), status=503, content_type="application/problem+json"
        )
        response["Retry-After"] = str(Unavailable.retry_after)
        return response


class UndecodableInputMiddleware:
    """Answer 400 to input that is not text PostgreSQL can take: a path, query string or form body
    whose percent-escapes are not UTF-8 or hold a NUL (Django would pass U+FFFD on, and a NUL
    reaches the database as a 500); and, as a last line of defence, the driver's refusal of such
    text wherever it came from. The rule is the domain's (:mod:`domain.inputs`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._is_text(request):
            return self._refuse()
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return self._refuse() if inputs.storage_error(exception) else None

    @staticmethod
    def _is_text(request: HttpRequest) -> bool:
        # WSGI hands the unquoted path over as latin-1; Django re-quotes what is not UTF-8.
        path = request.META.get("PATH_INFO", "").encode("latin-1")
        query = request.META.get("QUERY_STRING", "").encode("latin-1")
        parts = [inputs.decode_url_part(path), inputs.decode_url_part(query, plus_is_space=True)]
        if request.content_type == "application/x-www-form-urlencoded":
            parts.append(inputs.decode_url_part(request.body, plus_is_space=True))
        return None not in parts

    @staticmethod
    def _refuse() -> HttpResponse:
        return HttpResponseBadRequest(
            f"Bad request: {inputs.NOT_TEXT}", content_type="text/plain; charset=utf-8"
        )
