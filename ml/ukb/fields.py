"""Catalogue of the UK Biobank showcase fields that ukbstudy understands.

A showcase CSV has one row per participant: ``eid`` and then ``FIELD-INSTANCE.ARRAY`` columns such as
``21001-2.0`` (BMI at the first imaging visit). Every field is one of three kinds:

- ``subject``: a participant attribute stored on the subject itself (sex, age, height, BMI, centre),
  read from one instance (``subject_instance``);
- ``reference``: a reference value that methods are validated against (liver PDFF fields);
- ``covariate``: any other numeric value used in statistics (DXA bone density and body composition).

The DXA field ids follow the showcase categories 124 (body composition by DXA) and 125 (bone size,
mineral and density by DXA); a lab can add or correct entries with ``extra_fields`` (see
``load_catalogue``) without touching code.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

COLUMN_PATTERN = re.compile(r"^(?P<field>\d+)-(?P<instance>\d+)\.(?P<array>\d+)$")

SEX_CODES = {0: "F", 1: "M"}  # field 31 coding 9
CENTRE_NAMES = {  # field 54 coding 10, imaging centres
    11025: "Cheadle (imaging)",
    11026: "Reading (imaging)",
    11027: "Newcastle (imaging)",
    11028: "Bristol (imaging)",
}


@dataclass(frozen=True)
class FieldSpec:
    """One showcase field: id, our short key, kind, unit and (for subject fields) the instance used."""

    field: int
    key: str
    name: str
    kind: str
    unit: str = ""
    subject_instance: int | None = None


@dataclass(frozen=True)
class Column:
    """A parsed ``FIELD-INSTANCE.ARRAY`` column name."""

    field: int
    instance: int
    array: int

    @property
    def field_id(self) -> str:
        return f"{self.field}-{self.instance}.{self.array}"


def parse_column(name: str) -> Column | None:
    """Parse a showcase column name; ``None`` when it is not of the ``FIELD-I.A`` form."""
    match = COLUMN_PATTERN.match(name.strip())
    if not match:
        return None
    return Column(int(match["field"]), int(match["instance"]), int(match["array"]))


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(31, "sex", "Sex", "subject", "", subject_instance=0),
    FieldSpec(21003, "age", "Age when attended assessment centre", "subject", "years", subject_instance=2),
    FieldSpec(50, "height", "Standing height", "subject", "cm", subject_instance=2),
    FieldSpec(21001, "bmi", "Body mass index (BMI)", "subject", "kg/m2", subject_instance=2),
    FieldSpec(54, "centre", "UK Biobank assessment centre", "subject", "", subject_instance=2),
    FieldSpec(22402, "liver_pdff_22402", "Liver proton density fat fraction (PDFF)", "reference", "%"),
    FieldSpec(22436, "liver_pdff_22436", "Liver PDFF (proton density fat fraction)", "reference", "%"),
    FieldSpec(23226, "bmd_spine", "L1-L4 BMD (bone mineral density)", "covariate", "g/cm2"),
    FieldSpec(23227, "tscore_spine", "L1-L4 BMD T-score", "covariate", ""),
    FieldSpec(23300, "bmd_femoral_neck", "Femur neck BMD (left)", "covariate", "g/cm2"),
    FieldSpec(23301, "tscore_femoral_neck", "Femur neck BMD T-score (left)", "covariate", ""),
    FieldSpec(23315, "bmd_total_hip", "Femur total BMD (left)", "covariate", "g/cm2"),
    FieldSpec(23316, "tscore_total_hip", "Femur total BMD T-score (left)", "covariate", ""),
    FieldSpec(23310, "bmd_femoral_shaft", "Femur shaft BMD (left)", "covariate", "g/cm2"),
    FieldSpec(23248, "fat_pct_android", "Android tissue fat percentage", "covariate", "%"),
    FieldSpec(23263, "fat_pct_gynoid", "Gynoid tissue fat percentage", "covariate", "%"),
    FieldSpec(23275, "fat_pct_legs", "Legs tissue fat percentage", "covariate", "%"),
    FieldSpec(23284, "fat_pct_trunk", "Trunk tissue fat percentage", "covariate", "%"),
    FieldSpec(23281, "fat_pct_total", "Total tissue fat percentage", "covariate", "%"),
    FieldSpec(23289, "vat_mass", "VAT (visceral adipose tissue) mass", "covariate", "g"),
)
KINDS = ("subject", "reference", "covariate")


def load_catalogue(extra_fields: str | Path | None = None) -> dict[int, FieldSpec]:
    """The built-in catalogue, updated with a CSV of extra fields when given.

    The extra CSV has the columns ``field,key,name,kind,unit``; ``kind`` is ``reference`` or
    ``covariate`` (subject attributes are fixed because they map onto subject columns).
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
            specs[field] = FieldSpec(field, row.get("key") or f"f{field}", row.get("name") or "", kind,
                                     (row.get("unit") or "").strip())
    return specs


CATALOGUE = load_catalogue()
FIELD_BY_KEY = {spec.key: spec for spec in FIELDS}
