from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FieldError(BaseModel):
    field: str | None = Field(
        description="The failing field: a body field (dotted for nested ones, e.g. `tags.2`), "
        "a query parameter or a header; null when the error concerns the request as a whole.",
        examples=["title"],
    )
    message: str = Field(examples=["This field cannot be blank."])


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Unprocessable Content",
                    "status": 422,
                    "detail": "The input is not valid.",
                    "code": "invalid",
                    "request_id": "4f1c2a9e0b7d4c1e9a3b5d7f6e8c0a12",
                    "errors": [{"field": "title", "message": "This field cannot be blank."}],
                }
            ]
        }
    )

    type: str = Field(
        default="about:blank",
        description="Always `about:blank`: the status and `code` say what happened.",
    )
    title: str = Field(description="The HTTP status phrase.", examples=["Not Found"])
    status: int = Field(description="The HTTP status code, repeated.", examples=[404])
    detail: str = Field(description="What went wrong, for people.")
    code: str = Field(
        description="What went wrong, for programs: `not_authenticated`, `permission_denied`, "
        "`not_found`, `conflict`, `invalid`, `malformed_json`, `rate_limited`, `unavailable`, …",
        examples=["not_found"],
    )
    request_id: str | None = Field(
        default=None, description="The request's ID (also in the `X-Request-ID` header)."
    )
    errors: list[FieldError] | None = Field(
        default=None, description="The failing fields; only on 422."
    )
