"""The OpenAPI document: FastAPI's, plus the problem-details schema that error responses name.

Error responses are declared with ``application/problem+json`` content that refers to
``#/components/schemas/Problem`` (:func:`rest_api.problems.problem_responses`); FastAPI would
file a ``model=`` under ``application/json`` instead, so the schema is added here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from rest_api.schemas.problems import Problem

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
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
