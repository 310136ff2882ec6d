"""The admin's request middleware: its access log counts the request's SQL statements, and the
same query log (domain.db.track_queries) sees the round trips around them."""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from domain import db

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_page_reports_its_statements_and_round_trips(admin_client, caplog):
    connection.close()  # as after the previous request under gunicorn
    with caplog.at_level(logging.INFO), db.track_queries() as log:
        response = admin_client.get("/admin/blog/post/")
    assert response.status_code == 200
    assert log.count > 0
    assert log.checkouts == 1
    assert log.round_trips >= log.count
    [line] = [r for r in caplog.records if getattr(r, "path", None) == "/admin/blog/post/"]
    assert line.db_queries == log.count
