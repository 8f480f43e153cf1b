"""The rows of a measurement export, for collaborators: reads only (``services.export_csv`` streams them as
CSV and records the export).

Long format: one row per measurement (eid, quantity, method, value, unit, model_version: the model version's
id, model_version_name: its "name@version", job, created). Wide format: one row per subject, one column per
quantity and method (the value a report would use: first visit, current model version, newest). Rows are
produced from database iterators in chunks, so memory stays constant however many subjects there are;
withdrawn participants are never exported; text cells that a spreadsheet would run as a formula (starting
with = + - @, tab or carriage return) are escaped with a quote.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache

from django.db import NotSupportedError
from django.db.models import CharField, Func, QuerySet

from ..models import Export, Measurement
from .measurements import in_preference_order, measurements_with_version_name

LONG_COLUMNS = ["eid", "quantity", "method", "value", "unit", "model_version", "model_version_name", "job",
                "created"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FETCH = 5000  # rows per database round trip


@dataclass(frozen=True)
class ExportFilters:
    quantities: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    model_version: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items() if v}


def escape_cell(value) -> str:
    """A CSV cell; text a spreadsheet would evaluate gets a leading quote (numbers stay numbers)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_START) else text


@lru_cache(maxsize=4096)
def _text(value: str | None) -> str:
    """escape_cell for a text column (the only cells that can start a formula): numbers skip the check. Text
    columns repeat (a handful of quantities, methods, units and model versions), so results are memoised."""
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_START) else value


class IsoUtc(Func):
    """A timestamp as ISO 8601 text in UTC, as ``datetime.isoformat()`` writes it (microseconds only when not
    zero, ``+00:00``), made by the database: parsing and formatting half a million datetimes in Python took
    half the export's time."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"IsoUtc has no SQL for {connection.vendor}")

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores aware datetimes in SQLite as UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]".
        return self.as_sql_template(compiler, connection, "(REPLACE(%(expressions)s, ' ', 'T') || '+00:00')")

    def as_postgresql(self, compiler, connection, **extra):
        template = ("(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
                    "MOD(EXTRACT(MICROSECONDS FROM %(expressions)s)::bigint, 1000000) = 0 THEN '' "
                    "ELSE to_char(%(expressions)s AT TIME ZONE 'UTC', '.US') END || '+00:00')")
        return self.as_sql_template(compiler, connection, template)

    def as_sql_template(self, compiler, connection, template: str):
        return super().as_sql(compiler, connection, template=template)


def _measurements(filters: ExportFilters) -> QuerySet:
    rows = Measurement.objects.all()
    if filters.quantities:
        rows = rows.filter(quantity__in=filters.quantities)
    if filters.methods:
        rows = rows.filter(method__in=filters.methods)
    if filters.model_version:
        rows = rows.filter(model_version_id=filters.model_version)
    if filters.created_after:
        rows = rows.filter(created_at__gte=filters.created_after)
    if filters.created_before:
        rows = rows.filter(created_at__lt=filters.created_before)
    return rows


def export_rows(*, format: str, filters: ExportFilters) -> Iterator[list]:
    """The header, then the data rows, of the long or the wide format (``Export.Format``)."""
    return long_rows(filters) if format == Export.Format.LONG else wide_rows(filters)


def long_rows(filters: ExportFilters) -> Iterator[list]:
    yield LONG_COLUMNS
    rows = measurements_with_version_name(_measurements(filters)).order_by(
        "subject__eid", "quantity", "method", "created_at", "pk").annotate(created=IsoUtc("created_at")).values_list(
        "subject__eid", "quantity", "method", "value", "unit", "model_version_id", "model_version_name", "job_id",
        "created")
    for eid, quantity, method, value, unit, version, version_name, job, created in rows.iterator(chunk_size=FETCH):
        yield [eid, _text(quantity), _text(method), value, _text(unit), version or "", _text(version_name),
               job or "", created]


def wide_rows(filters: ExportFilters) -> Iterator[list]:
    """One row per subject; columns ``quantity:method`` in sorted order, empty where a subject has none."""
    measurements = _measurements(filters)
    columns = sorted({f"{q}:{m}" for q, m in measurements.order_by().values_list("quantity", "method").distinct()})
    yield ["eid", *map(_text, columns)]
    ordered = in_preference_order(measurements, subject_key="subject__eid")
    current_eid, values = None, {}
    for eid, quantity, method, value in ordered.values_list("subject__eid", "quantity", "method", "value").iterator(
            chunk_size=FETCH):
        if eid != current_eid and current_eid is not None:
            yield [current_eid, *(values.get(c) for c in columns)]
            values = {}
        current_eid = eid
        values[f"{quantity}:{method}"] = value  # later rows win (in_preference_order)
    if current_eid is not None:
        yield [current_eid, *(values.get(c) for c in columns)]
