"""Run Django ORM work from async code without serialising it on one thread, and keep PostgreSQL
failures short.

Django's own ``a*`` ORM methods are ``sync_to_async(thread_sensitive=True)`` wrappers: unless a
``ThreadSensitiveContext`` is open they all run on *one* thread per process, so under FastAPI or
Strawberry every query of every request waits its turn. Django also returns connections only on its
request signals, which those frameworks never send.

This module is the domain's answer, used by both API services:

* :func:`run` runs a *sync* domain function on a bounded pool of database threads
  (``DB_THREADS``, by default the connection pool's size), so concurrent requests query
  concurrently and the thread count, not the request count, bounds the connections a process uses.
  A request that finds every thread busy for ``DB_QUEUE_TIMEOUT`` seconds is shed
  (:class:`~domain.errors.Unavailable`, HTTP 503) instead of queueing without bound;
* a database thread keeps its connection from one call to the next while work keeps coming, and
  hands it back to psycopg's pool (what Django's request signals would have done) when it has been
  idle for a second, when a call left it in a transaction or after an error, and at least every
  30 seconds (:class:`DatabaseThreads`); a kept connection is checked before each call the way a
  checkout is;
* the caller's context variables travel into the thread (the request ID reaches the logs, the
  query tracker counts the round trips);
* a database that does not answer becomes :class:`~domain.errors.Unavailable` instead of an
  internal error, and a unit of work that failed on a lost connection (or on a prepared statement
  a migration made stale) before it could have changed anything is run once more.

Checkouts (:func:`checkout`, used by the ``domain.postgresql`` backend for every process, the admin
included) replace what psycopg_pool's ``check`` does, because that check costs a round trip per
checkout and, when it fails, sleeps 1 s, 2 s, 4 s between the dead connections a restarted
server left in the pool (each request then waits out ``DB_POOL_TIMEOUT``). Here:

* a pooled connection is alive unless its socket has something to read while idle: a restarted or
  stopped server closes it, which shows without a round trip (``DB_LIVENESS_CHECK``);
* a dead one means every idle connection predates a restart: if PostgreSQL accepts a new
  connection the pool is drained and refilled at once, so the same request goes on; if it does
  not, the breaker opens;
* the breaker opens when a new connection fails (the pool's own, or such a probe): the pool is
  dropped (its waiters fail at once, its reconnection backoff goes with it) and checkouts fail at
  once (503 with ``Retry-After``), except that one caller every ``DB_RETRY_INTERVAL`` seconds tries
  a new connection, callers arriving meanwhile share its answer, and the first success closes it.

Domain services stay plain sync functions, so ``transaction.atomic`` never spans an ``await``;
:func:`to_async` gives each one its async twin, the way Django puts ``aget`` beside ``get``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import queue
import select
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import psycopg
from django.conf import settings
from django.db import (
    DataError,
    InterfaceError,
    NotSupportedError,
    OperationalError,
    close_old_connections,
    connections,
)
from django.db import connection as default_connection
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from domain import inputs
from domain.errors import Unavailable

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class DatabaseDown(psycopg.OperationalError):
    """PostgreSQL did not accept a connection just now: fail without waiting for the pool."""


# THE DATABASE THREADS
# ------------------------------------------------------------------------------

_executor: DatabaseThreads | None = None
_executor_lock = threading.Lock()
# One admission gate per event loop (a process has one; the tests make one per test).
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)

# A database thread hands its connection back to the pool after this many seconds without work,
# and at the end of the first call this many seconds after taking it (so that the pool's
# max_lifetime and max_idle still apply under steady load).
HOLD_IDLE = 1.0
HOLD_MAX = 30.0


class DatabaseThreads:
    """The process's database threads (:func:`run`'s executor).

    Like ``ThreadPoolExecutor`` (threads start as work needs them, up to ``size``), except that a
    thread keeps its Django connection from one call to the next while work keeps coming, instead
    of handing it back to the pool after every call: Django's connect and close around a pooled
    connection cost about as much CPU as a short query. See :func:`_settle` for when it is handed
    back.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._work: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the database threads are shut down")
            self._work.put((future, fn))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._size:
                thread = threading.Thread(
                    target=self._serve, name=f"db_{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        return future

    def shutdown(self) -> None:
        """Let the queued work finish, then stop every thread (each hands its connection back)."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self._work.put(None)
        for thread in threads:
            thread.join()

    def _serve(self) -> None:
        while True:
            try:
                item = self._work.get(timeout=HOLD_IDLE if _holding() else None)
            except queue.Empty:
                _hand_back()
                continue
            if item is None:
                _hand_back()
                return
            future, fn = item
            del item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn()
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future, fn
            self._idle.release()


def executor() -> DatabaseThreads:
    """Return the process's database threads, starting them on first use."""
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = DatabaseThreads(settings.DB_THREADS)
    return _executor


def _gate(loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(settings.DB_THREADS)
    return gate


async def run(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn(*args, **kwargs)`` on a database thread and return its result.

    Raises :class:`~domain.errors.Unavailable` when no thread frees up within ``DB_QUEUE_TIMEOUT``
    seconds, or when PostgreSQL does not answer.
    """
    loop = asyncio.get_running_loop()
    gate = _gate(loop)
    if gate.locked():
        try:
            async with asyncio.timeout(settings.DB_QUEUE_TIMEOUT):
                await gate.acquire()
        except TimeoutError:
            logger.warning(
                "database threads busy for %.1fs: request shed", settings.DB_QUEUE_TIMEOUT
            )
            raise Unavailable() from None
    else:
        await gate.acquire()
    context = contextvars.copy_context()
    call = functools.partial(context.run, _call_and_release, fn, args, kwargs)
    try:
        future = executor().submit(call)
    except BaseException:
        gate.release()
        raise
    try:
        return await asyncio.wrap_future(future)
    finally:
        # The slot is free when the thread is, even if the caller stopped waiting (a cancelled
        # request): then the thread frees it. Otherwise it is freed here, on the loop, which
        # saves a wake-up of the loop per call.
        if future.done():
            gate.release()
        else:
            future.add_done_callback(functools.partial(_release_from_thread, loop, gate))


def _release_from_thread(
    loop: asyncio.AbstractEventLoop, gate: asyncio.Semaphore, _: Future[Any]
) -> None:
    # A closed loop (RuntimeError) has nobody waiting on its gate any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(gate.release)


def to_async(fn: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """Return the async twin of a sync domain function (``aget`` to its ``get``)."""

    @functools.wraps(fn)
    async def twin(*args: P.args, **kwargs: P.kwargs) -> T:
        return await run(fn, *args, **kwargs)

    twin.__name__ = twin.__qualname__ = f"a{fn.__name__}"
    return twin


@dataclass
class _Unit:
    """What a unit of work (one :func:`run` call) did to the database so far."""

    # A statement may have been committed: running the unit again could apply it twice.
    changed: bool = False
    # A statement failed because the connection went away.
    connection_lost: bool = False


_unit: contextvars.ContextVar[_Unit | None] = contextvars.ContextVar("db_unit", default=None)


def _call_and_release(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    _resume()
    try:
        return _call(fn, args, kwargs)
    except (OperationalError, InterfaceError) as exc:
        # Connection refused, pool exhausted, server restarting, statement timeout: the request
        # cannot be served now, but nothing about it was wrong.
        logger.warning("database unavailable: %s", _reason(exc), exc_info=exc)
        raise Unavailable() from exc
    except NotSupportedError as exc:
        if not is_stale_plan(exc):
            raise
        logger.warning("database: %s", _reason(exc), exc_info=exc)
        raise Unavailable() from exc
    except (DataError, UnicodeEncodeError) as exc:
        # Text PostgreSQL cannot take (NUL, a lone surrogate) that got past the edges' checks.
        refusal = inputs.storage_error(exc)
        if refusal is None:
            raise
        raise refusal from exc
    finally:
        _settle()


def _holding() -> bool:
    return any(wrapper.connection is not None for wrapper in connections.all(initialized_only=True))


def _hand_back() -> None:
    for wrapper in connections.all(initialized_only=True):
        wrapper.close()


def _resume() -> None:
    """Before a call: drop a kept connection that died meanwhile (a restarted server closed it),
    or whose pool was closed (a tripped breaker, new settings); the call then takes a new one."""
    for wrapper in connections.all(initialized_only=True):
        conn = wrapper.connection
        if conn is None or (pool := _pool_of(conn)) is None:
            continue  # without a pool, Django's CONN_HEALTH_CHECKS look after it
        if pool.closed or not _is_alive(conn):
            wrapper.close()


def _settle() -> None:
    """After a call: keep this thread's connection for its next call, or hand it back to the pool
    the way Django's ``close_old_connections`` does on ``request_finished`` (which nothing sends
    here). It is kept only if it is pooled, its pool has a connection for every database thread
    (else a thread waiting for one would wait behind an idle one), it is in autocommit outside any
    transaction with no error seen, and it was taken less than ``HOLD_MAX`` seconds ago."""
    for wrapper in connections.all(initialized_only=True):
        conn = wrapper.connection
        if conn is None:
            continue
        pool = _pool_of(conn)
        if pool is None:
            wrapper.close_if_unusable_or_obsolete()  # kept for CONN_MAX_AGE
            continue
        keep = (
            not pool.closed
            and pool.max_size >= settings.DB_THREADS
            and not conn.closed
            and conn.info.transaction_status == _IDLE
            and wrapper.get_autocommit()
            and not wrapper.in_atomic_block
            and not wrapper.errors_occurred
            # With a pool, CONN_MAX_AGE is 0, so Django's close_at is when the connection was taken.
            and wrapper.close_at is not None
            and time.monotonic() - wrapper.close_at < HOLD_MAX
        )
        if not keep:
            wrapper.close()


def _pool_of(conn: psycopg.Connection[Any]) -> ConnectionPool | None:
    """The pool ``conn`` came from (psycopg_pool marks its connections), if any."""
    return getattr(conn, "_pool", None)


def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``fn(*args, **kwargs)``, once more on a fresh connection if it failed on a lost connection
    or a stale prepared statement before it could have changed anything."""
    unit = _Unit()
    _unit.set(unit)
    try:
        return fn(*args, **kwargs)
    except (OperationalError, InterfaceError, NotSupportedError) as exc:
        if unit.changed or not (unit.connection_lost or is_stale_plan(exc)):
            raise
        logger.info("database: %s; running the unit of work again", _reason(exc))
    close_old_connections()
    _unit.set(_Unit())
    return fn(*args, **kwargs)


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    first_line = next(iter(str(cause).strip().splitlines()), "")
    return f"{cause.__class__.__name__}: {first_line}"


async def shutdown() -> None:
    """Stop the database threads, then close the connection pool (ASGI lifespan shutdown)."""
    global _executor
    threads, _executor = _executor, None
    loop = asyncio.get_running_loop()
    if threads is not None:
        await loop.run_in_executor(None, threads.shutdown)
    if settings.DB_POOL:
        await loop.run_in_executor(None, close_pool)


def close_pool(*, wait: bool = True) -> None:
    """Close this process's connection pool; the next checkout makes a new one.

    Connections in use stay usable and are closed when they are handed back. With ``wait=False``
    the closing (which joins the pool's worker threads) happens on a thread of its own.
    """
    pools = default_connection._connection_pools
    pool = pools.pop(default_connection.alias, None)
    if pool is None:
        return
    if wait:
        pool.close()
    else:
        threading.Thread(target=pool.close, name="db-pool-close", daemon=True).start()


# CHECKOUTS, LIVENESS AND THE BREAKER
# ------------------------------------------------------------------------------

# How long a checkout waits for a new connection to answer before it treats PostgreSQL as down
# (the attempt goes on in the background and closes the breaker if it succeeds).
PROBE_WAIT = 0.5


class Breaker:
    """Whether this process currently believes PostgreSQL is down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recovering = threading.Lock()
        self.down = False
        self.retry_at = 0.0
        # Bumped by every recovery, so threads that found dead connections at the same time
        # recover once, not once each.
        self.generation = 0
        self._attempt: Future[bool] | None = None

    def admit(self, pool: ConnectionPool) -> None:
        """Return if a checkout may go ahead. While PostgreSQL is down, raise :class:`DatabaseDown`
        at once, unless a new connection is being tried (then wait for its answer) or the last try
        is ``DB_RETRY_INTERVAL`` seconds old (then try again)."""
        if not self.down:
            return
        with self._lock:
            if not self.down:
                return
            trying = self._attempt is not None and not self._attempt.done()
            if not trying:
                now = time.monotonic()
                if now < self.retry_at:
                    raise DatabaseDown("PostgreSQL is down (retrying shortly)")
                self.retry_at = now + settings.DB_RETRY_INTERVAL
        if not self.probe(pool):
            raise DatabaseDown("PostgreSQL is down (a new connection failed)")

    def probe(self, pool: ConnectionPool, wait: float = PROBE_WAIT) -> bool:
        """Whether PostgreSQL accepts a new connection. One attempt at a time runs, on a thread of
        its own; callers wait ``wait`` seconds at most for its answer (``False`` meanwhile)."""
        with self._lock:
            attempt = self._attempt
            if attempt is None or attempt.done():
                attempt = self._attempt = Future()
                threading.Thread(
                    target=self._try_connect, args=(pool, attempt), name="db-probe", daemon=True
                ).start()
        try:
            return attempt.result(timeout=wait)
        except FutureTimeout:
            return False

    def _try_connect(self, pool: ConnectionPool, attempt: Future[bool]) -> None:
        kwargs = dict(pool.kwargs or {})  # type: ignore[call-overload]
        kwargs["connect_timeout"] = settings.DB_CONNECT_TIMEOUT
        try:
            psycopg.Connection.connect(pool.conninfo, **kwargs).close()  # type: ignore[arg-type]
        except psycopg.Error as exc:
            logger.info("database: a new connection failed: %s", _reason(exc))
            attempt.set_result(False)
            return
        if self.down:
            with self._lock:
                self.down = False
                self.generation += 1
            logger.warning("database: PostgreSQL answers again")
        attempt.set_result(True)

    def trip(self, reason: str) -> None:
        """PostgreSQL does not accept connections: fail fast from now on, and drop the pool (its
        own reconnection attempts back off for minutes, and its waiters would wait them out)."""
        with self._lock:
            was_down = self.down
            self.down = True
            self.retry_at = time.monotonic() + settings.DB_RETRY_INTERVAL
            self.generation += 1
        if not was_down:
            logger.error(
                "database down (%s): failing fast, trying a new connection every %.1fs",
                reason,
                settings.DB_RETRY_INTERVAL,
            )
        close_pool(wait=False)

    def recover(self, pool: ConnectionPool, generation: int, reason: str) -> bool:
        """A connection of ``pool`` was found dead (``generation`` is when the caller last looked):
        refill the pool if PostgreSQL answers, else trip. Return whether PostgreSQL answers.

        One thread recovers at a time; the others wait for it and then go on, so none of them
        takes another stale connection before the pool is drained.
        """
        with self._recovering:
            if self.generation != generation:
                return not self.down  # another thread has dealt with it meanwhile
            if not self.probe(pool):
                self.trip(reason)
                return False
            logger.warning(
                "database: %s; PostgreSQL answers: replacing every idle pooled connection", reason
            )
            pool.drain()
            with self._lock:
                self.generation += 1
            return True

    def reset(self) -> None:
        """Forget any outage (tests)."""
        with self._lock:
            self.down, self.retry_at, self._attempt = False, 0.0, None
            self.generation += 1


breaker = Breaker()


def connection_class_for(pool: ConnectionPool) -> type[psycopg.Connection[Any]]:
    """The class of ``pool``'s connections: while ``pool`` is open, a failed attempt to make one
    trips the breaker, so the requests waiting for it fail at once instead of waiting out
    ``DB_POOL_TIMEOUT``."""
    owner = weakref.ref(pool)

    class PooledConnection(psycopg.Connection[Any]):
        @classmethod
        def connect(cls, conninfo: str = "", **kwargs: Any) -> PooledConnection:  # type: ignore[override]
            try:
                return super().connect(conninfo, **kwargs)  # type: ignore[return-value]
            except psycopg.OperationalError as exc:
                if (current := owner()) is not None and not current.closed:
                    breaker.trip(f"a new connection failed: {_reason(exc)}")
                raise

    PooledConnection.watched = True  # type: ignore[attr-defined]
    return PooledConnection


def _is_alive(conn: psycopg.Connection[Any]) -> bool:
    """Whether a connection just taken from the pool can be used."""
    if conn.closed:
        return False
    mode = settings.DB_LIVENESS_CHECK
    if mode == "none":
        return True
    if mode == "socket":
        try:
            fd = conn.pgconn.socket
        except psycopg.OperationalError:
            return False
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        if not poller.poll(0):
            # Nothing arrived while it sat in the pool: the server has not closed it.
            return True
        # Something did: the server's goodbye (restart, terminated backend) or a harmless notice.
    count("liveness_checks")
    try:
        ConnectionPool.check_connection(conn)
    except psycopg.Error:
        return False
    return True


def checkout(wrapper: BaseDatabaseWrapper, *, timeout: float | None = None) -> psycopg.Connection:
    """Take a live connection from ``wrapper``'s pool (see the module's docstring).

    Raises psycopg's ``OperationalError`` (``DatabaseDown``, ``PoolTimeout``...) when there is
    none; Django's backend wraps it like any other connection error.
    """
    pool: ConnectionPool = wrapper.pool  # type: ignore[attr-defined]
    breaker.admit(pool)
    pool.open()
    for _ in range(2):
        generation = breaker.generation
        try:
            conn = pool.getconn(timeout)
        except PoolTimeout:
            # Busy, or unable to connect? A new connection tells which.
            if not breaker.probe(pool):
                breaker.trip("no pooled connection, and a new one failed")
                raise DatabaseDown("PostgreSQL does not accept connections") from None
            raise
        count("checkouts")
        if _is_alive(conn):
            return conn
        conn.close()
        pool.putconn(conn)  # the pool sees it closed and replaces it
        if not breaker.recover(pool, generation, "a pooled connection was dead"):
            raise DatabaseDown("PostgreSQL does not accept connections")
    raise DatabaseDown("no live pooled connection after refilling the pool")


def ping(timeout: float = 1.0) -> None:
    """Raise ``DatabaseError`` unless PostgreSQL answers within about ``timeout`` seconds.

    Through the pool (a readiness check must not open a connection per call). A busy pool —
    no idle connection, and every one in use or others already waiting — answers for PostgreSQL
    while the breaker is closed (a failed connection would have opened it), so the check takes
    none and waits behind nobody. Without a pool it connects directly.
    """
    try:
        pool: ConnectionPool | None = default_connection.pool
        if pool is None:
            params = default_connection.get_connection_params()
            params["connect_timeout"] = max(2, round(timeout))
            with psycopg.connect(**params) as conn:
                conn.execute("SELECT 1")
            return
        if not breaker.down and not pool.closed:
            stats = pool.get_stats()
            busy = stats["pool_size"] >= stats["pool_max"] or stats.get("requests_waiting", 0)
            if not stats["pool_available"] and busy:
                return
        try:
            conn = checkout(default_connection, timeout=timeout)
        except PoolTimeout:
            return  # busy after all, and a new connection just succeeded (else DatabaseDown)
        try:
            conn.execute("SELECT 1")
        finally:
            pool.putconn(conn)
    except psycopg.Error as exc:
        raise OperationalError(str(exc)) from exc


# STATEMENTS
# ------------------------------------------------------------------------------
# The domain.postgresql backend calls these around every statement, commit and rollback, in every
# process (the admin included): they count round trips, notice lost connections, and recover
# from prepared statements a migration made stale.


def is_stale_plan(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL refusing a prepared statement whose result columns changed
    since it was prepared (a migration altered a column it selects): "cached plan must not
    change result type"."""
    cause = exc.__cause__ if isinstance(exc, NotSupportedError) else exc
    if not isinstance(cause, psycopg.errors.FeatureNotSupported):
        return False
    return cause.diag.source_function == "RevalidateCachedQuery" or "cached plan" in str(cause)


def _forget_prepared(conn: psycopg.Connection[Any] | None) -> None:
    """Make psycopg drop this connection's prepared statements (it sends DEALLOCATE ALL with the
    next statement). psycopg has no public call for it; ``_prepared`` is its prepare manager."""
    manager = getattr(conn, "_prepared", None)
    if manager is not None:
        manager.clear()


def _is_read(sql: str) -> bool:
    return sql.lstrip()[:6].upper() == "SELECT"


def observe_statement(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """Django execute wrapper, installed by the backend on every connection."""
    wrapper = context["connection"]
    conn = wrapper.connection
    autocommit = wrapper.autocommit
    log = _query_log.get()
    if (
        log is not None
        and not autocommit
        and conn is not None
        and conn.info.transaction_status == _IDLE
    ):
        log.add("transaction_round_trips")  # psycopg sends BEGIN first, on its own
    unit = _unit.get()
    generation = breaker.generation
    started = time.perf_counter()
    try:
        try:
            result = execute(sql, params, many, context)
        except NotSupportedError as exc:
            if not is_stale_plan(exc):
                raise
            _forget_prepared(conn)
            if not autocommit:
                raise  # the transaction is aborted; db.run may run the unit again
            logger.info("database: a prepared statement was stale; statements prepared afresh")
            if log is not None:
                log.record(sql, time.perf_counter() - started)
            result = execute(sql, params, many, context)
    except (OperationalError, InterfaceError):
        if unit is not None and autocommit and not _is_read(sql):
            unit.changed = True  # it may have been applied before the connection went away
        if conn is not None and conn.closed:
            if unit is not None:
                unit.connection_lost = True
            pool = wrapper.pool
            if pool is not None:
                breaker.recover(pool, generation, "a connection was lost mid-request")
        raise
    else:
        if unit is not None and autocommit and not _is_read(sql):
            unit.changed = True
        return result
    finally:
        if log is not None:
            log.record(sql, time.perf_counter() - started)


_IDLE = TransactionStatus.IDLE


def transaction_ends(wrapper: BaseDatabaseWrapper, *, commit: bool) -> None:
    """Before Django commits or rolls back: count the round trip, if psycopg will send one."""
    conn = wrapper.connection
    if conn is None or conn.closed or conn.info.transaction_status == _IDLE:
        return
    if commit and (unit := _unit.get()) is not None:
        unit.changed = True
    count("transaction_round_trips")


# QUERY TRACKING
# ------------------------------------------------------------------------------
# The services count the database round trips of every request (logged with it) and tests assert
# on them. Statements run on database threads, so Django's CaptureQueriesContext, which watches
# one connection, cannot see them; this follows the request's context instead.


@dataclass
class QueryLog:
    """Database work done on behalf of one context (a request, or a block in a test).

    ``count`` is the number of SQL statements. The other counters are events that are not
    statements; :meth:`add` counts any of them, and a new kind is a new field plus, if it costs a
    database round trip, its name in ``ROUND_TRIPS``.
    """

    capture: bool = False
    count: int = 0
    seconds: float = 0.0
    # Connections taken from the pool (no round trip of their own).
    checkouts: int = 0
    # Round trips spent checking a pooled connection (DB_LIVENESS_CHECK).
    liveness_checks: int = 0
    # BEGIN, COMMIT and ROLLBACK, which psycopg sends as commands of their own.
    transaction_round_trips: int = 0
    statements: list[str] = field(default_factory=list)
    # The log of an enclosing track_queries() block, which sees these events too.
    parent: QueryLog | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    ROUND_TRIPS = ("count", "liveness_checks", "transaction_round_trips")

    @property
    def round_trips(self) -> int:
        """Every round trip to PostgreSQL: statements, liveness checks, BEGIN/COMMIT/ROLLBACK."""
        return sum(getattr(self, name) for name in self.ROUND_TRIPS)

    def record(self, sql: str, seconds: float) -> None:
        """Count a statement (and keep its SQL when capturing)."""
        log: QueryLog | None = self
        while log is not None:
            with log._lock:
                log.count += 1
                log.seconds += seconds
                if log.capture:
                    log.statements.append(sql)
            log = log.parent

    def add(self, counter: str, n: int = 1) -> None:
        """Add ``n`` to the counter named ``counter`` here and in the enclosing logs."""
        log: QueryLog | None = self
        while log is not None:
            with log._lock:
                setattr(log, counter, getattr(log, counter) + n)
            log = log.parent


_query_log: contextvars.ContextVar[QueryLog | None] = contextvars.ContextVar(
    "query_log", default=None
)


def count(counter: str, n: int = 1) -> None:
    """Count an event in the current context's query log, if one is open."""
    log = _query_log.get()
    if log is not None:
        log.add(counter, n)


@contextmanager
def track_queries(*, capture: bool = False) -> Iterator[QueryLog]:
    """Count (and with ``capture``, record) the database work done in this context, including on
    the database threads :func:`run` uses.

    Blocks nest: a request's own log (kept by the services' middleware) also counts into a block
    a test opened around the request.
    """
    log = QueryLog(capture=capture, parent=_query_log.get())
    token = _query_log.set(log)
    try:
        yield log
    finally:
        _query_log.reset(token)
