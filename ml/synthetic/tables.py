"""The cohort's tables: the showcase CSV, the ground truth per archive and the cohort description.

All three are written byte-for-byte deterministically (fixed column order, fixed number formats, no
dates or timings), so two runs with the same seed give identical files.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from ml.synthetic.population import Subject, Visit
from ml.ukb.fields import FIELDS, SEX_CODES, Column
from ml.ukb.headers import RAP, UKBCONV_CSV, HeaderStyle, column_name
from ml.ukb.schema import load_fields

GENERATOR_VERSION = "1"
GROUND_TRUTH_COLUMNS = ("eid", "instance", "archive", "sex", "liver_ff_true", "liver_ff_image", "bmff_spine",
                        "bmff_femoral_head", "bmff_total_hip", "bmff_diaphysis", "faults", "fault_detail",
                        "labels_dir")


def showcase_columns(style: HeaderStyle = UKBCONV_CSV) -> list[tuple[str, str, float]]:
    """(field key, column name, scale) of every showcase column after ``eid``, e.g. ("bmi", "21001-2.0", 1).
    Values are written in the showcase's unit: the stored value divided by the catalogue's ``scale``."""
    schema, columns = load_fields(), []
    for spec in FIELDS:
        instance = spec.subject_instance if spec.subject_instance is not None else 2
        entry = schema[spec.field]
        name = column_name(style, Column(spec.field, instance, 0), instanced=entry.instanced, arrayed=entry.arrayed)
        columns.append((spec.key, name, spec.scale))
    return columns


def _cell(value: float | int | None, scale: float = 1.0) -> str:
    """Empty for missing; integers plainly; floats in their shortest exact form (already rounded)."""
    if value is None:
        return ""
    return str(value) if scale == 1 else str(round(value / scale, 6))


def write_showcase(path: Path, subjects: Sequence[Subject], style: HeaderStyle = UKBCONV_CSV) -> None:
    """One row per participant: the participant id, then one column per field instance in ``style``
    (ukbconv's ``FIELD-INSTANCE.ARRAY`` by default, or the Research Analysis Platform's names), empty
    cells when missing."""
    columns = showcase_columns(style)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["participant.eid" if style.name == RAP.name else "eid", *(name for _, name, _ in columns)])
        for subject in subjects:
            writer.writerow([subject.eid, *(_cell(subject.showcase[key], scale) for key, _, scale in columns)])


def ground_truth_row(visit: Visit, fault_detail: str) -> dict[str, str]:
    """The truth behind one archive: fat fractions as written into its images, faults and labels."""
    row = {
        "eid": str(visit.subject.eid),
        "instance": str(visit.instance),
        "archive": f"{visit.name}.zip",
        "sex": SEX_CODES[visit.subject.sex],
        "liver_ff_true": f"{visit.liver_ff_true:.3f}",
        "liver_ff_image": f"{visit.liver_ff_image:.3f}",
    }
    row.update({f"bmff_{region}": f"{ff:.3f}" for region, ff in visit.bmff.items()})
    row.update({"faults": ";".join(visit.faults.codes), "fault_detail": fault_detail,
                "labels_dir": f"labels/{visit.name}"})
    return row


def write_ground_truth(path: Path, rows: Sequence[Mapping[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, GROUND_TRUTH_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_cohort_json(path: Path, settings: Mapping[str, object]) -> None:
    """Generator settings and version (no dates), for tracing a cohort back to how it was made."""
    document = {"generator": "ml.synthetic", "version": GENERATOR_VERSION, **settings}
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


SIMULATED_RATER = "synthetic-rater"
QC_FAILING_FAULTS = {  # faults a visual rater fails a scan for (liver fat paper), with the recorded reason
    "water_fat_swap": "water_fat_swap",
    "noise": "noise",
    "metal": "metal",
    "missing_station": "data_structure",
}


def write_qc_decisions(path: Path, rows: Sequence[Mapping[str, str]]) -> None:
    """A simulated visual QC of every archive in the ``import_qc`` layout: a fail (with the paper's reason)
    for faults that show in the water and fat projections, a pass otherwise."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["eid", "instance", "verdict", "reason", "note", "rater"])
        for row in rows:
            faults = [code for code in row["faults"].split(";") if code in QC_FAILING_FAULTS]
            verdict, reason = ("fail", QC_FAILING_FAULTS[faults[0]]) if faults else ("pass", "")
            writer.writerow([row["eid"], row["instance"], verdict, reason, "simulated rater", SIMULATED_RATER])


TRUE_VALUE_COLUMNS = ("liver_ff_true", "bmff_spine", "bmff_femoral_head", "bmff_total_hip", "bmff_diaphysis")


def read_true_values(path: Path, *, instance: int = 2) -> dict[str, dict[int, float]]:
    """The true value of each measured quantity per eid at ``instance``, from a cohort's ``ground_truth.csv``:
    ``{column: {eid: value}}`` for :data:`TRUE_VALUE_COLUMNS` (the liver PDFF the reference fields measure, and
    each marrow region's BMFF). Raises ValueError naming the file, line and column of a missing or bad value."""
    values: dict[str, dict[int, float]] = {column: {} for column in TRUE_VALUE_COLUMNS}
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        absent = [c for c in ("eid", "instance", *TRUE_VALUE_COLUMNS) if c not in (reader.fieldnames or ())]
        if absent:
            raise ValueError(f"{path}: not a ground truth file (no column {', '.join(absent)})")
        for line, row in enumerate(reader, start=2):
            if _number(path, line, row, "instance", int) != instance:
                continue
            eid = _number(path, line, row, "eid", int)
            for column in TRUE_VALUE_COLUMNS:
                values[column][eid] = _number(path, line, row, column, float)
    return values


def _number(path: Path, line: int, row: Mapping[str, str], column: str, kind: type) -> float:
    try:
        return kind(row[column])
    except (TypeError, ValueError):
        raise ValueError(f"{path}, line {line}, column {column}: not a number: {row[column]!r}") from None
