"""Gunicorn settings for the admin service, from the environment.

https://docs.gunicorn.org/en/stable/settings.html
"""

from __future__ import annotations

import os

from domain.env import env_int, env_str

bind = env_str("GUNICORN_BIND", "0.0.0.0:8000")
# The admin is light: a few processes with a few threads each. Each thread holds at most one
# pooled connection while it serves a request (set DB_POOL_MAX_SIZE to the thread count).
workers = env_int("GUNICORN_WORKERS", 2, minimum=1)
threads = env_int("GUNICORN_THREADS", 4, minimum=1)
worker_class = env_str("GUNICORN_WORKER_CLASS", "gthread" if threads > 1 else "sync")
timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=0)
# Below the container's stop_grace_period, so in-flight requests finish before a SIGKILL.
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 20, minimum=0)
keepalive = env_int("GUNICORN_KEEPALIVE", 75, minimum=0)
# Recycle workers now and then, so a slow leak never becomes an outage.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 2000, minimum=0)
max_requests_jitter = env_int("GUNICORN_MAX_REQUESTS_JITTER", 200, minimum=0)
# Heartbeat files in memory: /tmp may be a slow overlay filesystem in a container.
_SHM = "/dev/shm"  # noqa: S108 (gunicorn's own recommendation for containers)
worker_tmp_dir = env_str("GUNICORN_WORKER_TMP_DIR") or (_SHM if os.path.isdir(_SHM) else None)
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The request middleware writes the access log (with request ID and query count).
accesslog = None
errorlog = "-"
loglevel = env_str("LOG_LEVEL", "info").lower()
