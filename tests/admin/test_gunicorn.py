"""The admin service as its container runs it: collectstatic, then gunicorn (WSGI)."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from http.cookiejar import CookieJar

import pytest

from tests.serving import server, service_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_gunicorn_serves_the_login_page_and_health(tmp_path):
    env = service_env(
        DJANGO_SETTINGS_MODULE="admin_site.settings", DJANGO_STATIC_ROOT=str(tmp_path)
    )
    collected = subprocess.run(
        [sys.executable, "-m", "admin_site", "collectstatic", "--noinput"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stderr
    assert (tmp_path / "staticfiles.json").exists()

    command = ["gunicorn", "-c", "python:admin_site.gunicorn", "admin_site.wsgi"]
    with server(
        command, env={**env, "GUNICORN_WORKERS": "1"}, probe="/admin/health/live"
    ) as running:
        base = running.url
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with opener.open(base + "/admin/login/") as response:
            page = response.read().decode()
            assert response.status == 200
        assert "csrfmiddlewaretoken" in page
        assert "/static/admin/css/base." in page  # hashed name from the manifest
        with opener.open(base + "/admin/health/ready") as response:
            assert response.status == 200
            assert b'"database": "ok"' in response.read()
