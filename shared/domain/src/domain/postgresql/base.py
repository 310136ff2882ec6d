"""Django's PostgreSQL backend, with :mod:`domain.db` at the three places it needs:

* taking a connection from the pool (:func:`domain.db.checkout`: liveness without a round trip,
  recovery after a PostgreSQL restart, failing fast while it is down), instead of psycopg_pool's
  per-checkout ``check`` (``CONN_HEALTH_CHECKS`` is off with the pool);
* every statement (:func:`domain.db.observe_statement`: counted, lost connections noticed, stale
  prepared statements re-prepared);
* commit and rollback (counted: psycopg sends them, and BEGIN, as round trips of their own).
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base
from django.utils.asyncio import async_unsafe
from psycopg import IsolationLevel

from domain import db


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Outermost, so blocks a test adds with execute_wrapper() run inside it.
        self.execute_wrappers.append(db.observe_statement)

    @property
    def pool(self) -> Any:
        pool = base.DatabaseWrapper.pool.fget(self)  # type: ignore[attr-defined]
        if pool is not None and not getattr(pool.connection_class, "watched", False):
            # Set before the pool opens (Django opens it at the first checkout).
            pool.connection_class = db.connection_class_for(pool)
        return pool

    @async_unsafe
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        if self.pool is None:
            return super().get_new_connection(conn_params)
        connection = db.checkout(self)
        # The rest is what Django's own get_new_connection does with a pooled connection.
        level = self.settings_dict["OPTIONS"].get("isolation_level")
        if level is None:
            self.isolation_level = IsolationLevel.READ_COMMITTED
        else:
            self.isolation_level = IsolationLevel(level)
            connection.isolation_level = self.isolation_level
        return connection

    def _commit(self) -> None:
        db.transaction_ends(self, commit=True)
        return super()._commit()

    def _rollback(self) -> None:
        db.transaction_ends(self, commit=False)
        return super()._rollback()
