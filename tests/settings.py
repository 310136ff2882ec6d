"""Settings for the test suite: the admin service's settings (a superset of what REST and GraphQL
use) with test conveniences. PostgreSQL and Redis addresses are filled in by tests/conftest.py
from the containers it starts."""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "tests-only-secret-key-not-for-production-use-0123456789"
)
os.environ.setdefault("DJANGO_HTTPS", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from admin_site.settings import *  # noqa: F403

# A fast hasher: the tests create many users and log in often.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests never run collectstatic; the manifest storage would want its manifest.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Tests clear only their own keys, so a Redis shared with a development server keeps its data.
CACHES["default"]["KEY_PREFIX"] = "fastdjango-test"  # noqa: F405
