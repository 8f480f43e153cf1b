"""Catalogue of the UK Biobank showcase fields that ukbstudy understands, taken from the showcase schema.

Our short keys (``bmi``, ``bmd_spine``, ...) map onto showcase field ids; every field's title and unit
come from the showcase schema (``ml.ukb.schema``, the copy fmrib-unpack ships), never from memory, and
``tests/ml/test_fields.py`` checks each id's title and unit against it. Every field is one of three kinds:

- ``subject``: a participant attribute stored on the subject itself (sex), read from one instance
  (``subject_instance``);
- ``visit``: what UK Biobank measures at every visit (date, age, height, BMI, centre), stored on the
  participant's imaging visit of the column's instance (``VISIT_INSTANCES``: 2 and 3);
- ``reference``: a reference value that methods are validated against (liver PDFF fields);
- ``covariate``: any other numeric value used in statistics (DXA bone density and body composition, and
  every other numeric field of a basket, under its showcase title and unit).

Units: values are stored in the unit the statistics assume, converted once at import. The showcase gives
the DXA tissue fat fractions as fractions (0-1); the BMFF paper's tables, and ours, use percent, so those
fields carry ``scale=100`` and the unit ``%``. A lab can add or correct entries with ``extra_fields``
(see ``load_catalogue``) without touching code.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from .schema import ShowcaseField, load_fields

COLUMN_PATTERN = re.compile(r"^(?P<field>\d+)-(?P<instance>\d+)\.(?P<array>\d+)$")

# Codings the schema's copy does not ship (it carries a few large ones only); their ids and titles are
# checked against the schema's encoding table in the tests. Coding 9 "Sex"; coding 10 "Assessment
# Centre", of which ukbstudy lists the imaging centres.
SEX_CODES = {0: "F", 1: "M"}  # field 31, coding 9
SEX_MEANINGS = {0: "Female", 1: "Male"}
CENTRE_NAMES = {  # field 54, coding 10, imaging centres
    11025: "Cheadle (imaging)",
    11026: "Reading (imaging)",
    11027: "Newcastle (imaging)",
    11028: "Bristol (imaging)",
}
# Showcase unit spellings shown otherwise: the schema writes "percent", and "frction" (sic) for 23281.
UNIT_NAMES = {"percent": "%", "frction": "fraction"}
FRACTION_UNITS = ("fraction", "frction")


@dataclass(frozen=True)
class FieldSpec:
    """One showcase field: id, our short key, title, kind, the unit values are stored in and (for subject
    fields) the instance used. ``scale`` converts the showcase's unit into ``unit`` (stored = showcase x
    scale); ``showcase_unit`` is the unit as the showcase gives it."""

    field: int
    key: str
    name: str
    kind: str
    unit: str = ""
    subject_instance: int | None = None
    scale: float = 1.0
    showcase_unit: str = ""
    integer: bool = False  # the showcase stores whole numbers (value type 11)
    catalogued: bool = True  # False: any other numeric field of a basket, kept under its showcase title

    @property
    def label(self) -> str:
        """Title with the stored unit, for table headers: 'Android tissue fat fraction (%)'."""
        return f"{self.name} ({self.unit})" if self.unit else self.name


@dataclass(frozen=True)
class Column:
    """A parsed ``FIELD-INSTANCE.ARRAY`` column name."""

    field: int
    instance: int
    array: int

    @property
    def text(self) -> str:
        """``FIELD-INSTANCE.ARRAY``: the value's ``field`` as the app stores and names it (``22402-2.0``)."""
        return f"{self.field}-{self.instance}.{self.array}"


def parse_column(name: str) -> Column | None:
    """Parse a ukbconv column name (``22402-2.0``); ``None`` when it is not of the ``FIELD-I.A`` form."""
    match = COLUMN_PATTERN.match(name.strip())
    if not match:
        return None
    return Column(int(match["field"]), int(match["instance"]), int(match["array"]))


# The instances whose visit attributes are kept on a visit: the first and the repeat imaging visit.
VISIT_INSTANCES = (2, 3)

# Our keys onto showcase ids: (field, key, kind, subject instance). Titles and units come from the schema.
OURS: tuple[tuple[int, str, str, int | None], ...] = (
    (31, "sex", "subject", 0),
    (53, "date", "visit", None),
    (21003, "age", "visit", None),
    (50, "height", "visit", None),
    (21001, "bmi", "visit", None),
    (54, "centre", "visit", None),
    (22402, "liver_pdff_22402", "reference", None),
    (22436, "liver_pdff_22436", "reference", None),
    (23204, "bmd_spine", "covariate", None),  # L1-L4
    (23205, "tscore_spine", "covariate", None),
    (23299, "bmd_femoral_neck", "covariate", None),  # left: the non-dominant hip UK Biobank scans
    (23300, "tscore_femoral_neck", "covariate", None),
    (23291, "bmd_total_hip", "covariate", None),
    (23293, "tscore_total_hip", "covariate", None),
    (23290, "bmd_femoral_shaft", "covariate", None),
    (23247, "fat_pct_android", "covariate", None),
    (23264, "fat_pct_gynoid", "covariate", None),
    (23276, "fat_pct_legs", "covariate", None),
    (23286, "fat_pct_trunk", "covariate", None),
    (23281, "fat_pct_total", "covariate", None),
    (23288, "vat_mass", "covariate", None),
)
KINDS = ("subject", "visit", "reference", "covariate")


def spec_from_schema(entry: ShowcaseField, key: str | None = None, kind: str = "covariate",
                     subject_instance: int | None = None) -> FieldSpec:
    """A catalogue entry with the schema's title and unit; fractions become percent for our keys."""
    scale, unit = 1.0, UNIT_NAMES.get(entry.units, entry.units)
    if key is not None and entry.units in FRACTION_UNITS:
        scale, unit = 100.0, "%"
    return FieldSpec(entry.field, key or f"f{entry.field}", entry.title, kind, unit, subject_instance, scale,
                     entry.units, integer=entry.value_type == 11, catalogued=key is not None)


def _built_in() -> tuple[FieldSpec, ...]:
    schema = load_fields()
    return tuple(spec_from_schema(schema[field], key, kind, instance) for field, key, kind, instance in OURS)


def basket_field(field: int, catalogue: dict[int, FieldSpec]) -> tuple[FieldSpec | None, str]:
    """The catalogue entry for a basket's field, or one made from the schema for any other numeric field
    (kept as a covariate under its showcase title and unit); else None and why it is not imported."""
    if field in catalogue:
        return catalogue[field], ""
    entry = load_fields().get(field)
    if entry is None:
        return None, f"field {field} is not in the showcase schema"
    if not entry.numeric:
        return None, f"field {field} ({entry.title}) is {entry.value_type_name}, not a number"
    return spec_from_schema(entry), ""


def load_catalogue(extra_fields: str | Path | None = None) -> dict[int, FieldSpec]:
    """The built-in catalogue, updated with a CSV of extra fields when given.

    The extra CSV has the columns ``field,key,name,kind,unit`` and optionally ``scale`` (stored value =
    basket value x scale); ``kind`` is ``reference`` or ``covariate`` (subject attributes are fixed because
    they map onto subject columns); an empty name or unit is taken from the showcase schema.
    """
    catalogue = {spec.field: spec for spec in FIELDS}
    if extra_fields:
        catalogue.update(_read_extra_fields(Path(extra_fields)))
    return catalogue


def _read_extra_fields(path: Path) -> dict[int, FieldSpec]:
    specs = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            kind = (row.get("kind") or "").strip()
            if kind not in ("reference", "covariate"):
                raise ValueError(f"{path}, line {line}: kind must be 'reference' or 'covariate', not {kind!r}")
            try:
                field = int(row["field"])
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"{path}, line {line}: field must be a number") from None
            specs[field] = _extra_spec(path, line, field, kind, row)
    return specs


def _extra_spec(path: Path, line: int, field: int, kind: str, row: dict[str, str]) -> FieldSpec:
    """An extra field; a missing name, unit or ``scale`` is taken from the built-in entry of that field when
    there is one (so a correction keeps its conversion), else from the schema (scale 1)."""
    entry = load_fields().get(field)
    built_in = next((spec for spec in FIELDS if spec.field == field), None)
    unit = ((row.get("unit") or "").strip() or (built_in.unit if built_in else "")
            or (UNIT_NAMES.get(entry.units, entry.units) if entry else ""))
    try:
        scale = float(row.get("scale") or (built_in.scale if built_in else 1))
    except ValueError:
        raise ValueError(f"{path}, line {line}: scale must be a number") from None
    return FieldSpec(field, row.get("key") or f"f{field}", row.get("name") or (entry.title if entry else ""),
                     kind, unit, scale=scale, showcase_unit=entry.units if entry else unit,
                     integer=bool(entry and entry.value_type == 11))


FIELDS: tuple[FieldSpec, ...] = _built_in()
CATALOGUE = load_catalogue()
FIELD_BY_KEY = {spec.key: spec for spec in FIELDS}
