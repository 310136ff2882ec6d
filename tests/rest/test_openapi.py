"""The OpenAPI document is valid, documents every route with its errors as problem details, and
the interactive docs load it from the prefixed URL the gateway serves."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from openapi_spec_validator import validate

from domain import inputs

pytestmark = pytest.mark.django_db(transaction=True)

PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture
def schema(app):
    return app.openapi()


def test_the_schema_is_valid_openapi(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.1")


def test_every_route_is_documented(app, schema):
    documented = {
        (path, method.upper())
        for path, operations in schema["paths"].items()
        for method in operations
    }
    routes = {
        (route.path, method)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and route.original_route.include_in_schema
        for method in route.methods
    }
    assert routes == documented
    assert len(documented) == 21
    assert not [path for path, _ in documented if "/health/" in path], "not behind the gateway"


def test_every_error_response_is_a_problem(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert response["content"] == {
                        "application/problem+json": {"schema": PROBLEM}
                    }, (method, path, status)
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_every_operation_declares_the_gateways_429(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            response = operation["responses"]["429"]
            assert response["content"] == {"application/problem+json": {"schema": PROBLEM}}
            assert "Retry-After" in response["headers"], (method, path)


def test_api_routes_declare_the_bearer_scheme(schema):
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/me"]["get"]["security"] == [{"HTTPBearer": []}]


def test_reads_document_their_etags(schema):
    responses = schema["paths"]["/api/v1/posts/{slug}"]["get"]["responses"]
    assert "ETag" in responses["200"]["headers"]
    assert "304" in responses


async def test_the_docs_page_loads_the_prefixed_schema(client):
    response = await client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "'/api/openapi.json'" in response.text or '"/api/openapi.json"' in response.text
    assert (await client.get("/api/openapi.json")).json()["info"]["title"]


async def test_the_docs_page_needs_no_cdn(client):
    """Swagger UI's files come from this service, so the page works on a closed network."""
    page = (await client.get("/api/docs")).text
    assert "cdn." not in page
    for asset in ("/api/docs/assets/swagger-ui-bundle.js", "/api/docs/assets/swagger-ui.css"):
        assert asset in page
        response = await client.get(asset)
        assert response.status_code == 200
        assert len(response.content) > 100_000
    assert (await client.get("/api/docs/oauth2-redirect")).status_code == 200


def test_every_path_parameter_is_a_bounded_slug(schema):
    """Path parameters are slugs, refused (422) when no row's could be that long: each route
    declares it, and this finds one that does not."""
    parameters = [
        (path, parameter)
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    ]
    assert parameters
    for path, parameter in parameters:
        assert parameter["schema"] == {
            "type": "string",
            "maxLength": inputs.SLUG_MAX_LENGTH,
            "title": parameter["schema"].get("title"),
        }, path
