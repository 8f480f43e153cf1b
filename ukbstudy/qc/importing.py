"""Bulk import of visual QC decisions from a CSV file, for labs that kept their QC in spreadsheets.

Columns ``eid,instance,verdict,reason,note,rater,decided_at,confidence,seconds_spent``: ``eid``, ``verdict``
and ``rater`` (the username of an existing user) are required; ``instance`` defaults to 2 (the first imaging
visit) and ``decided_at`` (ISO 8601, read as UTC when it names no offset) to the time of the import; the
rater's ``confidence`` (1 unsure to 5 certain) and ``seconds_spent`` deciding are optional, as on the review
page (a time over the cap is recorded as the cap).

The whole file is checked first and every bad cell is named by line and column; only a clean file is
written, in one transaction. Decisions are only ever added: each new row's ``previous_verdict`` comes from
replaying the scan's decisions (those already recorded and those in the file) in time order, and the
rules of every decision hold (``services.qc_decision_problems``: a fail needs a reason; changing a verdict
needs a reason or note), each broken one named by the row's line and the column it concerns.
Importing a file again changes nothing: a row identical to a recorded decision (scan, rater, time,
verdict, reason, note) is skipped, and so is an undated row that repeats its rater's newest decision on
the scan. A row dated before decisions already recorded leaves their previous verdicts as they are (history
is never rewritten). Rows of withdrawn participants are skipped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ml.ukb import protocol
from ukbstudy.imaging.models import Scan
from ukbstudy.subjects import csv_files
from ukbstudy.subjects.models import Subject

from .models import CONFIDENCE_RANGE, QCDecision, Reason, Verdict
from .services import qc_decision_problems, qc_raters_refresh, qc_seconds_capped

logger = logging.getLogger(__name__)

COLUMNS = ("eid", "instance", "verdict", "reason", "note", "rater", "decided_at", "confidence", "seconds_spent")
REQUIRED_COLUMNS = ("eid", "verdict", "rater")
DEFAULT_INSTANCE = 2


class QCImportError(Exception):
    """The file cannot be imported; ``errors`` names every problem (line and column). Nothing was written."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s): " + "; ".join(errors))


@dataclass
class QCImportReport:
    rows: int = 0
    created: int = 0
    unchanged: int = 0  # rows already recorded (an earlier import of the same file)
    withdrawn_skipped: int = 0
    imported_by: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Row:
    line: int
    eid: int
    instance: int
    verdict: str
    reason: str
    note: str
    rater: str
    decided_at: datetime | None
    confidence: int | None
    seconds_spent: float | None


def qc_decisions_import(*, path_or_file: str | Path | IO, imported_by=None) -> QCImportReport:
    """Import the QC CSV (a path or an open file); raises QCImportError, writing nothing, on any bad cell.

    The rows are past decisions, so review locks (which guard live reviewing) do not stop them; a rater
    holding one of these scans simply finds its rating count updated when they save."""
    _, data = csv_files.read_file(path_or_file, error=QCImportError)
    text = csv_files.decode(data, error=QCImportError)
    rows, problems = csv_files.parse_rows(text, columns=COLUMNS, required=REQUIRED_COLUMNS, row=_parse_row,
                                          what="decisions", error=QCImportError)
    scans, raters, withdrawn = _resolve(rows, problems)
    csv_files.raise_if_any(problems, error=QCImportError)
    report = QCImportReport(rows=len(rows), imported_by=imported_by.get_username() if imported_by else "")
    rows = [row for row in rows if row.eid not in withdrawn]
    report.withdrawn_skipped = report.rows - len(rows)
    with transaction.atomic():
        new = _plan(rows, scans, raters, now=timezone.now(), report=report)
        QCDecision.all_objects.bulk_create(new, batch_size=1000)
        qc_raters_refresh(scan_ids=sorted({d.scan_id for d in new}))  # the queue's per-scan rater counts
    report.created = len(new)
    logger.info("QC import by %s: %s rows, %s created, %s unchanged, %s withdrawn skipped",
                report.imported_by or "command line", report.rows, report.created, report.unchanged,
                report.withdrawn_skipped)
    return report


# Checking cells ------------------------------------------------------------------------------------------

def _parse_row(line: int, header: list[str], cells: list[str], problems: list) -> _Row | None:
    values = csv_files.parse_cells(line, header, cells, problems, columns=COLUMNS, parsers=_CELLS)
    if values is None:
        return None
    broken = qc_decision_problems(verdict=values["verdict"], reason=values["reason"])  # before any history
    if broken:
        problems.extend(_named(line, broken))
        return None
    return _Row(line=line, **values)


def _named(line: int, broken: dict[str, str]) -> list[tuple[int, str]]:
    """A service's rule violations ({field: message}) as problems naming the row's line and column."""
    return [(line, f"line {line}, column {field}: {message}") for field, message in broken.items()]


def _text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _required(value: str) -> str:
    if not _text(value):
        raise ValueError("is empty")
    return value


def _eid(value: str) -> int:
    if not (_required(value).isascii() and value.isdigit()) or int(value) == 0 or len(value) > 10:
        raise ValueError(f"{value!r} is not an eid")
    return int(value)


def _instance(value: str) -> int:
    if not value:
        return DEFAULT_INSTANCE
    if value not in {str(n) for n in protocol.IMAGING_INSTANCES}:
        raise ValueError(f"{value!r} is not an imaging visit ({', '.join(map(str, protocol.IMAGING_INSTANCES))})")
    return int(value)


def _choice(choices: list[str], what: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if _text(value).lower() not in choices:
            raise ValueError(f"{value!r} is not a known {what} ({', '.join(c for c in choices if c)})")
        return value.lower()
    return parse


def _decided_at(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(_text(value))
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{value!r} is not an ISO 8601 date and time (e.g. 2024-05-01T14:30:00Z)") from None
    if moment > timezone.now():
        raise ValueError(f"{value!r} is in the future")
    return moment


def _confidence(value: str) -> int | None:
    if not value:
        return None
    low, high = CONFIDENCE_RANGE
    if not (value.isascii() and value.isdigit() and low <= int(value) <= high):
        raise ValueError(f"{value!r} is not a confidence ({low} unsure to {high} certain, or empty)")
    return int(value)


def _seconds(value: str) -> float | None:
    if not value:
        return None
    try:
        seconds = float(_text(value))
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"{value!r} is not a number of seconds (0 or more, or empty)")
    return qc_seconds_capped(seconds)


_CELLS: dict[str, Callable[[str], object]] = {
    "eid": _eid, "instance": _instance, "verdict": _choice(Verdict.values, "verdict"),
    "reason": _choice(Reason.values, "reason"), "note": _text, "rater": _required, "decided_at": _decided_at,
    "confidence": _confidence, "seconds_spent": _seconds,
}


# Resolving rows to scans and raters ----------------------------------------------------------------------

def _resolve(rows: list[_Row], problems: list) -> tuple[dict[tuple[int, int], int], dict[str, int], set[int]]:
    """(eid, instance) -> scan id, username -> user id, and the withdrawn eids; a problem for every row
    whose participant, scan or rater does not exist."""
    eids = {row.eid for row in rows}
    subjects = dict(Subject.all_objects.filter(eid__in=eids).values_list("eid", "withdrawn"))
    scans = {(eid, instance): pk for eid, instance, pk in Scan.all_objects.filter(
        subject__eid__in=eids, field_id=protocol.FIELD_ID, array_index=0).values_list(
        "subject__eid", "instance", "pk")}
    raters = dict(get_user_model().objects.filter(username__in={row.rater for row in rows}).values_list(
        "username", "pk"))
    for row in rows:
        if row.eid not in subjects:
            problems.append((row.line, f"line {row.line}, column eid: no participant with eid {row.eid}"))
        elif (row.eid, row.instance) not in scans and not subjects[row.eid]:
            problems.append((row.line, f"line {row.line}, column instance: participant {row.eid} has no scan at "
                                       f"instance {row.instance}"))
        if row.rater not in raters:
            problems.append((row.line, f"line {row.line}, column rater: no user named {row.rater!r}"))
    return scans, raters, {eid for eid, withdrawn in subjects.items() if withdrawn}


# Replaying each scan's history -------------------------------------------------------------------------

def _plan(rows: list[_Row], scans: dict, raters: dict, *, now: datetime, report: QCImportReport) -> list[QCDecision]:
    """The decisions to create, each with the verdict before it; rows already recorded are counted as
    unchanged. Runs inside the import's transaction, with the scans locked against live decisions."""
    by_scan: dict[int, list[_Row]] = {}
    for row in rows:
        by_scan.setdefault(scans[(row.eid, row.instance)], []).append(row)
    list(Scan.all_objects.select_for_update().filter(pk__in=by_scan).values_list("pk", flat=True))
    recorded: dict[int, list[tuple]] = {}
    for scan_id, *decision in QCDecision.all_objects.filter(scan_id__in=by_scan).order_by().values_list(
            "scan_id", "decided_at", "id", "rater_id", "verdict", "reason", "note"):
        recorded.setdefault(scan_id, []).append(tuple(decision))
    new, problems = [], []
    for scan_id, scan_rows in by_scan.items():
        new += _replay(scan_id, scan_rows, recorded.get(scan_id, []), raters, now, report, problems)
    csv_files.raise_if_any(problems, error=QCImportError)
    return new


def _replay(scan_id: int, rows: list[_Row], recorded: list[tuple], raters: dict, now: datetime,
            report: QCImportReport, problems: list) -> list[QCDecision]:
    # Recorded decisions sort before file rows of the same instant (they have the lower ids once written).
    events = [((decided_at, 0, pk), (rater_id, decided_at, verdict, reason, note), None)
              for decided_at, pk, rater_id, verdict, reason, note in recorded]
    events += [((row.decided_at or now, 1, row.line),
                (raters[row.rater], row.decided_at or now, row.verdict, row.reason, row.note), row) for row in rows]
    seen = {content for _, content, row in events if row is None}
    newest: dict[int, tuple] = {}  # rater id -> (verdict, reason, note) of their newest decision so far
    previous, new = "", []
    for _, content, row in sorted(events, key=lambda event: event[0]):
        rater_id, decided_at, verdict, reason, note = content
        if row is not None:
            if content in seen or (row.decided_at is None and newest.get(rater_id) == content[2:]):
                report.unchanged += 1
                continue
            own = newest.get(rater_id, ("",))[0]
            problems.extend(_named(row.line, qc_decision_problems(verdict=verdict, reason=reason, note=note,
                                                                   own_verdict=own)))
            new.append(QCDecision(scan_id=scan_id, rater_id=rater_id, decided_at=decided_at, verdict=verdict,
                                  reason=reason, note=note, previous_verdict=previous,
                                  confidence=row.confidence, seconds_spent=row.seconds_spent))
            seen.add(content)
        previous, newest[rater_id] = verdict, content[2:]
    return new
