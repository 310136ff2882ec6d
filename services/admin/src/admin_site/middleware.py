"""Request context for the admin service (request ID, access log, query count), and the refusal
of input that is not text."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from domain import inputs
from domain.db import QueryLog
from domain.observability import clean_request_id, log_access, request_id_var


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.headers.get("X-Request-ID")) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        queries = QueryLog()
        started = time.perf_counter()
        status = 500
        try:
            with connection.execute_wrapper(queries):
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
