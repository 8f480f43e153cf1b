"""Reading the CSV files labs import (QC decisions, measurements): a path or an open file as UTF-8 text, its
header checked against the importer's columns, and its rows parsed with the line each starts on.

A problem is ``(line, message)``; problems are gathered for the whole file and then raised together, in line
order, as the importer's error class (called with the list of messages). A file that cannot be read at all
(unreadable, not UTF-8, not CSV, a bad header) raises at once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import IO, TypeVar

Problem = tuple[int, str]
Error = Callable[[list[str]], Exception]  # the importer's error class, built from the messages
Row = TypeVar("Row")


def read_file(path_or_file: str | Path | IO, *, error: Error) -> tuple[str, bytes | str]:
    """The file's name (the path, or the open file's name, else ``upload``) and its content, as read."""
    if hasattr(path_or_file, "read"):
        return getattr(path_or_file, "name", None) or "upload", path_or_file.read()
    try:
        return str(path_or_file), Path(path_or_file).read_bytes()
    except OSError as exc:
        raise error([f"cannot read {path_or_file}: {exc.strerror}"]) from None


def decode(data: bytes | str, *, error: Error) -> str:
    """Text as it is; bytes as UTF-8, a leading byte order mark dropped."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error([f"the file is not UTF-8 text (byte {exc.start})"]) from None


def raise_if_any(problems: list[Problem], *, error: Error) -> None:
    """Raise the problems, if there are any, in line order."""
    if problems:
        raise error([message for _, message in sorted(problems, key=itemgetter(0))])


def parse_rows(text: str, *, columns: Sequence[str], required: Sequence[str],
               row: Callable[[int, list[str], list[str], list[Problem]], Row | None], what: str, error: Error,
               unknown_hint: str = "") -> tuple[list[Row], list[Problem]]:
    """The rows ``row(line, header, cells, problems)`` makes of the file's non-blank lines (it returns None
    for a bad one, having added its problems), and the problems; ``what`` the file holds names an empty one.
    The header is checked as ``parse_header`` does."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, problems = [], []
    try:
        header = parse_header(next(reader, []), columns=columns, required=required, error=error,
                              unknown_hint=unknown_hint)
        end = reader.line_num
        for cells in reader:
            line, end = end + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append(row(line, header, cells, problems))
    except csv.Error as exc:
        raise error([f"line {reader.line_num}: {exc}"]) from None
    if not rows:
        problems.append((1, f"the file has no {what}"))
    return [parsed for parsed in rows if parsed is not None], problems


def parse_header(cells: list[str], *, columns: Sequence[str], required: Sequence[str], error: Error,
                 unknown_hint: str = "") -> list[str]:
    """The header's column names, lower-cased; raises naming every unknown, repeated or missing column
    (``unknown_hint`` follows the expected columns in an unknown column's message)."""
    header = [cell.strip().lower() for cell in cells]
    if not any(header):
        raise error([f"line 1: the file has no header (expected {','.join(columns)})"])
    errors = [f"line 1, column {name or '(empty)'}: unknown column (expected {', '.join(columns)}{unknown_hint})"
              for name in header if name not in columns]
    errors += [f"line 1, column {name}: given twice" for name in sorted(set(header)) if header.count(name) > 1]
    errors += [f"line 1: column {name} is missing" for name in required if name not in header]
    if errors:
        raise error(errors)
    return header


def parse_cells(line: int, header: list[str], cells: list[str], problems: list[Problem], *,
                columns: Sequence[str], parsers: Mapping[str, Callable[[str], object]]) -> dict[str, object] | None:
    """The row's value of every column (its cell stripped, empty where the file leaves the column out, and
    given to the column's parser, which raises ValueError for a bad cell), or None with a problem added for
    every bad cell, or for more cells than the header has columns."""
    if len(cells) > len(header):
        problems.append((line, f"line {line}: {len(cells)} cells but the header has {len(header)} columns"))
        return None
    raw = dict.fromkeys(columns, "") | {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
    values, bad = {}, len(problems)
    for name in columns:
        try:
            values[name] = parsers[name](raw[name])
        except ValueError as exc:
            problems.append((line, f"line {line}, column {name}: {exc}"))
    return values if len(problems) == bad else None
