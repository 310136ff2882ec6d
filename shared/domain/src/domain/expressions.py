"""SQL expressions the domain adds to the ORM."""

from __future__ import annotations

from django.contrib.postgres.aggregates.mixins import OrderableAggMixin
from django.db.models import Aggregate, Func, JSONField, TextField


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
