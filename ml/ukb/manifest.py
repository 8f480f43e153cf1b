"""The manifest inside a UK Biobank imaging zip: which file holds which series, by the archive's own word.

Public parsers of real archives read the manifest by the column names ``filename``, ``patientid``, ``date``
and ``series discription`` (sic). Its dates (``Aug 14, 2015``) are written unquoted, so a comma split gives
every data row one field more than the header. Archives from older versions of our generator call the
description column ``seriesdescription``, and tools that rewrite a manifest may quote the date. This reader
takes all of these: columns are found by name (any case, a byte-order mark, spaces or underscores
ignored) and a date split in two is joined again, so no field after it shifts.

The manifest is evidence, never the truth: importers read DICOM headers and report a manifest that
disagrees with them as a deviation.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

FILENAME = "filename"
DESCRIPTION = ("seriesdiscription", "seriesdescription")
_DATE_HEAD = re.compile(r"\s*[A-Za-z]{3} \d{1,2}\s*")  # "Aug 14" before the comma
_DATE_TAIL = re.compile(r"\s*\d{4}\b.*")  # " 2015" (and anything the date field carries) after it


@dataclass(frozen=True)
class ManifestRow:
    """One listed file and the series description the manifest gives it ("" if it has none)."""

    filename: str
    description: str


def parse_manifest(text: str) -> list[ManifestRow]:
    """Rows of a manifest, blank lines skipped; the file name column is found by its header name.

    A header without a ``filename`` column is not trusted: then the file name is taken from the first
    column of every row that looks like a file name (has a dot), the header row included if it does.
    """
    rows = [row for row in csv.reader(text.lstrip("\ufeff").splitlines()) if any(cell.strip() for cell in row)]
    if not rows:
        return []
    names = [_column_key(cell) for cell in rows[0]]
    if FILENAME not in names:
        return [ManifestRow(_cell(row, 0), "") for row in rows if "." in _cell(row, 0)]
    file_at = names.index(FILENAME)
    description_at = next((names.index(name) for name in DESCRIPTION if name in names), None)
    records = (_join_split_date(row, len(names)) for row in rows[1:])
    return [ManifestRow(_cell(row, file_at), _cell(row, description_at)) for row in records]


def _column_key(name: str) -> str:
    """``Series Discription`` and ``series_discription`` both become ``seriesdiscription``."""
    return re.sub(r"[\s_]+", "", name.strip().strip('"').lower())


def _cell(row: list[str], at: int | None) -> str:
    return row[at].strip().strip('"') if at is not None and at < len(row) else ""


def _join_split_date(row: list[str], n_columns: int) -> list[str]:
    """Rejoin an unquoted ``Mon DD, YYYY`` date in a row that has one field more than the header."""
    if len(row) != n_columns + 1:
        return row
    for i in range(len(row) - 1):
        if _DATE_HEAD.fullmatch(row[i]) and _DATE_TAIL.fullmatch(row[i + 1]):
            return [*row[:i], f"{row[i]},{row[i + 1]}", *row[i + 2:]]
    return row
