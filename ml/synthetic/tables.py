"""The cohort's tables: the showcase CSV, the ground truth per archive and the cohort description.

All three are written byte-for-byte deterministically (fixed column order, fixed number formats, no
timings; the only dates are the visits' own), so two runs with the same seed give identical files.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path

from ml.synthetic.population import Subject, Visit
from ml.ukb.fields import FIELDS, SEX_CODES, VISIT_INSTANCES, Column, FieldSpec
from ml.ukb.headers import UKBCONV_CSV, HeaderStyle, column_name
from ml.ukb.schema import load_fields

GENERATOR_VERSION = "3"  # 2: repeat visits with a modelled true change; 3: harder images and rater labels
GROUND_TRUTH_COLUMNS = ("eid", "instance", "archive", "sex", "liver_ff_true", "liver_ff_image", "bmff_spine",
                        "bmff_femoral_head", "bmff_total_hip", "bmff_diaphysis", "faults", "fault_detail",
                        "labels_dir", "days_since_first", "age_true", "bmi_true")
REPEAT_INSTANCE = 3


def _instances(spec: FieldSpec) -> tuple[int, ...]:
    """The instances the cohort writes for a field: the subject's instance, both imaging visits for what is
    measured per visit, else the first imaging visit. A repeat visit's column is written only for a field
    the showcase schema holds at instance 3 (``instance_max``: the liver PDFF fields 22402 and 22436 have
    instance 2 only)."""
    if spec.subject_instance is not None:
        return (spec.subject_instance,)
    if spec.kind == "visit" and (load_fields()[spec.field].instance_max or 0) >= REPEAT_INSTANCE:
        return VISIT_INSTANCES
    return (2,)


def showcase_columns(style: HeaderStyle = UKBCONV_CSV) -> list[tuple[str, int, str, float]]:
    """(field key, instance, column name, scale) of every showcase column after ``eid``, e.g.
    ("bmi", 3, "21001-3.0", 1), field by field and instance by instance as ukbconv orders them. Values are
    written in the showcase's unit: the stored value divided by the catalogue's ``scale``."""
    schema, columns = load_fields(), []
    for spec in FIELDS:
        entry = schema[spec.field]
        for instance in _instances(spec):
            name = column_name(style, Column(spec.field, instance, 0), instanced=entry.instanced,
                               arrayed=entry.arrayed)
            columns.append((spec.key, instance, name, spec.scale))
    return columns


def _cell(value: float | int | date | None, scale: float = 1.0) -> str:
    """Empty for missing; integers plainly; dates as YYYY-MM-DD; floats in their shortest exact form
    (already rounded)."""
    if value is None:
        return ""
    return str(value) if scale == 1 else str(round(value / scale, 6))


def _value(subject: Subject, key: str, instance: int) -> float | int | date | None:
    """A subject's showcase value of one column: the repeat visit's for instance 3, else the first visit's."""
    return subject.showcase_repeat.get(key) if instance == REPEAT_INSTANCE else subject.showcase[key]


def write_showcase(path: Path, subjects: Sequence[Subject], style: HeaderStyle = UKBCONV_CSV) -> None:
    """One row per participant: the participant id, then one column per field instance in ``style``
    (ukbconv's ``FIELD-INSTANCE.ARRAY`` by default, the Research Analysis Platform's names, or ukbconv's
    tab-separated R output), empty cells when missing (every instance-3 cell of a participant without a
    repeat visit)."""
    columns = showcase_columns(style)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=style.delimiter, lineterminator="\n")
        writer.writerow([style.eid[0], *(name for _, _, name, _ in columns)])
        for subject in subjects:
            writer.writerow([subject.eid, *(_cell(_value(subject, key, instance), scale)
                                            for key, instance, _, scale in columns)])


def ground_truth_row(visit: Visit, fault_detail: str) -> dict[str, str]:
    """The truth behind one archive: fat fractions as written into its images, faults and labels, and the
    participant at the visit (days since the first imaging visit, exact age, BMI)."""
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
                "labels_dir": f"labels/{visit.name}", "days_since_first": str(visit.days_since_first),
                "age_true": f"{visit.age_true:.3f}", "bmi_true": f"{visit.bmi_true:.4f}"})
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
    for line, row in _truth_rows(path):
        if _number(path, line, row, "instance", int) != instance:
            continue
        eid = _number(path, line, row, "eid", int)
        for column in TRUE_VALUE_COLUMNS:
            values[column][eid] = _number(path, line, row, column, float)
    return values


def read_true_changes(path: Path) -> dict[str, dict[int, float]]:
    """The true change of each measured quantity from the first to the repeat imaging visit, from a cohort's
    ``ground_truth.csv``: ``{column: {eid: value at instance 3 - value at instance 2}}`` for
    :data:`TRUE_VALUE_COLUMNS`, for the participants with both visits. Raises ValueError naming the file,
    line and column of a missing or bad value, or the lines of a visit given twice."""
    visits: dict[int, dict[int, tuple[int, dict[str, float]]]] = {2: {}, REPEAT_INSTANCE: {}}
    for line, row in _truth_rows(path):
        instance = _number(path, line, row, "instance", int)
        if instance not in visits:
            continue
        eid = _number(path, line, row, "eid", int)
        if eid in visits[instance]:
            raise ValueError(f"{path}, line {line}: eid {eid} instance {instance} again "
                             f"(first on line {visits[instance][eid][0]})")
        visits[instance][eid] = (line, {c: _number(path, line, row, c, float) for c in TRUE_VALUE_COLUMNS})
    first, repeat = visits[2], visits[REPEAT_INSTANCE]
    both = [eid for eid in repeat if eid in first]
    return {column: {eid: round(repeat[eid][1][column] - first[eid][1][column], 9) for eid in both}
            for column in TRUE_VALUE_COLUMNS}  # rounded: the file's decimals, without float residue


def _truth_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of a cohort's ``ground_truth.csv``; ValueError when a column the readers need is absent."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        absent = [c for c in ("eid", "instance", *TRUE_VALUE_COLUMNS) if c not in (reader.fieldnames or ())]
        if absent:
            raise ValueError(f"{path}: not a ground truth file (no column {', '.join(absent)})")
        yield from enumerate(reader, start=2)


def _number(path: Path, line: int, row: Mapping[str, str], column: str, kind: type) -> float:
    try:
        return kind(row[column])
    except (TypeError, ValueError):
        raise ValueError(f"{path}, line {line}, column {column}: not a number: {row[column]!r}") from None
