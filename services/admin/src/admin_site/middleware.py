"""Request context for the admin service: request ID, access log, query count."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse

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
