"""Parsing and validation of UK Biobank baskets: one row per participant, a column per field instance.

The header style (ukbconv CSV ``22402-2.0``, ukbconv R ``f.22402.2.0``, the Research Analysis Platform's
``participant.p22402_i2``) is detected from the header row (``ml.ukb.headers``). Fields the catalogue
names are read as their concept; any other numeric field of the showcase schema is kept as a covariate
under its showcase title and unit; other columns are reported with the reason. The whole file is checked
before anything is returned: every problem is collected with its line and column, so a lab fixes a file
in one pass, and an importer can refuse the file as a whole.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .fields import CENTRE_NAMES, SEX_CODES, SEX_MEANINGS, VISIT_INSTANCES, Column, FieldSpec, basket_field
from .headers import HeaderStyle, detect_style
from .ranges import range_problem
from .schema import load_fields

MAX_REPORTED_ERRORS = 50
CODED_SUBJECT_KEYS = ("sex", "centre")  # coded: read as codes or meanings, at the subject's or a visit's instance
DATE_KEYS = ("date",)  # dates (YYYY-MM-DD, as ukbconv and the Research Analysis Platform write them)
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_RANGE = (date(2006, 1, 1), date(2040, 12, 31))  # UK Biobank's first assessment to well after today
EID_PATTERN = re.compile(r"^[0-9]+$")
MAX_EID = 2**31 - 1  # fits the database's integer column on every backend
NUMBER_PATTERN = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


class ShowcaseError(Exception):
    """A showcase CSV that cannot be imported; ``errors`` lists every problem found."""

    def __init__(self, path: str | Path, errors: list[str]):
        self.path = Path(path)
        self.errors = errors
        shown = errors[:MAX_REPORTED_ERRORS]
        more = f"\n... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        super().__init__(f"{self.path.name}: {len(errors)} problem(s):\n" + "\n".join(shown) + more)

    def __reduce__(self):  # picklable, so a Celery worker can report it
        return (type(self), (self.path, self.errors))


@dataclass(frozen=True)
class KnownColumn:
    header: str
    column: Column
    spec: FieldSpec

    @property
    def target(self) -> str:
        """Where values go: a subject attribute (for its instance), a visit attribute (at an imaging
        instance), or reference / covariate rows."""
        if self.spec.kind == "subject":
            on_subject = self.column.instance == self.spec.subject_instance and self.column.array == 0
            return "subject" if on_subject else "covariate"
        if self.spec.kind == "visit":
            on_visit = self.column.instance in VISIT_INSTANCES and self.column.array == 0
            return "visit" if on_visit else "covariate"
        return self.spec.kind


@dataclass
class ShowcaseRow:
    line: int
    eid: int
    subject: dict[str, object] = field(default_factory=dict)  # key -> value, e.g. {"sex": "F"}
    visits: dict[int, dict[str, object]] = field(default_factory=dict)  # instance -> {"age": 64, "bmi": 24.1}
    reference: dict[str, float] = field(default_factory=dict)  # field id -> value
    covariate: dict[str, float] = field(default_factory=dict)


@dataclass
class ParsedShowcase:
    rows: list[ShowcaseRow]
    columns: list[KnownColumn]
    unknown_columns: list[str]  # "header (why)"
    style: str = "ukbconv, comma-separated"  # the header style detected


def parse_showcase(path: str | Path, catalogue: dict[int, FieldSpec]) -> ParsedShowcase:
    """Read and validate the basket at ``path``; raises ShowcaseError listing every problem."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            style = detect_style(handle.readline())
            handle.seek(0)  # resets the decoder, which skips a byte-order mark again
            reader = csv.reader(handle, delimiter=style.delimiter)
            header = next(reader, None)
            if header is None:
                raise ShowcaseError(path, ["file is empty"])
            eid_index, columns, unnamed, unknown, errors = _read_header(header, style, catalogue)
            rows = (_read_rows(reader, eid_index, columns, unnamed, len(header), style, errors)
                    if eid_index is not None else [])
    except UnicodeDecodeError as exc:
        raise ShowcaseError(path, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except csv.Error as exc:
        raise ShowcaseError(path, [f"not a readable CSV file ({exc})"]) from None
    if errors:
        raise ShowcaseError(path, errors)
    return ParsedShowcase(rows=rows, columns=[c for _, c in columns], unknown_columns=unknown,
                          style=style.description)


def _read_header(header: list[str], style: HeaderStyle, catalogue: dict[int, FieldSpec]):
    names = [h.strip() for h in header]
    errors, unknown, columns, unnamed = [], [], [], []
    eid_index = next((i for i, name in enumerate(names) if name in style.eid), None)
    if eid_index is None:
        errors.append(f"line 1: no participant id column ({' or '.join(map(repr, style.eid))}, "
                      f"{style.description} header)")
    seen = {}
    for index, name in enumerate(names):
        if not name:
            unnamed.append(index)  # spreadsheet programs add unnamed trailing columns; they must stay empty
            continue
        if index == eid_index:
            continue
        column = style.parse(name)
        if column is None:
            unknown.append(f"{name} (not a field column of the {style.name} style, e.g. {style.example})")
            continue
        if column.text in seen:
            errors.append(f"line 1: column {name!r} is field {column.text} again (as {seen[column.text]!r})")
            continue
        seen[column.text] = name
        spec, why = basket_field(column.field, catalogue)
        beyond = _beyond_schema(column)
        if spec and beyond:
            spec, why = None, beyond
        known = KnownColumn(name, column, spec) if spec else None
        if known and known.target == "covariate" and spec.key in CODED_SUBJECT_KEYS + DATE_KEYS:
            kept = (f"instance {spec.subject_instance}" if spec.kind == "subject"
                    else "the imaging visits (instances " + ", ".join(map(str, VISIT_INSTANCES)) + ")")
            why = f"{spec.name} is kept for {kept} only"  # before spec is cleared
            spec = None
        if spec is None:
            unknown.append(f"{name} ({why})")
        else:
            columns.append((index, known))
    return eid_index, columns, unnamed, unknown, errors


def _beyond_schema(column: Column) -> str:
    """Why a column's instance cannot be (the showcase schema holds the field at fewer instances), or ''."""
    entry = load_fields().get(column.field)
    if entry is None or entry.instance_max is None or column.instance <= entry.instance_max:
        return ""
    return (f"field {column.field} ({entry.title}) has no instance {column.instance} in the showcase schema: "
            f"its instances go up to {entry.instance_max}")


def _read_rows(reader, eid_index: int, columns, unnamed: list[int], width: int, style: HeaderStyle,
               errors: list[str]) -> list[ShowcaseRow]:
    rows, lines_by_eid = [], {}
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != width:
            errors.append(f"line {line}: {len(record)} cells but the header has {width}")
            continue
        if any(record[i].strip() for i in unnamed):
            errors.append(f"line {line}: a value in a column without a name")
        eid = _parse_eid(record[eid_index], line, errors)
        if eid is None:
            continue
        if eid in lines_by_eid:
            errors.append(f"line {line}: eid {eid} already appears on line {lines_by_eid[eid]}")
            continue
        lines_by_eid[eid] = line
        rows.append(_parse_row(record, line, eid, columns, style, errors))
    return rows


def _parse_eid(cell: str, line: int, errors: list[str]) -> int | None:
    text = cell.strip()
    if not EID_PATTERN.match(text) or not 0 < int(text) <= MAX_EID:
        errors.append(f"line {line}, column eid: {cell!r} is not a participant id")
        return None
    return int(text)


def _parse_row(record: list[str], line: int, eid: int, columns, style: HeaderStyle, errors: list[str]) -> ShowcaseRow:
    row = ShowcaseRow(line=line, eid=eid)
    for index, known in columns:
        text = record[index].strip()
        if not text or text in style.missing:
            continue  # value missing
        where = f"line {line}, column {known.header}"
        attributes = (row.subject if known.target == "subject"
                      else row.visits.setdefault(known.column.instance, {}) if known.target == "visit" else None)
        if known.spec.key in DATE_KEYS:
            value = _parse_date(text)
            if value is None:
                errors.append(f"{where}: {text!r} is not a date (YYYY-MM-DD, {DATE_RANGE[0].year} to "
                              f"{DATE_RANGE[1].year})")
            else:
                attributes[known.spec.key] = value
            continue
        if known.spec.key in CODED_SUBJECT_KEYS:
            value = _coded_value(known.spec.key, text)
            if value is None:
                errors.append(f"{where}: {text!r} is not a valid {known.spec.name.lower()}")
            else:
                attributes[known.spec.key] = value
            continue
        value = _parse_number(text)
        problem = f"{text!r} is not a number" if value is None else range_problem(known.spec, value, known.spec.integer)
        if problem:
            errors.append(f"{where}: {problem}")
        elif attributes is not None:
            attributes[known.spec.key] = value
        else:
            getattr(row, known.target)[known.column.text] = float(f"{value * known.spec.scale:.12g}")
    return row


def _parse_date(text: str) -> date | None:
    if not DATE_PATTERN.match(text):
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if DATE_RANGE[0] <= value <= DATE_RANGE[1] else None


def _parse_number(text: str) -> float | None:
    if not NUMBER_PATTERN.match(text):  # stricter than float(): no '1_000', 'inf', 'nan' or non-ASCII digits
        return None
    value = float(text)
    return value if math.isfinite(value) else None  # 1e400 overflows to infinity


def _coded_value(key: str, text: str) -> object | None:
    """Sex or centre from its cell: the code or the coding's meaning (the Research Analysis Platform can
    export meanings)."""
    if key == "sex":
        code = _code(text, _SEX_BY_MEANING)
        return SEX_CODES.get(code) if code is not None else None
    code = _code(text, _CENTRE_BY_MEANING)
    return code if code in CENTRE_NAMES else None


def _by_meaning(meanings: dict[int, str]) -> dict[str, int]:
    return {meaning.lower(): code for code, meaning in meanings.items()}


_SEX_BY_MEANING, _CENTRE_BY_MEANING = _by_meaning(SEX_MEANINGS), _by_meaning(CENTRE_NAMES)


def _code(text: str, by_meaning: dict[str, int]) -> int | None:
    """The code a cell gives, as a number or as its meaning (any case)."""
    if text.lower() in by_meaning:
        return by_meaning[text.lower()]
    value = _parse_number(text)
    return int(value) if value is not None and value.is_integer() else None
