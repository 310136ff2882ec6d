"""Run Django ORM work from async code without serialising it on one thread.

Django's own ``a*`` ORM methods are ``sync_to_async(thread_sensitive=True)`` wrappers: unless a
``ThreadSensitiveContext`` is open they all run on *one* thread per process, so under FastAPI or
Strawberry every query of every request waits its turn. Django also returns connections only on its
request signals, which those frameworks never send.

This module is the domain's answer, used by both API services:

* :func:`run` runs a *sync* domain function on a bounded pool of database threads
  (``DB_THREADS``, by default the connection pool's size), so concurrent requests query
  concurrently and the thread count, not the request count, bounds the connections a process uses;
* after every call, in the same thread, it hands the connection back to psycopg's pool (or closes
  it if it is broken or too old), which is what Django's request signals would have done;
* the caller's context variables travel into the thread (the request ID reaches the logs, the query
  tracker counts the statements);
* a database that does not answer becomes :class:`~domain.errors.Unavailable` (HTTP 503) instead of
  an internal error.

Domain services stay plain sync functions, so ``transaction.atomic`` never spans an ``await``;
:func:`to_async` gives each one its async twin, the way Django puts ``aget`` beside ``get``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import psycopg
from django.conf import settings
from django.db import DataError, InterfaceError, OperationalError, close_old_connections
from django.db import connection as default_connection

from domain import inputs
from domain.errors import Unavailable

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def executor() -> ThreadPoolExecutor:
    """Return the process's database thread pool, creating it on first use."""
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(
                    max_workers=settings.DB_THREADS, thread_name_prefix="db"
                )
    return _executor


async def run(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn(*args, **kwargs)`` on a database thread and return its result."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, _call_and_release, fn, args, kwargs)
    return await loop.run_in_executor(executor(), call)


def to_async(fn: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """Return the async twin of a sync domain function (``aget`` to its ``get``)."""

    @functools.wraps(fn)
    async def twin(*args: P.args, **kwargs: P.kwargs) -> T:
        return await run(fn, *args, **kwargs)

    twin.__name__ = twin.__qualname__ = f"a{fn.__name__}"
    return twin


def _call_and_release(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    tracker = _query_log.get()
    try:
        if tracker is None:
            return fn(*args, **kwargs)
        with default_connection.execute_wrapper(tracker):
            return fn(*args, **kwargs)
    except (OperationalError, InterfaceError) as exc:
        # Connection refused, pool exhausted, server restarting, statement timeout: the request
        # cannot be served now, but nothing about it was wrong.
        logger.warning("database unavailable: %s", exc.__class__.__name__, exc_info=exc)
        raise Unavailable() from exc
    except (DataError, UnicodeEncodeError) as exc:
        # Text PostgreSQL cannot take (NUL, a lone surrogate) that got past the edges' checks.
        refusal = inputs.storage_error(exc)
        if refusal is None:
            raise
        raise refusal from exc
    finally:
        # Django does this on request_finished; nothing sends that signal here.
        close_old_connections()


async def shutdown() -> None:
    """Stop the database threads, then close the connection pool (ASGI lifespan shutdown)."""
    global _executor
    threads, _executor = _executor, None
    loop = asyncio.get_running_loop()
    if threads is not None:
        await loop.run_in_executor(None, threads.shutdown)
    if settings.DB_POOL:
        await loop.run_in_executor(None, default_connection.close_pool)


def ping(timeout: int = 2) -> None:
    """Raise :class:`DatabaseError` unless PostgreSQL accepts a new connection within ``timeout``.

    It connects directly rather than through the pool: a pool waits up to ``DB_POOL_TIMEOUT`` for a
    connection, and a health check must answer sooner than that.
    """
    params = default_connection.get_connection_params()
    params.pop("pool", None)
    params["connect_timeout"] = timeout
    try:
        with psycopg.connect(**params) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise OperationalError(str(exc)) from exc


# QUERY TRACKING
# ------------------------------------------------------------------------------
# The API services count the statements of every request (they are logged with it) and tests
# assert on them. Statements run on database threads, so Django's CaptureQueriesContext, which
# watches one connection, cannot see them; this follows the request's context instead.


@dataclass
class QueryLog:
    """Statements run on behalf of one context (a request, or a block in a test)."""

    capture: bool = False
    count: int = 0
    seconds: float = 0.0
    statements: list[str] = field(default_factory=list)
    # The log of an enclosing track_queries() block, which sees these statements too.
    parent: QueryLog | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.record(sql, time.perf_counter() - started)

    def record(self, sql: str, seconds: float) -> None:
        log: QueryLog | None = self
        while log is not None:
            with log._lock:
                log.count += 1
                log.seconds += seconds
                if log.capture:
                    log.statements.append(sql)
            log = log.parent


_query_log: contextvars.ContextVar[QueryLog | None] = contextvars.ContextVar(
    "query_log", default=None
)


@contextmanager
def track_queries(*, capture: bool = False) -> Iterator[QueryLog]:
    """Count (and with ``capture``, record) the statements run by :func:`run` in this context.

    Blocks nest: a request's own log (kept by the API services' middleware) also counts into a
    block a test opened around the request.
    """
    log = QueryLog(capture=capture, parent=_query_log.get())
    token = _query_log.set(log)
    try:
        yield log
    finally:
        _query_log.reset(token)
