"""Django settings of the Django-based baselines: the product's own (same database, pool and
models), plus what each framework needs. ``BENCH_URLCONF`` picks the baseline's URLs."""

from __future__ import annotations

import os

from domain.settings import *  # noqa: F403
from domain.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework"]
ROOT_URLCONF = os.environ.get("BENCH_URLCONF", "fastdjango_bench.baselines.ninja_api")
# Nothing between the handler and the view: the baselines' best case.
MIDDLEWARE: list[str] = []
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
