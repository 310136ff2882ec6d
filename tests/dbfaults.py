"""Database faults for in-process tests: the default database behind a proxy that can play a
PostgreSQL restart or outage (tests/tcpproxy.py), or with other settings (pool timeout, statement
timeout), each with a fresh connection pool before and after, and the process's outage state
(domain.db's breaker, the cached readiness) forgotten on both sides."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

from domain import db, health
from tests.tcpproxy import TcpProxy, running


def forget_state() -> None:
    if connection.connection is not None:  # (an async test's loop thread has none)
        connection.close()
    db.close_pool()
    db.breaker.reset()
    health.forget()


@contextmanager
def database_settings(*, pool: dict[str, Any] | None = None, **changes: Any) -> Iterator[None]:
    """The default database with ``changes`` (``HOST``, ``PORT``; lower-case names are OPTIONS)
    and ``pool`` merged into its pool options."""
    settings_dict = connection.settings_dict
    saved = {key: value for key, value in settings_dict.items() if key != "OPTIONS"}
    saved_options = copy.deepcopy(settings_dict["OPTIONS"])
    forget_state()
    for key, value in changes.items():
        if key.isupper():
            settings_dict[key] = value
        else:
            settings_dict["OPTIONS"][key] = value
    if pool:
        settings_dict["OPTIONS"]["pool"] = {**settings_dict["OPTIONS"]["pool"], **pool}
    try:
        yield
    finally:
        forget_state()
        settings_dict.update(saved)
        settings_dict["OPTIONS"].clear()
        settings_dict["OPTIONS"].update(saved_options)


@contextmanager
def behind_proxy(**changes: Any) -> Iterator[TcpProxy]:
    """The default database reached through a :class:`TcpProxy` the test can stop and start."""
    settings_dict = connection.settings_dict
    with (
        running(settings_dict["HOST"], int(settings_dict["PORT"])) as proxy,
        database_settings(HOST="127.0.0.1", PORT=str(proxy.port), **changes),
    ):
        yield proxy
