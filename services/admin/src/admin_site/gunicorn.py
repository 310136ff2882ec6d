"""Gunicorn settings for the admin service, from the environment.

https://docs.gunicorn.org/en/stable/settings.html
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


bind = os.environ.get("GUNICORN_BIND") or "0.0.0.0:8000"
# The admin is light: a few processes with a few threads each. Each thread holds at most one
# pooled connection while it serves a request (set DB_POOL_MAX_SIZE to the thread count).
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 4)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or ("gthread" if threads > 1 else "sync")
timeout = _int("GUNICORN_TIMEOUT", 30)
# Below the container's stop_grace_period, so in-flight requests finish before a SIGKILL.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# Recycle workers now and then, so a slow leak never becomes an outage.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Heartbeat files in memory: /tmp may be a slow overlay filesystem in a container.
_SHM = "/dev/shm"  # noqa: S108 (gunicorn's own recommendation for containers)
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or (
    _SHM if os.path.isdir(_SHM) else None
)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1"
# The request middleware writes the access log (with request ID and query count).
accesslog = None
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()
