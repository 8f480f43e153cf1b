"""Parsing and validation of UK Biobank showcase-style CSV files (``eid`` + ``FIELD-I.A`` columns).

The whole file is checked before anything is returned: every problem is collected with its line and
column, so a lab fixes a file in one pass, and an importer can refuse the file as a whole.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from .fields import CENTRE_NAMES, SEX_CODES, Column, FieldSpec, parse_column

MAX_REPORTED_ERRORS = 50
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
        """Where values go: a subject attribute (for its instance), or reference / covariate rows."""
        if self.spec.kind == "subject":
            on_subject = self.column.instance == self.spec.subject_instance and self.column.array == 0
            return "subject" if on_subject else "covariate"
        return self.spec.kind


@dataclass
class ShowcaseRow:
    line: int
    eid: int
    subject: dict[str, object] = field(default_factory=dict)  # key -> value, e.g. {"sex": "F", "bmi": 24.1}
    reference: dict[str, float] = field(default_factory=dict)  # field id -> value
    covariate: dict[str, float] = field(default_factory=dict)


@dataclass
class ParsedShowcase:
    rows: list[ShowcaseRow]
    columns: list[KnownColumn]
    unknown_columns: list[str]  # "header (why)"


def parse_showcase(path: str | Path, catalogue: dict[int, FieldSpec]) -> ParsedShowcase:
    """Read and validate the CSV at ``path``; raises ShowcaseError listing every problem."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise ShowcaseError(path, ["file is empty"])
            eid_index, columns, unnamed, unknown, errors = _read_header(header, catalogue)
            rows = _read_rows(reader, eid_index, columns, unnamed, len(header), errors) if eid_index is not None else []
    except UnicodeDecodeError as exc:
        raise ShowcaseError(path, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except csv.Error as exc:
        raise ShowcaseError(path, [f"not a readable CSV file ({exc})"]) from None
    if errors:
        raise ShowcaseError(path, errors)
    return ParsedShowcase(rows=rows, columns=[c for _, c in columns], unknown_columns=unknown)


def _read_header(header: list[str], catalogue: dict[int, FieldSpec]):
    names = [h.strip() for h in header]
    errors, unknown, columns, unnamed = [], [], [], []
    if "eid" not in names:
        errors.append("line 1: no 'eid' column")
    seen = set()
    for index, name in enumerate(names):
        if not name:
            unnamed.append(index)  # spreadsheet programs add unnamed trailing columns; they must stay empty
            continue
        if name in seen:
            errors.append(f"line 1: column {name!r} appears twice")
        seen.add(name)
        if name == "eid":
            continue
        column = parse_column(name)
        if column is None:
            unknown.append(f"{name} (not of the form FIELD-INSTANCE.ARRAY)")
        elif column.field not in catalogue:
            unknown.append(f"{name} (field {column.field} is not in the field catalogue)")
        else:
            columns.append((index, KnownColumn(name, column, catalogue[column.field])))
    eid_index = names.index("eid") if "eid" in names else None
    return eid_index, columns, unnamed, unknown, errors


def _read_rows(reader, eid_index: int, columns, unnamed: list[int], width: int, errors: list[str]) -> list[ShowcaseRow]:
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
        rows.append(_parse_row(record, line, eid, columns, errors))
    return rows


def _parse_eid(cell: str, line: int, errors: list[str]) -> int | None:
    text = cell.strip()
    if not EID_PATTERN.match(text) or not 0 < int(text) <= MAX_EID:
        errors.append(f"line {line}, column eid: {cell!r} is not a participant id")
        return None
    return int(text)


def _parse_row(record: list[str], line: int, eid: int, columns, errors: list[str]) -> ShowcaseRow:
    row = ShowcaseRow(line=line, eid=eid)
    for index, known in columns:
        text = record[index].strip()
        if not text:
            continue  # empty cell: value missing
        value = _parse_number(text)
        if value is None:
            errors.append(f"line {line}, column {known.header}: {text!r} is not a number")
            continue
        target = known.target
        if target == "subject":
            converted = _subject_value(known.spec.key, value)
            if converted is None:
                errors.append(f"line {line}, column {known.header}: {text!r} is not a valid {known.spec.name.lower()}")
            else:
                row.subject[known.spec.key] = converted
        else:
            getattr(row, target)[known.column.field_id] = value
    return row


def _parse_number(text: str) -> float | None:
    if not NUMBER_PATTERN.match(text):  # stricter than float(): no '1_000', 'inf', 'nan' or non-ASCII digits
        return None
    return float(text)


def _subject_value(key: str, value: float) -> object | None:
    if key == "sex":
        return SEX_CODES.get(int(value)) if value.is_integer() else None
    if key == "centre":
        return int(value) if value.is_integer() and int(value) in CENTRE_NAMES else None
    return value if value >= 0 else None
