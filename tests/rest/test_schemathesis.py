"""Property-based fuzzing of the REST API against its own OpenAPI document (schemathesis, in
process over ASGI).

For every operation, valid and invalid requests are generated from ``/api/openapi.json`` and sent
as a signed-in normal user. The test proves that whatever is sent, the answer is never a 500, and
that its status code, content type, headers and body are the ones the document declares for it.

The budget is small by default (``FUZZ_EXAMPLES`` examples per operation, fixed seed): set
``FUZZ_EXAMPLES=500`` for a longer hunt.
"""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from domain.accounts.services import token_issue
from rest_api.main import app
from tests.factories import make_category, make_post

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# What the seeded objects are called, so that generated paths also reach existing ones.
SLUGS = {"posts": "fuzz-post", "categories": "fuzz-category", "tags": "fuzz-tag"}

schema = schemathesis.openapi.from_asgi(
    "/api/openapi.json",
    app,
    config=schemathesis.Config.from_dict(
        {
            "seed": 20240611,
            "generation": {"mode": "all", "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Half the slugs are a seeded object's, so operations get past their 404 too."""
    collection = context.operation.path.split("/")[3] if context.operation else ""
    if not path_parameters or "slug" not in path_parameters or collection not in SLUGS:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, "slug": SLUGS[collection]}])


def seed(user: Any) -> None:
    """The objects the seeded slugs name; recreated when an example deleted them."""
    from domain.blog.models import Category, Post

    if not Category.objects.filter(slug=SLUGS["categories"]).exists():
        make_category("Fuzz category")
    category = Category.objects.get(slug=SLUGS["categories"])
    if not Post.objects.filter(slug=SLUGS["posts"]).exists():
        make_post(user, "Fuzz post", category=category, tags=["Fuzz tag", "Other tag"])
    if not Post.objects.filter(slug="fuzz-draft").exists():
        make_post(user, "Fuzz draft", status="draft", tags=["Fuzz tag"])


@pytest.fixture
def seeded(user: Any) -> Any:
    seed(user)
    return user


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_answer_is_one_the_document_declares(case: schemathesis.Case, seeded: Any) -> None:
    """Each example gets a token of its own (``DELETE /auth/token`` revokes the one it was sent
    with) and finds the seeded objects again (a ``DELETE`` may have removed them). The token
    replaces whatever ``Authorization`` schemathesis generated from the security scheme, which
    would otherwise win and make most examples anonymous (401s are tested on their own)."""
    seed(seeded)
    token = token_issue(user=seeded).token
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = {**headers, "Authorization": f"Bearer {token}"}
    case.call_and_validate(checks=CHECKS)
