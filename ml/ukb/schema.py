"""The UK Biobank showcase schema: every field's title, value type, units and coding, as UK Biobank
publishes them.

The source of truth is the copy of the showcase schema that fmrib-unpack (FUNPACK, the FMRIB UK Biobank
toolkit) ships in ``funpack/schema/``: ``field.txt`` (one row per field: ``field_id``, ``title``,
``value_type``, ``units``, ``main_category``, ``encoding_id``, ...) and ``coding/coding<N>.tsv`` for the
codings it carries. A lab whose application uses a newer showcase points ``UKB_SCHEMA_DIR`` at a folder
with the same files (``field.txt`` as downloaded from the showcase's schema page, id 1).

The files are read, never imported: funpack itself is a large package that ukbstudy does not run.
"""

from __future__ import annotations

import csv
import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Showcase value types (schema 8, "value_type"): which fields hold numbers a regression can use.
VALUE_TYPES = {11: "integer", 21: "categorical (single)", 22: "categorical (multiple)", 31: "continuous",
               41: "text", 51: "date", 61: "time", 101: "compound"}
NUMERIC_VALUE_TYPES = frozenset({11, 31})
CODED_VALUE_TYPES = frozenset({21, 22})


class SchemaError(RuntimeError):
    """The showcase schema cannot be found or read."""


@dataclass(frozen=True)
class ShowcaseField:
    """One row of the showcase's field table."""

    field: int
    title: str
    value_type: int
    units: str
    main_category: int
    encoding: int  # 0: not coded
    instanced: bool
    arrayed: bool
    instance_max: int | None = None  # the highest instance the showcase holds for the field (None: not given)

    @property
    def value_type_name(self) -> str:
        return VALUE_TYPES.get(self.value_type, f"value type {self.value_type}")

    @property
    def numeric(self) -> bool:
        return self.value_type in NUMERIC_VALUE_TYPES

    @property
    def coded(self) -> bool:
        return self.value_type in CODED_VALUE_TYPES


def schema_dir() -> Path:
    """``UKB_SCHEMA_DIR`` when set, else the schema folder of the installed fmrib-unpack."""
    configured = os.environ.get("UKB_SCHEMA_DIR", "").strip()
    if configured:
        return Path(configured)
    spec = importlib.util.find_spec("funpack")  # locates the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise SchemaError("the showcase schema comes from fmrib-unpack: pip install fmrib-unpack "
                          "(or set UKB_SCHEMA_DIR to a folder with the showcase's field.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "schema"


@lru_cache(maxsize=4)
def load_fields(directory: str | None = None) -> dict[int, ShowcaseField]:
    """Every field of the schema by id (about 11,800 rows; read once per folder)."""
    path = Path(directory or schema_dir()) / "field.txt"
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            fields = {row.field: row for row in map(_field_row, csv.DictReader(handle, delimiter="\t"))}
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise SchemaError(f"{path}: not a readable showcase field table ({exc!r})") from None
    if not fields:
        raise SchemaError(f"{path}: the showcase field table has no fields")
    return fields


def _field_row(row: dict[str, str]) -> ShowcaseField:
    return ShowcaseField(
        field=int(row["field_id"]), title=row["title"].strip(), value_type=int(row["value_type"]),
        units=(row.get("units") or "").strip(), main_category=int(row.get("main_category") or 0),
        encoding=int(row.get("encoding_id") or 0), instanced=row.get("instanced", "0") not in ("0", ""),
        arrayed=row.get("arrayed", "0") not in ("0", ""),
        instance_max=int(row["instance_max"]) if (row.get("instance_max") or "").strip().isdigit() else None)


@lru_cache(maxsize=32)
def load_coding(encoding: int, directory: str | None = None) -> dict[int, str] | None:
    """Code -> meaning of one coding when the schema ships it (``coding/coding<N>.tsv``), else None."""
    path = Path(directory or schema_dir()) / "coding" / f"coding{encoding}.tsv"
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return {int(row["coding"]): row["meaning"] for row in rows if row["coding"].lstrip("-").isdigit()}
