"""Run an ASGI app under uvicorn with settings from the environment.

    python -m rest_api            # each service's __main__ calls serve("<module>:app")

| Variable | Default | Why |
| --- | --- | --- |
| ``PORT`` | 8000 | |
| ``UVICORN_WORKERS`` | 1 | scale with replicas first; each worker has its own DB pool |
| ``UVICORN_LOOP`` / ``UVICORN_HTTP`` | auto | uvloop and httptools when installed |
| ``FORWARDED_ALLOW_IPS`` | 127.0.0.1 | addresses whose X-Forwarded-* headers are trusted |
| ``UVICORN_KEEPALIVE`` | 75 | outlasts the gateway's keep-alive: the gateway closes first |
| ``UVICORN_GRACEFUL_TIMEOUT`` | 20 | below the container's stop grace period |
| ``UVICORN_LIMIT_CONCURRENCY`` | none | 503 past this many open connections per worker |
"""

from __future__ import annotations

import os


def _int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def serve(app: str) -> None:
    import uvicorn
    from django.conf import settings

    from domain.asgi import setup_django

    setup_django()
    uvicorn.run(
        app,
        host=_str("UVICORN_HOST", "0.0.0.0"),  # noqa: S104 (inside a container)
        port=_int("PORT", 8000) or 8000,
        workers=_int("UVICORN_WORKERS", 1),
        loop=_str("UVICORN_LOOP", "auto"),  # type: ignore[arg-type]
        http=_str("UVICORN_HTTP", "auto"),  # type: ignore[arg-type]
        proxy_headers=True,
        forwarded_allow_ips=_str("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        timeout_keep_alive=_int("UVICORN_KEEPALIVE", 75) or 75,
        timeout_graceful_shutdown=_int("UVICORN_GRACEFUL_TIMEOUT", 20),
        limit_concurrency=_int("UVICORN_LIMIT_CONCURRENCY", None),
        # WebSocket messages get the same bound as request bodies.
        ws_max_size=settings.API_MAX_BODY_BYTES,
        # Django's LOGGING configures logging; our middleware writes the access log.
        log_config=None,
        access_log=False,
        server_header=False,
    )
