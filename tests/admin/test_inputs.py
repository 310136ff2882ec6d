"""The admin refuses input that is not text PostgreSQL can take with a 400, never a 500."""

from __future__ import annotations

import pytest
from django.db import DataError
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from domain import inputs
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def refused(response: HttpResponse) -> bool:
    return response.status_code == 400 and inputs.NOT_TEXT in response.content.decode()


@pytest.mark.parametrize("changelist", ["blog_post", "blog_comment", "accounts_apitoken"])
@pytest.mark.parametrize("query", ["q=%00", "q=a%00b", "q=%ff", "q=%ED%A0%80", "%ff=1"])
def test_a_search_that_is_not_text_is_a_400(admin_client: Client, changelist, query):
    make_post(make_user())
    url = reverse(f"admin:{changelist}_changelist")
    assert refused(admin_client.get(f"{url}?{query}"))
    assert admin_client.get(f"{url}?q=caf%C3%A9").status_code == 200


def test_a_path_that_is_not_text_is_a_400(admin_client: Client):
    assert refused(admin_client.get("/admin/blog/post/%00/change/"))
    assert refused(admin_client.get("/admin/blog/post/%ff/change/"))


def test_a_form_body_that_is_not_text_is_a_400():
    client = Client()
    for body in ("username=admin%00&password=x", "username=%ff&password=x"):
        response = client.post(
            reverse("admin:login"), body, content_type="application/x-www-form-urlencoded"
        )
        assert refused(response)


def test_the_drivers_refusal_of_a_nul_is_a_400_wherever_it_comes_from():
    """The last line of defence, for text that got past the checks (a multipart body)."""
    from admin_site.middleware import UndecodableInputMiddleware

    middleware = UndecodableInputMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/admin/")
    nul = DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    assert refused(middleware.process_exception(request, nul))
    assert middleware.process_exception(request, DataError("division by zero")) is None
