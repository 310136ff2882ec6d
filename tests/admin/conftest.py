from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests import factories


@pytest.fixture
def superuser(db: Any) -> Any:
    return factories.make_user(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(superuser: Any) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def staff_client(db: Any) -> Any:
    """``staff_client("blog.change_post", ...)``: a client signed in as a new staff member
    holding exactly these permissions; the user is ``client.user``."""

    def make(*perms: str, username: str = "staff") -> Client:
        client = Client()
        client.user = factories.make_user(username=username, is_staff=True, perms=perms)
        client.force_login(client.user)
        return client

    return make
