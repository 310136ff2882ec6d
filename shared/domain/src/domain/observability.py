"""Logging for every service: one line per event, tagged with the request ID.

The request ID arrives in the ``X-Request-ID`` header (the gateway creates one when the client sent
none). Each service stores it in a context variable for the length of the request; the filter below
copies it onto every log record, including records written from the database threads, because
:func:`domain.db.run` carries the caller's context into the thread.
"""

from __future__ import annotations

import contextvars
import logging
import re
from datetime import UTC, datetime
from typing import Any

import msgspec

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# A client-supplied ID is echoed into logs and responses, so only a conservative shape is accepted.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def clean_request_id(value: str | None) -> str | None:
    """Return ``value`` if it is a safe request ID, else ``None``."""
    if value and _REQUEST_ID_RE.fullmatch(value):
        return value
    return None


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


# Attributes every LogRecord has; anything else was passed with ``extra=`` and belongs in the line.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


# Compiled, and every service writes a line per request: anything it cannot encode is logged as
# its str().
_encoder = msgspec.json.Encoder(enc_hook=str)


class JsonFormatter(logging.Formatter):
    """Format records as one JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return _encoder.encode(payload).decode()


def logging_config(*, level: str, json_lines: bool) -> dict[str, Any]:
    """Return a ``logging.config.dictConfig`` dictionary for Django's ``LOGGING`` setting."""
    formatter = (
        {"()": JsonFormatter}
        if json_lines
        else {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Our own access log replaces these (it carries the request ID and the query count).
            "uvicorn.access": {"handlers": [], "propagate": False},
            "gunicorn.access": {"handlers": [], "propagate": False},
            "uvicorn.error": {"level": level},
            "django.db.backends": {"level": "INFO"},
        },
    }


access_logger = logging.getLogger("fastdjango.access")


def log_access(*, method: str, path: str, status: int, seconds: float, queries: int) -> None:
    """Write the access log line every service writes for every request."""
    access_logger.info(
        "%s %s %s %.1fms %dq",
        method,
        path,
        status,
        seconds * 1000,
        queries,
        extra={
            "http_method": method,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "db_queries": queries,
        },
    )
