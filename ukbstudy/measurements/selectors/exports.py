"""The rows of a measurement export, for collaborators: reads only (``services.export_csv`` streams them as
CSV and records the export).

Long format: one row per measurement (eid, instance, scan: the scan's id, quantity, method, value, unit,
model_version: the model version's id, model_version_name: its "name@version", job, created). Wide format: one
row per scan, i.e. per participant and visit (eid, instance, scan), one column per quantity and method (the
value a report would use: current model version, else the newest). Cross-validation out-of-fold values never
share a column with a trained model's: they are ``quantity:network_oof``. Tidy format
(the collaborator file): one row per scan, i.e. per participant and visit (eid, instance), one column per
quantity and method (the current model version's value, or the one without a model version), and on request
the newest QC verdict, the reference values and the DXA covariates of that visit under their catalogue keys
(``ml.ukb.fields``), every number with the fixed decimal places of its unit (``DECIMALS``). Rows are produced
from database iterators in chunks (the tidy format merges a few streams sorted alike, never a query per row),
so memory stays constant however many subjects there are; withdrawn participants are never exported; text
cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage return) are escaped
with a quote.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import itemgetter

from django.db import NotSupportedError
from django.db.models import Case, CharField, Func, Q, QuerySet, Value, When

from ml.ukb.fields import FIELDS, FieldSpec
from ukbstudy.imaging.models import Scan
from ukbstudy.qc.selectors import scans_with_qc_status
from ukbstudy.showcase.models import CovariateValue, ReferenceValue

from ..models import Export, Measurement
from .measurements import in_preference_order, measurements_with_version_name

LONG_COLUMNS = ["eid", "instance", "scan", "quantity", "method", "value", "unit", "model_version",
                "model_version_name", "job", "created"]
OUT_OF_FOLD = Case(When(details__has_key="out_of_fold", then=Value("_oof")), default=Value(""),
                   output_field=CharField())  # the suffix of a method's out-of-fold column (frames.OUT_OF_FOLD)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FETCH = 5000  # rows per database round trip

# The collaborator file. (Export.Format names long and wide; the tidy layout is recorded as "tidy".)
TIDY = Export.Format.TIDY
LAYOUTS = tuple(Export.Format.values)
# Optional column groups of the tidy layout, in the order they appear after the measurements.
INCLUDE = ("qc_status", "reference", "covariates")
SHOWCASE_GROUPS: dict[str, tuple[FieldSpec, ...]] = {
    "reference": tuple(spec for spec in FIELDS if spec.kind == "reference"),  # liver_pdff_22402, ...
    "covariates": tuple(spec for spec in FIELDS if spec.kind == "covariate"),  # bmd_spine, ..., vat_mass
}
# Decimal places of the tidy file, per unit: finer than the instruments resolve, coarse enough to read.
# Fat fractions (%) to 0.01 point, bone density to 0.001 g/cm2, T-scores to 0.1 SD, masses to the gram,
# BMI to 0.1 kg/m2 (the showcase spells it "Kg/m2"). A unit not listed keeps every digit.
DECIMALS = {"%": 2, "g/cm2": 3, "Std.Devs": 1, "g": 0, "kg/m2": 1, "Kg/m2": 1}


@dataclass(frozen=True)
class ExportFilters:
    quantities: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    model_version: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    include: list[str] = field(default_factory=list)  # tidy layout: optional column groups (INCLUDE)

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
    """The header, then the data rows, of the long, the wide or the tidy format (``LAYOUTS``)."""
    return {Export.Format.LONG: long_rows, Export.Format.WIDE: wide_rows, TIDY: tidy_rows}[format](filters)


def long_rows(filters: ExportFilters) -> Iterator[list]:
    yield LONG_COLUMNS
    rows = measurements_with_version_name(_measurements(filters)).order_by(
        "subject__eid", "scan__instance", "scan__array_index", "scan_id", "quantity", "method", "created_at", "pk"
    ).annotate(created=IsoUtc("created_at")).values_list(
        "subject__eid", "scan__instance", "scan_id", "quantity", "method", "value", "unit", "model_version_id",
        "model_version_name", "job_id", "created")
    for (eid, instance, scan, quantity, method, value, unit, version, version_name, job,
         created) in rows.iterator(chunk_size=FETCH):
        yield [eid, instance, scan, _text(quantity), _text(method), value, _text(unit), version or "",
               _text(version_name), job or "", created]


def wide_rows(filters: ExportFilters) -> Iterator[list]:
    """One row per scan (eid, instance, scan); columns ``quantity:method`` in sorted order (out-of-fold values
    under ``quantity:network_oof``), empty where a scan has none."""
    measurements = _measurements(filters).annotate(oof=OUT_OF_FOLD)
    columns = sorted({f"{q}:{m}{oof}" for q, m, oof in measurements.order_by().values_list(
        "quantity", "method", "oof").distinct()})
    yield ["eid", "instance", "scan", *map(_text, columns)]
    ordered = in_preference_order(measurements, subject_key="subject__eid").order_by(
        *MEASUREMENT_SCAN_ORDER, "version_rank", "created_at", "pk")
    rows = ordered.values_list(*MEASUREMENT_SCAN_ORDER, "quantity", "method", "oof", "value")
    for (eid, instance, _, scan), group in itertools.groupby(rows.iterator(chunk_size=FETCH),
                                                            key=itemgetter(0, 1, 2, 3)):
        values = {f"{q}:{m}{oof}": value for *_, q, m, oof, value in group}  # later rows win (in_preference_order)
        yield [eid, instance, scan, *(values.get(c) for c in columns)]


def fixed(value: float | None, unit: str) -> str | float:
    """A number with the decimal places of its unit (``DECIMALS``; all of them for another unit), '' for none.
    A value that rounds to zero is written without a minus sign."""
    if value is None:
        return ""
    places = DECIMALS.get(unit)
    if places is None:
        return value
    text = f"{value:.{places}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def tidy_rows(filters: ExportFilters) -> Iterator[list]:
    """One row per scan of a participant who has not withdrawn (eid, instance order): eid, instance, then
    ``qc_status`` if asked for (the newest verdict, empty when not reviewed), one ``quantity:method`` column
    per exported pair, then the reference and covariate keys asked for, read at the scan's instance
    (``22402-3.0`` for a repeat visit's liver PDFF). Cells are empty where there is no value."""
    measurements = _tidy_measurements(filters).annotate(oof=OUT_OF_FOLD)
    columns = sorted({f"{q}:{m}{oof}" for q, m, oof in measurements.order_by().values_list(
        "quantity", "method", "oof").distinct()})
    with_qc = "qc_status" in filters.include
    specs = [spec for group, group_specs in SHOWCASE_GROUPS.items() if group in filters.include
             for spec in group_specs]
    yield ["eid", "instance", *(["qc_status"] if with_qc else []), *map(_text, columns), *(s.key for s in specs)]
    values = _Sorted(_scan_values(measurements))
    showcase = _Sorted(_subject_showcase(specs))
    for key, qc_status in _scans(with_qc):
        eid, instance = key[0], key[1]
        by_column, by_field = values.at(key) or {}, showcase.at(eid) or {}
        yield [eid, instance, *([_text(qc_status)] if with_qc else []), *(by_column.get(c, "") for c in columns),
               *(fixed(by_field.get(f"{s.field}-{instance}.0"), s.unit) for s in specs)]


class _Sorted:
    """A stream of (key, value) with ascending, distinct keys, read alongside another stream in the same order:
    ``at(key)`` skips what comes before ``key`` and returns its value (None if the stream has none). Asked
    again for the same key (a subject's second visit), it gives the same value."""

    def __init__(self, pairs: Iterable[tuple]):
        self._pairs = iter(pairs)
        self._next = next(self._pairs, None)

    def at(self, key):
        while self._next is not None and self._next[0] < key:
            self._next = next(self._pairs, None)
        return self._next[1] if self._next is not None and self._next[0] == key else None


def _tidy_measurements(filters: ExportFilters) -> QuerySet:
    """The exported measurements: of the model version asked for, else of the current one (or of none)."""
    measurements = _measurements(filters)
    if filters.model_version is None:
        measurements = measurements.filter(Q(model_version__isnull=True) | Q(model_version__is_current=True))
    return measurements


# A scan's key, the order of every tidy stream: as a scan's columns, and as a measurement's.
SCAN_ORDER = ("subject__eid", "instance", "array_index", "pk")
MEASUREMENT_SCAN_ORDER = ("subject__eid", "scan__instance", "scan__array_index", "scan_id")
SHOWCASE_MODELS = {"reference": ReferenceValue, "covariate": CovariateValue}


def _scans(with_qc: bool) -> Iterator[tuple[tuple, str | None]]:
    """((eid, instance, array_index, scan id), newest verdict or None) of every scan, in key order."""
    if not with_qc:
        rows = Scan.objects.order_by(*SCAN_ORDER).values_list(*SCAN_ORDER)
        return ((key, None) for key in rows.iterator(chunk_size=FETCH))
    rows = scans_with_qc_status(Scan.objects.all()).order_by(*SCAN_ORDER).values_list(*SCAN_ORDER, "qc_status")
    return ((row[:4], row[4]) for row in rows.iterator(chunk_size=FETCH))


def _scan_values(measurements: QuerySet) -> Iterator[tuple[tuple, dict]]:
    """(scan key, {quantity:method: formatted value}) per scan, in key order; a value with a model version
    wins over one without (both exist only if a manual value was stored beside a network's)."""
    versioned = Case(When(model_version__isnull=False, then=Value(1)), default=Value(0))
    rows = measurements.annotate(versioned=versioned).order_by(
        *MEASUREMENT_SCAN_ORDER, "versioned", "created_at", "pk").values_list(
        *MEASUREMENT_SCAN_ORDER, "quantity", "method", "oof", "value", "unit")
    for key, group in itertools.groupby(rows.iterator(chunk_size=FETCH), key=itemgetter(0, 1, 2, 3)):
        yield key, {f"{q}:{m}{oof}": fixed(value, unit) for *_, q, m, oof, value, unit in group}  # later rows win


def _subject_showcase(specs: list[FieldSpec]) -> Iterator[tuple[int, dict]]:
    """(eid, {field: value}) per subject with a value of ``specs`` at an imaging visit, in eid order: the
    reference and the covariate tables read side by side."""
    streams = []
    for kind, model in SHOWCASE_MODELS.items():
        fields = [f"{spec.field}-{instance}.0" for spec in specs if spec.kind == kind
                  for instance in Scan.Instance.values]
        if fields:
            rows = model.objects.filter(field__in=fields).order_by("subject__eid")
            streams.append(rows.values_list("subject__eid", "field", "value").iterator(chunk_size=FETCH))
    rows = heapq.merge(*streams, key=itemgetter(0))
    for eid, group in itertools.groupby(rows, key=itemgetter(0)):
        yield eid, {name: value for _, name, value in group}
