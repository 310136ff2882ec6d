from __future__ import annotations

from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError

from domain import inputs
from domain.pagination import Page as DomainPage

ItemT = TypeVar("ItemT")


class Output(BaseModel):
    """A response body, read from a domain record's attributes."""

    model_config = ConfigDict(from_attributes=True)


def storable_text(value: Any) -> Any:
    """Refuse text that PostgreSQL cannot take (a NUL, an unpaired surrogate), anywhere in a
    field's value: :func:`domain.inputs.text_problem` is the rule."""
    secret = value.get_secret_value() if isinstance(value, SecretStr) else value
    for text in inputs.strings(secret):
        if problem := inputs.text_problem(text):
            raise PydanticCustomError("unstorable_text", problem)
    return value


class Input(BaseModel):
    """A request body. Unknown fields are refused, so a misspelt field is an error, not a no-op;
    so is text that cannot be stored."""

    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*")(storable_text)


class Changes(Input):
    """A PUT or PATCH body. Fields typed ``X | MISSING`` may be left out: they are then not
    changed, which is different from being sent as null."""

    def as_update(self) -> dict[str, Any]:
        """Keyword arguments for the domain's ``*_update`` service: the fields sent, and only
        those; ``slug`` becomes ``new_slug`` (a slug changes only when asked to)."""
        changes = self.model_dump()
        if "slug" in changes:
            changes["new_slug"] = changes.pop("slug")
        return changes


class Page(Output, Generic[ItemT]):
    items: list[ItemT]
    next: str | None = Field(
        description="Relative URL of the next page (same filters, with its cursor); "
        "null on the last page."
    )

    @classmethod
    def of(cls, page: DomainPage[Any], next: str | None) -> Self:
        return cls.model_validate({"items": page.items, "next": next}, from_attributes=True)


class QueryParams(BaseModel):
    """Query parameters. Unknown ones are refused, like unknown body fields, and so is text that
    cannot be stored."""

    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*")(storable_text)


class LimitQuery(QueryParams):
    limit: int | None = Field(
        default=None,
        ge=1,
        le=inputs.page_size_max(),
        description=f"Page size, 1 to {inputs.page_size_max()} "
        f"(default {inputs.page_size_default()}).",
    )


class PageQuery(LimitQuery):
    cursor: str | None = Field(
        default=None,
        max_length=inputs.CURSOR_MAX_LENGTH,
        description="From a previous page's `next` link.",
    )
