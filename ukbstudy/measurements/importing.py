"""Import of measurements a lab already has (another application's returned data, an earlier pipeline).

A CSV with a header and the columns ``eid,instance,quantity,method,value`` and optionally ``unit``, in any
order (UTF-8, with or without a byte-order mark). ``quantity`` is one of the study's quantities, ``instance``
an imaging visit (2 or 3), ``value`` a fat fraction in % (0 to 100; ``unit``, when given, must say ``%``:
nothing is converted). ``method`` is the lab's label for where the values came from (``imported``,
``lab_v1``), never one of the app's own methods, which carry a model version, a run or a reviewer.

Each value hangs off the one scan (field 20201) of its participant's visit, so the scans are imported
first. The whole file is checked before anything is written, and every problem is named by line and
column; a clean file is written in one transaction, with an import batch as provenance (file name, SHA-256,
who imported it) and the file's line in each value's details. Importing the same file again writes
nothing and records no batch; a file that changes a value updates that value (under a new batch). Rows of
withdrawn participants are skipped and counted.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from django.db import transaction

from ml.ukb import protocol
from ml.ukb.fields import FIELD_BY_KEY
from ml.ukb.showcase import EID_PATTERN, MAX_EID, MAX_REPORTED_ERRORS, NUMBER_PATTERN
from ukbstudy.imaging.models import Scan
from ukbstudy.subjects import csv_files
from ukbstudy.subjects.models import ImportBatch, Subject

from .models import METHOD_TOKEN_PATTERN, Measurement, Method, Quantity
from .selectors.frames import ATTRIBUTES, OUT_OF_FOLD

logger = logging.getLogger(__name__)

COLUMNS = ("eid", "instance", "quantity", "method", "value", "unit")
REQUIRED_COLUMNS = ("eid", "instance", "quantity", "method", "value")
UNIT = "%"
VALUE_RANGE = (0.0, 100.0)  # every quantity is a fat fraction, in percent
SUGGESTED_METHOD = "imported"

_METHOD = re.compile(METHOD_TOKEN_PATTERN)


class MeasurementImportError(Exception):
    """The file cannot be imported; ``errors`` names every problem (line and column). Nothing was written."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s):\n" + "\n".join(self.reported))

    @property
    def reported(self) -> list[str]:
        """The first problems and how many more: a file wrong throughout would otherwise fill pages."""
        more = len(self.errors) - MAX_REPORTED_ERRORS
        return self.errors[:MAX_REPORTED_ERRORS] + ([f"... and {more} more"] if more > 0 else [])

    def __reduce__(self):  # picklable, so a Celery worker can report it
        return (type(self), (self.errors,))


@dataclass
class MeasurementImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0  # values the file changes (a newer delivery of the same values)
    unchanged: int = 0  # values already stored as the file gives them (an earlier import of the file)
    withdrawn_skipped: int = 0
    batch_id: int | None = None  # None when nothing was written

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Row:
    line: int
    eid: int
    instance: int
    quantity: str
    method: str
    value: float
    unit: str


@dataclass(frozen=True)
class _Source:
    name: str  # as given: the path, or the uploaded file's name
    sha256: str

    @property
    def file(self) -> str:
        return Path(self.name).name


def measurements_import(*, path_or_file: str | Path | IO, imported_by=None) -> MeasurementImportReport:
    """Import the measurements CSV (a path or an open file); raises MeasurementImportError, writing nothing,
    on any problem in the file."""
    source, text = _read(path_or_file)
    rows, problems = csv_files.parse_rows(text, columns=COLUMNS, required=REQUIRED_COLUMNS, row=_parse_row,
                                          what="measurements", error=MeasurementImportError,
                                          unknown_hint="; remove other columns")
    problems += _duplicates(rows)
    scans, withdrawn = _resolve(rows, problems)
    csv_files.raise_if_any(problems, error=MeasurementImportError)
    report = MeasurementImportReport(rows=len(rows))
    rows = [row for row in rows if row.eid not in withdrawn]
    report.withdrawn_skipped = report.rows - len(rows)
    with transaction.atomic():
        _write(rows, scans, source=source, imported_by=imported_by, report=report)
    logger.info("Measurement import of %s by %s: %s rows, %s created, %s updated, %s unchanged, %s withdrawn "
                "skipped", source.file, imported_by.get_username() if imported_by else "command line", report.rows,
                report.created, report.updated, report.unchanged, report.withdrawn_skipped)
    return report


# Reading and checking cells ------------------------------------------------------------------------------

def _read(path_or_file: str | Path | IO) -> tuple[_Source, str]:
    name, data = csv_files.read_file(path_or_file, error=MeasurementImportError)
    data = data.encode() if isinstance(data, str) else data
    text = csv_files.decode(data, error=MeasurementImportError)
    return _Source(name=str(name), sha256=hashlib.sha256(data).hexdigest()), text


def _parse_row(line: int, header: list[str], cells: list[str], problems: list) -> _Row | None:
    values = csv_files.parse_cells(line, header, cells, problems, columns=COLUMNS, parsers=_CELLS)
    return None if values is None else _Row(line=line, **values)


def _required(value: str) -> str:
    if not value:
        raise ValueError("is empty")
    return value


def _eid(value: str) -> int:
    if not EID_PATTERN.match(_required(value)) or not 0 < int(value) <= MAX_EID:
        raise ValueError(f"{value!r} is not an eid")
    return int(value)


def _instance(value: str) -> int:
    if _required(value) not in {str(n) for n in protocol.IMAGING_INSTANCES}:
        raise ValueError(f"{value!r} is not an imaging visit ({', '.join(map(str, protocol.IMAGING_INSTANCES))})")
    return int(value)


def _quantity(value: str) -> str:
    if _required(value).lower() not in Quantity.values:
        raise ValueError(f"{value!r} is not a known quantity ({', '.join(Quantity.values)})")
    return value.lower()


# Column names of scan_frame a label would be read as (or hidden behind).
RESERVED_LABELS = frozenset({*ATTRIBUTES, "reference", "scan", "eid", "instance", *FIELD_BY_KEY})


def _method(value: str) -> str:
    if _required(value) in Method.values:
        raise ValueError(f"{value!r} is one of the app's own methods (its values carry a model version, a run or "
                         f"a reviewer); choose another label, such as {SUGGESTED_METHOD!r}")
    if value.endswith(OUT_OF_FOLD) or value in RESERVED_LABELS:
        raise ValueError(f"{value!r} names another column of reports and exports (a visit attribute, the "
                         f"reference, a covariate or an out-of-fold column, ..._oof); choose another label, such "
                         f"as {SUGGESTED_METHOD!r}")
    if not _METHOD.match(value):
        raise ValueError(f"{value!r} is not a method label (lowercase letters, digits and _, a letter first, at "
                         f"most 16 characters, e.g. {SUGGESTED_METHOD!r})")
    return value


def _value(value: str) -> float:
    number = float(value) if NUMBER_PATTERN.match(_required(value)) else math.nan
    low, high = VALUE_RANGE
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a number")
    if not low <= number <= high:
        raise ValueError(f"{value} is outside {low:g}-{high:g} (every quantity is a fat fraction in %)")
    return number


def _unit(value: str) -> str:
    if value not in ("", UNIT):
        raise ValueError(f"{value!r} is not {UNIT!r}: values are fat fractions in % and are not converted; give "
                         f"them in % (or leave the column out)")
    return UNIT


_CELLS: dict[str, Callable[[str], object]] = {
    "eid": _eid, "instance": _instance, "quantity": _quantity, "method": _method, "value": _value, "unit": _unit,
}


# Checking the rows against each other and the study -----------------------------------------------------

def _duplicates(rows: list[_Row]) -> list[tuple[int, str]]:
    first: dict[tuple, int] = {}
    problems = []
    for row in rows:
        key = (row.eid, row.instance, row.quantity, row.method)
        if key in first:
            problems.append((row.line, f"line {row.line}: the same eid, instance, quantity and method as line "
                                       f"{first[key]} ({row.eid}, {row.instance}, {row.quantity}, {row.method})"))
        first.setdefault(key, row.line)
    return problems


def _resolve(rows: list[_Row], problems: list) -> tuple[dict[tuple[int, int], tuple[int, int]], set[int]]:
    """(eid, instance) -> (scan id, subject id) of visits with exactly one scan, and the withdrawn eids; a
    problem for every row whose participant is unknown or whose visit has no scan, or several."""
    subjects: dict[int, bool] = {}
    found: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for eids in _chunks({row.eid for row in rows}):
        subjects.update(Subject.all_objects.filter(eid__in=eids).values_list("eid", "withdrawn"))
        for eid, instance, scan_id, subject_id in Scan.all_objects.filter(
                subject__eid__in=eids, field_id=protocol.FIELD_ID).values_list("subject__eid", "instance", "pk",
                                                                              "subject_id"):
            found.setdefault((eid, instance), []).append((scan_id, subject_id))
    for row in rows:
        if row.eid not in subjects:
            problems.append((row.line, f"line {row.line}, column eid: no participant with eid {row.eid} in the study "
                                       "(import the participants and their scans first)"))
        elif not subjects[row.eid]:
            problems.extend(_scan_problem(row, len(found.get((row.eid, row.instance), []))))
    return ({key: scans[0] for key, scans in found.items() if len(scans) == 1},
            {eid for eid, withdrawn in subjects.items() if withdrawn})


def _chunks(values: set[int], size: int = 5000):
    """``values`` in ascending order, ``size`` at a time: id lists every database takes in one query."""
    ordered = sorted(values)
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


def _scan_problem(row: _Row, scans: int) -> list[tuple[int, str]]:
    where = f"line {row.line}, column instance: participant {row.eid}"
    if scans == 0:
        return [(row.line, f"{where} has no scan (field {protocol.FIELD_ID}) of instance {row.instance} imported "
                           "yet; import its archive first")]
    if scans > 1:
        return [(row.line, f"{where} has {scans} scans (field {protocol.FIELD_ID}) of instance {row.instance}; "
                           "the value cannot be assigned to one")]
    return []


# Writing -------------------------------------------------------------------------------------------------

def _write(rows: list[_Row], scans: dict, *, source: _Source, imported_by, report: MeasurementImportReport) -> None:
    """Create or update each row's value, all under one new batch; nothing (no batch) when every value is
    already stored as given. Runs inside the import's transaction."""
    methods = {row.method for row in rows}
    existing = {}
    for scan_ids in _chunks({scans[(row.eid, row.instance)][0] for row in rows}):
        # Locked, so two imports of the same file at once take turns instead of meeting the unique constraint.
        list(Scan.all_objects.select_for_update().filter(pk__in=scan_ids).values_list("pk", flat=True))
        existing.update({(m.scan_id, m.quantity, m.method): m for m in Measurement.all_objects.filter(
            scan_id__in=scan_ids, model_version__isnull=True, method__in=methods)})
    create, update = [], []
    for row in rows:
        scan_id, subject_id = scans[(row.eid, row.instance)]
        current = existing.get((scan_id, row.quantity, row.method))
        if current is None:
            create.append((row, Measurement(subject_id=subject_id, scan_id=scan_id, quantity=row.quantity,
                                            method=row.method, value=row.value, unit=row.unit)))
        elif (current.value, current.unit) != (row.value, row.unit):
            current.value, current.unit = row.value, row.unit
            update.append((row, current))
    report.created, report.updated = len(create), len(update)
    report.unchanged = len(rows) - len(create) - len(update)
    if create or update:
        report.batch_id = _save(create, update, source=source, imported_by=imported_by, report=report)


def _save(create: list[tuple[_Row, Measurement]], update: list[tuple[_Row, Measurement]], *, source: _Source,
          imported_by, report: MeasurementImportReport) -> int:
    batch = ImportBatch.objects.create(
        kind=ImportBatch.Kind.MEASUREMENTS, source=source.name, source_sha256=source.sha256, created_by=imported_by,
        summary={k: v for k, v in report.as_dict().items() if k != "batch_id"})
    for row, measurement in create + update:
        measurement.import_batch = batch
        measurement.details = {"file": source.file, "line": row.line}
    Measurement.all_objects.bulk_create([m for _, m in create], batch_size=1000)
    Measurement.all_objects.bulk_update([m for _, m in update], ["value", "unit", "import_batch", "details"],
                                        batch_size=1000)
    return batch.pk
