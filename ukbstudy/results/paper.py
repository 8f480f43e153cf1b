"""Every table of both papers that the database can fill, in the papers' layouts (``manage.py report paper``).

Reads only. :func:`paper_sections` returns one :class:`Section` per paper table: its title, a line naming the
dataset and its n, and the tables, or one "cannot be filled" line saying what is missing, so that one empty
table never stops the others. :func:`render_sections` prints them as text or as CSV blocks, each after a
``# title`` line. Statistics come from ``analysis`` (no figure is computed here); values from
:func:`ukbstudy.measurements.selectors.frames.scan_frame`, one row per scan of the first imaging visit
(current model version's segmentation BMFF, withdrawn subjects left out).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import pandas as pd

from ml.marrow.regions import REGIONS
from ml.ukb.fields import FIELD_BY_KEY
from ukbstudy.atlas.selectors import three_way_frames
from ukbstudy.marrow.selectors import dice_report
from ukbstudy.measurements.selectors import DEFAULT_REFERENCE_FIELD
from ukbstudy.measurements.selectors.datasets import DEFAULT_C_SIZE
from ukbstudy.measurements.selectors.frames import scan_frame

LIVER = "Liver fat paper"
MARROW = "Bone marrow paper"
BMFF = {f"bmff_{name}": region.label for name, region in REGIONS.items()}  # frame column -> region label
COVARIATES = ("tscore_spine", "tscore_total_hip", "tscore_femoral_neck", "bmd_spine", "bmd_femoral_neck",
              "bmd_total_hip", "bmd_femoral_shaft", "fat_pct_android", "fat_pct_gynoid", "fat_pct_legs",
              "fat_pct_trunk", "fat_pct_total", "vat_mass")
LABELS = {**{column: f"BMFF {label}" for column, label in BMFF.items()}, "sex": "Sex", "age": "Age", "bmi": "BMI",
          "tscore_spine": "BMD T-score (L1-L4)", "bmd_spine": "BMD spine", "bmd_femoral_neck": "BMD femoral neck",
          "bmd_total_hip": "BMD total hip", "bmd_femoral_shaft": "BMD femoral shaft", "fat_pct_legs": "Legs fat%",
          "fat_pct_android": "Android fat%", "fat_pct_trunk": "Trunk fat%", "vat_mass": "VAT mass (g)",
          "vat_mass_kg": "VAT mass (kg)"}
KILOGRAMS = {"vat_mass_kg": "vat_mass"}  # the regression tables give VAT in kg (Table 1 in g, as field 23288)
# Table 1's rows as the paper prints them, then each region's BMFF (the paper's Fig. 5B-D groups)
CHARACTERISTICS = {"age": "Age (years)", "bmi": "BMI (kg/m²)", "tscore_spine": "BMD T-score (L1-L4)",
                   "tscore_total_hip": "BMD T-score (total femur, left)",
                   "tscore_femoral_neck": "BMD T-score (femoral neck, left)",
                   **{f"fat_pct_{part}": f"{part.capitalize()} tissue fat% by DXA"
                      for part in ("android", "gynoid", "legs", "trunk", "total")},
                   "vat_mass": "VAT mass (g)", **{column: f"BMFF {label} (%)" for column, label in BMFF.items()}}
SEXES = {"M": "Males", "F": "Females"}
WHO_LABELS = {"normal": "Control", "osteopaenia": "Osteopaenic", "osteoporosis": "Osteoporotic"}
SPINE, HEAD, HIP, SHAFT = "bmff_spine", "bmff_femoral_head", "bmff_total_hip", "bmff_diaphysis"
# Univariable (dependent, explanatory) pairs: Table 4 (every region's BMFF against each later region's), and each
# region's BMFF against age, BMI and spine BMD (the Supplemental Table 5 layout).
BETWEEN_REGIONS = [(y, x) for i, x in enumerate(BMFF) for y in list(BMFF)[i + 1:]]
AGAINST_COVARIATES = [(y, x) for y in BMFF for x in ("age", "bmi", "bmd_spine")]
BASE = ("sex", "bmi", "fat_pct_legs")
COLUMN_ORDER = ("bmi", "fat_pct_legs", "vat_mass_kg", "fat_pct_android", "fat_pct_trunk")  # after BMFF and Sex (M)
# The paper's multivariable models (Tables 5-8): (table, dependent, [(model name, covariates)]).
MODELS = (
    ("Table 5", "bmd_spine", [("Model 4.1", [SPINE, "sex"]), ("Model 4.2", [SPINE, "sex", "bmi"]),
                              ("Model 4.3", [SPINE, *BASE]), ("Model 4.4", [SPINE, *BASE, "vat_mass_kg"]),
                              ("Model 4.5", [SPINE, *BASE, "fat_pct_android"]),
                              ("Model 4.6", [SPINE, *BASE, "vat_mass_kg", "fat_pct_android"])]),
    ("Table 6", "bmd_femoral_neck", [
        ("Model 5.1", [HEAD]), ("Model 5.2", [HEAD, "bmi"]), ("Model 5.3", [HEAD, "bmi", "fat_pct_legs"]),
        ("Model 5.4", [HIP, "sex"]), ("Model 5.5", [HIP, "sex", "bmi"]), ("Model 5.6", [HIP, *BASE]),
        ("Model 5.7", [HIP, *BASE, "fat_pct_android"]), ("Model 5.8", [HIP, *BASE, "fat_pct_android", "fat_pct_trunk"]),
        ("Model 5.9", [SPINE, "sex"]), ("Model 5.10", [SPINE, "sex", "bmi"]), ("Model 5.11", [SPINE, *BASE]),
        ("Model 5.12", [HIP, SPINE, *BASE, "fat_pct_android", "fat_pct_trunk"])]),
    ("Table 7", "bmd_total_hip", [("Model 6.1", [HIP, "sex"]), ("Model 6.2", [HIP, "sex", "bmi"]),
                                  ("Model 6.3", [HIP, *BASE]), ("Model 6.4", [HIP, *BASE, "vat_mass_kg"])]),
    ("Table 8", "bmd_femoral_shaft", [
        ("Model 7.1", [SHAFT, "sex"]), ("Model 7.2", [SHAFT, "sex", "bmi"]), ("Model 7.3", [SHAFT, *BASE]),
        ("Model 7.4", [SHAFT, *BASE, "vat_mass_kg"]), ("Model 7.5", [SHAFT, *BASE, "fat_pct_android"]),
        ("Model 7.6", [SHAFT, *BASE, "fat_pct_trunk"]),
        ("Model 7.7", [SHAFT, *BASE, "vat_mass_kg", "fat_pct_android", "fat_pct_trunk"])]),
)
TrueValues = Mapping[str, Mapping[int, float]]  # column -> {eid: true value}, ml.synthetic.tables.read_true_values
TRUE_LIVER = "liver_ff_true"  # the liver PDFF that the reference fields measure (with noise)
SEGMENT = "run `manage.py marrow segment`"
IMPORT = "import the DXA fields with `manage.py import_fields`"


class CannotFill(Exception):
    """Raised by a section builder: the database lacks what the table needs (the message says what)."""


@dataclass(frozen=True)
class Section:
    """One paper table: title, a line naming the dataset and its n, the tables, and lines about what was left out.

    ``tables`` is empty when the section cannot be filled; ``lines`` then says why.
    """

    title: str
    dataset: str = ""
    tables: tuple = ()  # analysis.tables.Table
    lines: tuple[str, ...] = ()


def paper_sections(*, field: str = DEFAULT_REFERENCE_FIELD, seed: int = 0, c_size: int = DEFAULT_C_SIZE,
                   truth: TrueValues | None = None) -> list[Section]:
    """Liver Table 1, then the bone marrow paper's Table 1, Table 2, Fig. 5A, Table 4, Supplemental Table 5
    layout and Tables 5-8, each filled from the database or saying why it cannot be.

    ``truth`` (a synthetic study's :func:`ml.synthetic.tables.read_true_values`): every value a method of the
    app measured (network, atlas, segmentation BMFF) is replaced by the true value of the same subject, on the
    same subjects; reference fields and DXA covariates stay. Comparing the two reports shows what the methods'
    errors do to each table."""
    frame = marrow_frame(truth)
    builders: list[tuple[str, Callable[[], Section]]] = [
        (f"{LIVER}, Table 1: reference vs network vs atlas on datasets A and C",
         lambda: liver_table_1(field=field, seed=seed, c_size=c_size, truth=truth)),
        (f"{MARROW}, Table 1: participant characteristics by WHO category of the spine T-score",
         lambda: marrow_table_1(frame)),
        (f"{MARROW}, Table 2: Dice per region and architecture of the current segmentation model",
         lambda: marrow_table_2(truth)),
        (f"{MARROW}, Fig. 5A: BMFF by region and sex in control subjects (mixed-effects model)",
         lambda: marrow_fig_5a(frame)),
        (f"{MARROW}, Table 4: univariable associations between the regions' BMFF (y ~ x * sex)",
         lambda: univariable_section(frame, BETWEEN_REGIONS)),
        (f"{MARROW}, Tables 4-8 (Supplemental Table 5 layout): each region's BMFF vs age, BMI and spine BMD "
         "(y ~ x * sex)", lambda: univariable_section(frame, AGAINST_COVARIATES)),
        *((f"{MARROW}, {table}: multivariable regression of {LABELS[dependent]}",
           lambda dependent=dependent, models=models: model_section(frame, dependent, models))
          for table, dependent, models in MODELS),
    ]
    return [_build(title, build) for title, build in builders]


def _build(title: str, build: Callable[[], Section]) -> Section:
    from analysis import AnalysisError  # statsmodels and friends load only when a report is asked for

    try:
        section = build()
    except (CannotFill, AnalysisError) as exc:
        return Section(title, lines=(f"cannot be filled: {exc}",))
    return Section(title, section.dataset, section.tables, section.lines)


def marrow_frame(truth: TrueValues | None = None) -> pd.DataFrame:
    """One row per scan of the first imaging visit: scan, eid, instance, sex, age, BMI, each region's
    segmentation BMFF (or, with ``truth``, the true BMFF where the segmentation measured one) and the DXA
    covariates."""
    columns = {"sex": "sex", "age": "age", "bmi": "bmi", **{c: f"segmentation:{c}" for c in BMFF},
               **{c: c for c in COVARIATES}}
    frame = scan_frame(columns=list(columns.values()))
    frame = frame.rename(columns={query: name for name, query in columns.items()})
    for column, grams in KILOGRAMS.items():
        frame[column] = frame[grams] / 1000.0
    return _true(frame, {column: column for column in BMFF}, truth)


def _true(frame: pd.DataFrame, replace_by: Mapping[str, str], truth: TrueValues | None) -> pd.DataFrame:
    """``frame`` with each column of ``replace_by`` replaced by its subject's true value (``truth[replace_by[c]]``)
    where the column had a value; unchanged without ``truth``."""
    if truth is None:
        return frame
    frame = frame.copy()
    for column, true_column in replace_by.items():
        true = frame["eid"].map(truth[true_column]).astype(float)
        frame[column] = true.where(frame[column].notna())
    return frame


def _lacking(frame: pd.DataFrame, columns) -> list[str]:
    return [c for c in dict.fromkeys(columns) if c not in frame.columns or frame[c].notna().sum() == 0]


def _source(column: str) -> str:
    """Where a column's values come from, for 'no values of ...' lines."""
    if column in BMFF:
        return f"{column} (segmentation: {SEGMENT})"
    if column in KILOGRAMS:
        return f"{_source(KILOGRAMS[column])} in kg"
    if column in FIELD_BY_KEY:
        return f"{column} (field {FIELD_BY_KEY[column].field}-2.0)"
    return column


# --- liver fat paper --------------------------------------------------------------------------------------------


def liver_table_1(*, field: str, seed: int, c_size: int, truth: TrueValues | None = None) -> Section:
    from analysis.threeway import three_way_tables

    frame_a, frame_c = (_true(frame, {"network": TRUE_LIVER, "atlas": TRUE_LIVER}, truth)
                        for frame in three_way_frames(field=field, seed=seed, c_size=c_size))
    if frame_a.empty:
        raise CannotFill(f"dataset A is empty (no QC-passed subject with reference field {field})")
    needs = (("A", frame_a, "reference", "network", "run `manage.py liverfat cv`"),
             ("A", frame_a, "reference", "atlas", "run `manage.py atlas run`"),
             ("C", frame_c, "atlas", "network", "run `manage.py liverfat infer` and `manage.py atlas run`"))
    for name, frame, a, b, hint in needs:
        if frame[[a, b]].notna().all(axis=1).sum() < 3:
            missing = b if frame[a].notna().sum() >= 3 else a
            raise CannotFill(f"no {missing} values on dataset {name} (fewer than 3 subjects with {a} and {b}): {hint}")
    dataset = (f"dataset A: QC-passed subjects with reference field {field}, n = {len(frame_a)}; dataset C: "
               f"random draw of {c_size} from B (seed {seed}), n = {len(frame_c)}")
    return Section("", dataset, tuple(three_way_tables(frame_a, frame_c)))


# --- bone marrow paper: characteristics, Dice, Fig. 5A -----------------------------------------------------------


def _who(frame: pd.DataFrame) -> pd.Series:
    from analysis import who_category

    if not frame["tscore_spine"].notna().any():
        raise CannotFill(f"no spine T-scores ({_source('tscore_spine')}): {IMPORT}")
    return who_category(frame["tscore_spine"])


def marrow_table_1(frame: pd.DataFrame) -> Section:
    """The paper's Table 1: each variable by sex and WHO group, groups against their sex's control, control
    males against control females."""
    from analysis.tables import characteristics_by_sex_table

    who = _who(frame).map(WHO_LABELS)
    rows, lines = [], []
    for column, label in CHARACTERISTICS.items():
        row = _sex_split_row(frame, who, column, label, lines)
        if row is not None:
            rows.append(row)
    if not rows:
        raise CannotFill("no variable could be compared across the WHO groups: " + "; ".join(lines))
    counts = "; ".join(f"{name} " + ", ".join(f"{group} {int(((frame['sex'] == sex) & (who == group)).sum())}"
                                               for group in WHO_LABELS.values()) for sex, name in SEXES.items())
    dataset = f"subjects with a spine T-score (field 23205-2.0) and sex, n = {int(who.notna().sum())} ({counts})"
    table = characteristics_by_sex_table(rows, title="Participant characteristics by sex and WHO category")
    return Section("", dataset, (table,), tuple(lines))


def _sex_split_row(frame: pd.DataFrame, who: pd.Series, column: str, label: str, lines: list[str]):
    from analysis import AnalysisError, compare_groups
    from analysis.tables import SexSplitRow

    if _lacking(frame, [column]):
        lines.append(f"{label} left out: no values of {_source(column)}")
        return None

    def values(sex: str, group: str):
        return frame.loc[(frame["sex"] == sex) & (who == group), column].to_numpy(dtype=float)

    by_sex = {}
    for sex, name in SEXES.items():
        try:
            by_sex[name] = compare_groups({g: values(sex, g) for g in WHO_LABELS.values()}, control="Control")
        except AnalysisError as exc:
            lines.append(f"{label}, {name} left out: {exc}")
    try:
        controls = compare_groups({name: values(sex, "Control") for sex, name in SEXES.items()})
    except AnalysisError:
        controls = None
    return SexSplitRow(label, by_sex, controls) if by_sex else None


def marrow_table_2(truth: TrueValues | None = None) -> Section:
    from analysis.tables import Table, num

    if truth is not None:
        raise CannotFill("with the true values: an exact segmentation has Dice 1 in every region")
    report = dice_report()
    if report is None:
        raise CannotFill("no current segmentation model: run `manage.py marrow train`")
    rows = []
    for arch, label in zip(report["architectures"], report["labels"], strict=True):
        rows.append((label, *(_dice(row[arch], num) for row in report["rows"])))
    archs = report["architectures"]
    sizes = "; ".join(f"{row['label']} n = " + "/".join(str((row[a] or {}).get("n", 0)) for a in archs)
                      for row in report["rows"])
    notes = ("Mean held-out Dice per region (test subjects per architecture in the dataset line).",)
    table = Table("Segmentation accuracy (Dice)", ("Architecture", *(row["label"] for row in report["rows"])),
                  tuple(rows), notes)
    return Section("", f"held-out test sets of run {report['version']}: {sizes}", (table,))


def _dice(summary: dict | None, num) -> str:
    return "-" if not summary or summary.get("mean") is None else num(float(summary["mean"]), 3)


def marrow_fig_5a(frame: pd.DataFrame) -> Section:
    from analysis import mixed_model
    from analysis.tables import two_factor_tables

    controls = frame[_who(frame) == "normal"]
    long = controls.melt(id_vars=["eid", "sex"], value_vars=list(BMFF), var_name="region", value_name="bmff")
    long["region"] = pd.Categorical(long["region"].map(BMFF), categories=list(BMFF.values()))
    long = long.dropna(subset=["bmff", "sex"])
    if long.empty:
        raise CannotFill(f"no segmentation BMFF values of control subjects: {SEGMENT}")
    lines = tuple(f"{label}: no values, left out" for label in BMFF.values() if label not in set(long["region"]))
    result = mixed_model(long, "bmff", "region", "sex", "eid", compare="sex")
    dataset = (f"control subjects (normal spine T-score) with segmentation BMFF, n = {result.n_subjects} subjects, "
               f"{result.n} values")
    return Section("", dataset, tuple(two_factor_tables(result, title="BMFF by region and sex")), lines)


# --- bone marrow paper: regression tables ----------------------------------------------------------------------


def univariable_section(frame: pd.DataFrame, pairs: list[tuple[str, str]]) -> Section:
    """``y ~ x * sex`` rows for every pair whose two columns have values; the others named in a line."""
    from analysis import univariable_family
    from analysis.tables import univariable_table

    kept = [pair for pair in pairs if not _lacking(frame, pair)]
    lines = tuple(f"{LABELS[y]} ~ {LABELS[x]} left out: no values of "
                  f"{', '.join(_source(c) for c in _lacking(frame, (y, x)))}" for y, x in pairs if (y, x) not in kept)
    if not kept:
        raise CannotFill("no pair has values: " + "; ".join(lines))
    family = univariable_family(frame, kept, labels=LABELS)
    sizes = sorted(row.n for row in family.rows if row.stratum == "Both")
    span = f"{sizes[0]}" if sizes[0] == sizes[-1] else f"{sizes[0]} to {sizes[-1]}"
    dataset = f"subjects with both values and sex, n = {span} per pair (each row's n in the notes); {len(kept)} tests"
    return Section("", dataset, (univariable_table(family),), lines)


def model_section(frame: pd.DataFrame, dependent: str, models: list[tuple[str, list[str]]]) -> Section:
    """The paper's model sequence; a model with a covariate the database lacks is skipped, and said so."""
    from analysis import model_sequence
    from analysis.tables import model_table

    if _lacking(frame, [dependent]):
        raise CannotFill(f"no values of {_source(dependent)}: {IMPORT}")
    kept = [(name, covariates) for name, covariates in models if not _lacking(frame, covariates)]
    lines = tuple(f"{name} skipped: no values of {', '.join(_source(c) for c in _lacking(frame, covariates))}"
                  for name, covariates in models if (name, covariates) not in kept)
    if not kept:
        raise CannotFill("every model lacks a covariate: " + "; ".join(lines))
    sequence = model_sequence(frame, dependent, [c for _, c in kept], categorical={"sex": "F"}, labels=LABELS,
                              names=[name for name, _ in kept])
    # the paper's columns: BMFF as the models bring them in, then sex, BMI, legs, VAT, android and trunk fat
    used = dict.fromkeys(c for _, covariates in models for c in covariates)
    order = [LABELS[c] for c in used if c in BMFF] + ["Sex (M)", *(LABELS[c] for c in COLUMN_ORDER)]
    sequence = replace(sequence, labels=tuple(sorted(sequence.labels, key=order.index)))
    dataset = (f"subjects with every variable of the models shown (common sample), n = {sequence.fits[0].n}; "
               f"dependent: {_source(dependent)}")
    return Section("", dataset, (model_table(sequence, title=f"Multivariable regression: {LABELS[dependent]}"),),
                   lines)


# --- rendering --------------------------------------------------------------------------------------------------


def render_sections(sections: list[Section], fmt: str = "text") -> str:
    """Text: each section's title, dataset line, notes and tables. CSV: '# ' lines, then each table's grid after
    a '# <table title>' line."""
    from analysis.tables import render

    parts = []
    for section in sections:
        head = [section.title, *([section.dataset] if section.dataset else []), *section.lines]
        if fmt == "csv":
            blocks = [f"# {table.title}\n{render(table, 'csv')}" for table in section.tables]
            parts.append("\n".join([*(f"# {line}" for line in head), *blocks]))
        else:
            rule = "=" * len(section.title)
            parts.append("\n".join([rule, *head, rule, "", *(render(table, "text") for table in section.tables)]))
    return "\n".join(parts) + "\n"
