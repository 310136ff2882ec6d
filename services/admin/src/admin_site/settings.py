"""Settings of the admin service: the domain's settings plus the admin, sessions and static files.

https://docs.djangoproject.com/en/5.2/ref/contrib/admin/
"""

from __future__ import annotations

import os
from pathlib import Path

from domain.env import env_list
from domain.settings import *  # noqa: F403 (the domain's settings are this service's base)
from domain.settings import INSTALLED_APPS

INSTALLED_APPS = [
    # Django's admin, on the site of admin_site.sites (its login is throttled).
    "admin_site.apps.AdminConfig",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    *INSTALLED_APPS,
    "admin_site.apps.AdminSiteConfig",
]

MIDDLEWARE = [
    "admin_site.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "admin_site.urls"
WSGI_APPLICATION = "admin_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# Sessions in PostgreSQL: signing in to the admin must not depend on Redis being up.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# The admin lives under /admin/ behind the gateway; keep its cookies there.
SESSION_COOKIE_PATH = "/admin/"
CSRF_COOKIE_PATH = "/admin/"
LOGIN_URL = "admin:login"
# Peers whose X-Forwarded-For names the client (the login throttle keys on it): the variable
# gunicorn and uvicorn read for the same purpose; addresses or networks, or "*". The compose
# file sets "*": only the gateway reaches the services.
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS", ["127.0.0.1"])

# STATIC FILES
# ------------------------------------------------------------------------------
# The migration job runs collectstatic into a volume that the gateway serves at /static/ (with
# far-future caching: the manifest storage puts a content hash in every file name).
# https://docs.djangoproject.com/en/5.2/howto/static-files/deployment/
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", "/srv/static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": os.environ.get(
            "DJANGO_STATICFILES_STORAGE",
            "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
        )
    },
}
