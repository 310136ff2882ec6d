"""SQL expressions the domain adds to the ORM."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.aggregates.mixins import OrderableAggMixin
from django.db.models import Aggregate, CharField, Expression, Func, JSONField, TextField
from psycopg import sql


class JSONBuildArray(Func):
    """``json_build_array(a, b, ...)``. Django's ``JSONArray`` builds ``jsonb`` on PostgreSQL 16
    and later (``JSON_ARRAY(... RETURNING JSONB)``), which costs more to aggregate and print."""

    function = "JSON_BUILD_ARRAY"
    output_field = JSONField()


class JSONTextAgg(OrderableAggMixin, Aggregate):
    """``json_agg(expression ORDER BY ...)`` as text, for the caller to decode straight into its
    read models (msgspec), rather than psycopg parsing the JSON into dicts first."""

    function = "JSON_AGG"
    template = "%(function)s(%(distinct)s%(expressions)s %(order_by)s)::text"
    output_field = TextField()


class Constant(Expression):
    """A string the code names, written into the statement as a literal instead of being sent as
    a parameter.

    For a value a partial index's predicate names. The domain's statements are prepared, and
    PostgreSQL plans a prepared statement either for each execution's parameters (a custom plan:
    planning again every time) or once for any parameters (a generic plan). Given
    ``status = $1``, the generic plan cannot use an index whose predicate is
    ``status = 'published'``, so it scans and sorts, and PostgreSQL keeps re-planning instead:
    for the post list that planning was half of PostgreSQL's time per page. With the literal, the
    generic plan uses the index and is made once per connection. Never for input: a literal is
    a different statement per value.
    """

    def __init__(self, value: str) -> None:
        super().__init__(output_field=CharField())
        self.value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        # psycopg's quoting for a server with standard_conforming_strings on (the default
        # since PostgreSQL 9.1); the values are constants of the code, never input.
        return sql.quote(self.value), []
