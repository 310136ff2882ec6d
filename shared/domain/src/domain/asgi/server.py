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

from domain.env import env_int, env_str


def serve(app: str) -> None:
    import uvicorn
    from django.conf import settings

    from domain.asgi import setup_django

    setup_django()
    uvicorn.run(
        app,
        host=env_str("UVICORN_HOST", "0.0.0.0"),  # noqa: S104 (inside a container)
        port=env_int("PORT", 8000, minimum=1),
        workers=env_int("UVICORN_WORKERS", 1, minimum=1),
        loop=env_str("UVICORN_LOOP", "auto"),  # type: ignore[arg-type]
        http=env_str("UVICORN_HTTP", "auto"),  # type: ignore[arg-type]
        proxy_headers=True,
        forwarded_allow_ips=env_str("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        timeout_keep_alive=env_int("UVICORN_KEEPALIVE", 75, minimum=1),
        timeout_graceful_shutdown=env_int("UVICORN_GRACEFUL_TIMEOUT", 20, minimum=0),
        limit_concurrency=env_int("UVICORN_LIMIT_CONCURRENCY", 0, minimum=0) or None,
        # WebSocket messages get the same bound as request bodies.
        ws_max_size=settings.API_MAX_BODY_BYTES,
        # Django's LOGGING configures logging; our middleware writes the access log.
        log_config=None,
        access_log=False,
        server_header=False,
    )
