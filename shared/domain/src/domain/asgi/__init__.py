"""ASGI glue shared by the REST and GraphQL services (install ``fastdjango-domain[asgi]``):
Django start-up, request context and limits as ASGI middleware, bearer authentication, and the
uvicorn launcher. Nothing here knows FastAPI or Strawberry."""

from __future__ import annotations

import os


def setup_django(settings_module: str = "domain.settings") -> None:
    """Configure Django for a non-Django ASGI app (call once, before importing models)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    django.setup(set_prefix=False)
