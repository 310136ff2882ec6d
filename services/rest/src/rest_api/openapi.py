"""The OpenAPI document and the interactive docs.

The document is FastAPI's, plus the problem-details schema that error responses name: they are
declared with ``application/problem+json`` content that refers to
``#/components/schemas/Problem`` (:func:`rest_api.problems.problem_responses`); FastAPI would
file a ``model=`` under ``application/json`` instead, so the schema is added here. The gateway
can answer any request with 429 before it reaches this service (deploy/nginx: requests in progress
per address, and rates for logins and GraphQL), so every operation declares it.

The docs page serves Swagger UI's files itself (from the ``fastapi-swagger`` package) instead of
FastAPI's default CDN: ``/api/docs`` must work behind the gateway on networks that reach no CDN.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema

from rest_api.problems import problem_responses
from rest_api.schemas.problems import Problem

DOCS_URL = "/api/docs"
OAUTH2_REDIRECT_URL = "/api/docs/oauth2-redirect"
ASSETS_URL = "/api/docs/assets"
SWAGGER_UI_FILES = files("fastapi_swagger") / "resources"

DESCRIPTION = """\
The Fast Django blog over HTTP. Send `Authorization: Bearer <token>` (a token from
`POST /api/v1/auth/token`) to act as a user. Every error is an RFC 9457 problem document
(`application/problem+json`). Lists are keyset-paginated: follow `next`. Reads carry an `ETag`;
send it back in `If-None-Match` to get `304 Not Modified`.
"""


def _problem_schemas() -> dict[str, Any]:
    _, schema = models_json_schema(
        [(Problem, "serialization")], ref_template="#/components/schemas/{model}"
    )
    return schema["$defs"]


RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 0},
}


def _declare_rate_limits(schema: dict[str, Any]) -> None:
    (too_many,) = problem_responses(429).values()
    for operations in schema["paths"].values():
        for operation in operations.values():
            response = operation["responses"].setdefault("429", dict(too_many))
            response["headers"] = {**response.get("headers", {}), "Retry-After": RETRY_AFTER}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_problem_schemas())
            _declare_rate_limits(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    _install_docs(app)


def _install_docs(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=str(SWAGGER_UI_FILES)), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=str(app.openapi_url),
            title=f"{app.title} - docs",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
