"""What each results page shows: selectors' data through ``analysis`` into figures and paper-style tables.

Each builder returns a plain context dictionary of :class:`Panel` (a figure beside its table) and tables
(``analysis.tables.Table``), so the views only parse input and render. Anything the statistics engine refuses
(too few subjects, constant values) is shown as that panel's message instead of failing the page. Panels,
comparisons and rankings are cached on a fingerprint of the tables they read (``cache.cached_part``): a page
over 100,000 subjects is computed once per change of its data, not once per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import AnalysisError, agreement, compare_groups, model_sequence, top_disagreements, univariable_family
from analysis.tables import Table, agreement_table, group_table, model_table, outlier_table, univariable_table
from ukbstudy.qc.models import Verdict

from . import figures
from .cache import EVERYTHING, Fingerprints, cached_part, results_part
from .models import OutlierVerdict
from .selectors import (
    Comparison,
    axis_title,
    cohort_counts,
    column_label,
    column_unit,
    comparison_frame,
    coverage,
    current_verdict_codes,
    current_verdicts,
    distribution_frame,
    qc_over_time,
    qc_status_counts,
    queue_frame,
    reviewed_out_of_a,
)

GROUPINGS = {"sex": "Sex", "centre": "Centre", "age_band": "Age band", "bmi_class": "BMI class"}
AGE_BANDS = ([0, 50, 60, 70, np.inf], ["<50", "50-59", "60-69", "70+"])
BMI_CLASSES = ([0, 25, 30, np.inf], ["<25", "25-30", ">=30"])
BANDS = {"age_band": AGE_BANDS[1], "bmi_class": BMI_CLASSES[1]}
QC_STATUS_NAMES = dict(Verdict.choices) | {"unreviewed": "Not reviewed"}
REVIEW_CHOICES = [("all", "All scans"), ("unreviewed", "Unreviewed"), *OutlierVerdict.Verdict.choices]
DATASET_MEANINGS = {  # as ukbstudy.measurements.selectors.datasets defines them
    "A": "QC-passed scans of the first imaging visit with a {field} value",
    "B": "QC-passed scans of the first imaging visit without a {field} value",
    "C": "a seeded random subset of dataset B",
    "all": "every processed scan of the first imaging visit",
    "repeat": "QC-passed scans of the repeat imaging visit whose participant has a QC-passed first imaging scan",
}
EXCLUDING_VERDICTS = (OutlierVerdict.Verdict.REFERENCE_IMPLAUSIBLE,)  # as datasets.excluded_reference_subject_ids


@dataclass(frozen=True)
class Panel:
    """A figure (JSON for Plotly) with the numbers it shows as a table, or a message why there is none."""

    key: str
    figure: str = ""
    table: Table | None = None
    message: str = ""


def _count_table(title: str, header: Sequence[str], rows: Sequence[Sequence]) -> Table:
    return Table(title, tuple(header), tuple(tuple(str(cell) for cell in row) for row in rows))


def _counts_panel(key: str, rows: Sequence[tuple[str, str, int]], draw, title: str,
                  header: tuple[str, str, str], *, months: bool = False) -> Panel:
    """Counts as bars beside their table; a message instead of an empty plot when there is nothing to count.
    ``months``: the x values are months (``YYYY-MM``), drawn as month names in calendar order."""
    if not rows:
        return Panel(key, message=f"{title}: nothing recorded yet.")
    table_rows = [(x, n) for x, _, n in rows] if header[0] == header[1] else rows
    table_header = (header[0], header[2]) if header[0] == header[1] else header
    figure = draw(rows, title, header[0], header[2].lower(), months=months)
    return Panel(key, figures.figure_json(figure), _count_table(title, table_header, table_rows))


# --- dashboard ----------------------------------------------------------------------------------------------------


VALUES = ("subjects", "scans", "measurements", "showcase", "verdicts")  # "verdicts": a manual value entered
# with a verdict updates its measurement in place (no new row)


def dashboard(*, column: str, quantity: str, grouping: str) -> dict:
    fingerprints = Fingerprints()
    panels = [
        *cached_part("dashboard-counts", {}, fingerprints=fingerprints),
        *cached_part("dashboard-qc", {}, fingerprints=fingerprints),
        cached_part("dashboard-coverage", {}, fingerprints=fingerprints),
        *cached_part("dashboard-distribution", {"column": column, "quantity": quantity, "grouping": grouping},
                     fingerprints=fingerprints),
    ]
    return {"panels": panels, "stale_since": fingerprints.stale_since}


@results_part("dashboard-counts", sources=("subjects", "scans"))
def _cohort_panels() -> list[Panel]:
    counts = cohort_counts()
    return [
        _counts_panel("centre", counts["centre"], figures.grouped_bars, "Subjects by centre and sex",
                      ("Centre", "Sex", "Subjects")),
        _counts_panel("visit", counts["visit"], figures.stacked_bars, "Scans by visit and processing state",
                      ("Visit", "State", "Scans")),
    ]


@results_part("dashboard-qc", sources=("subjects", "scans", "qc"))
def _qc_panels() -> list[Panel]:
    over_time, status = qc_over_time(), qc_status_counts()
    order = {code: i for i, code in enumerate(QC_STATUS_NAMES)}  # pass, questionable, fail, unreviewed
    status = [(QC_STATUS_NAMES.get(s, s),) * 2 + (n,) for s, n in sorted(status, key=lambda r: order.get(r[0], 9))]
    verdicts = [(month, QC_STATUS_NAMES.get(v, v), n) for month, v, n in over_time["verdicts"]]
    return [  # a status is its own series (one bar per category, coloured by status): stacked draws it full width
        _counts_panel("qc-status", status, figures.stacked_bars, "Processed scans by current QC status",
                      ("Status", "Status", "Scans")),
        _counts_panel("qc-time", verdicts, figures.stacked_bars, "QC decisions per month",
                      ("Month", "Verdict", "Decisions"), months=True),
        _counts_panel("qc-reasons", over_time["reasons"], figures.stacked_bars, "QC failure reasons per month",
                      ("Month", "Reason", "Failures"), months=True),
    ]


@results_part("dashboard-coverage", sources=VALUES)
def _coverage_panel() -> Panel:
    header, covered = coverage()
    return Panel("coverage", figures.figure_json(figures.coverage_heatmap(header, covered)),
                 _count_table("Subjects with a value", ("Quantity", *header), [(q, *values) for q, values in covered]))


@results_part("dashboard-distribution", sources=VALUES)
def _distribution_panels(column: str, quantity: str, grouping: str) -> list[Panel]:
    frame = distribution_frame(column=column, quantity=quantity)
    frame["sex"] = frame["sex"].map({"F": "Female", "M": "Male"})
    frame["group"] = _groups(frame, grouping)
    label = column_label(column) + (f" ({quantity})" if ":" not in column and column != "reference" else "")
    n = int(frame[column].notna().sum())
    if n == 0:
        message = f"No subject has a value for {label} yet."
        return [Panel("histogram", message=message), Panel("violin", message=message)]
    axis = axis_title(column, label)
    order = _group_order(frame["group"], grouping)
    histogram = figures.figure_json(figures.histogram_by_sex(frame, column, label, axis))
    violin = figures.figure_json(figures.violins(frame, column, label, GROUPINGS[grouping], axis, order))
    return [Panel("histogram", histogram, *_group_summary(frame, column, label, "sex", "Sex", ["Female", "Male"])),
            Panel("violin", violin, *_group_summary(frame, column, label, "group", GROUPINGS[grouping], order))]


def _groups(frame: pd.DataFrame, grouping: str) -> pd.Series:
    if grouping == "age_band":
        return pd.cut(frame["age"], bins=AGE_BANDS[0], labels=AGE_BANDS[1], right=False).astype(object)
    if grouping == "bmi_class":
        return pd.cut(frame["bmi"], bins=BMI_CLASSES[0], labels=BMI_CLASSES[1], right=False).astype(object)
    if grouping == "centre":
        from ml.ukb.fields import CENTRE_NAMES

        names = {c: CENTRE_NAMES.get(c, str(c)) for c in frame["centre"].dropna().unique()}  # once per centre
        return frame["centre"].map(names).astype(object)
    return frame["sex"]


def _group_order(groups: pd.Series, grouping: str) -> list[str]:
    """Groups in their natural order: bands from low to high, anything else alphabetically."""
    present = {str(g) for g in groups.dropna().unique()}
    if grouping in BANDS:
        return [band for band in BANDS[grouping] if band in present]
    return sorted(present)


def _group_summary(frame: pd.DataFrame, column: str, label: str, by: str, by_label: str,
                   order: Sequence[str]) -> tuple[Table | None, str]:
    """analysis.compare_groups over the groups (in ``order``) with at least 2 values, as the BMFF paper's group
    table; where fewer than two groups have that many, a message naming each group's count."""
    values = {str(name): rows[column].to_numpy(dtype=float) for name, rows in frame.groupby(by)}
    counts = {name: int(np.isfinite(values[name]).sum()) for name in order if name in values}
    groups = {name: values[name] for name, n in counts.items() if n >= 2}
    what = by_label.lower()
    if len(groups) < 2:
        found = ", ".join(f"{name} {n}" for name, n in counts.items()) or "none"
        return None, (f"No test between {what} groups: a test needs two or more groups with at least 2 values "
                      f"each (values per {what}: {found}).")
    try:
        return group_table([(label, compare_groups(groups))], title=f"{label} by {what}"), ""
    except AnalysisError as exc:
        return None, f"No test between {what} groups: {exc}"


# --- method comparison ----------------------------------------------------------------------------------------------


def comparison(comparison: Comparison, *, threshold: float) -> dict:
    fingerprints = Fingerprints()
    context = cached_part("comparison", {**comparison.as_query(), "threshold": threshold}, fingerprints=fingerprints)
    return {**context, "stale_since": fingerprints.stale_since}


@results_part("comparison", sources=EVERYTHING)
def _comparison(*, threshold: float, **query: str) -> dict:
    comparison = Comparison(**query)
    frame = comparison_frame(comparison)
    labels = (column_label(comparison.a), column_label(comparison.b))
    context = {"n_subjects": len(frame), "panels": [], "table": None, "message": ""}
    try:
        result = agreement(frame[comparison.a], frame[comparison.b], threshold, reference_name=comparison.a,
                           test_name=comparison.b)
    except AnalysisError as exc:
        context["message"] = f"No comparison on dataset {comparison.dataset}: {exc}"
        return context
    title = f"Method comparison on dataset {comparison.dataset} ({comparison.quantity})"
    context["table"] = agreement_table([(f"{labels[0]} vs {labels[1]}", result)], title=title)
    columns, unit = (comparison.a, comparison.b), column_unit(comparison.a)
    context["panels"] = [
        Panel("scatter", figures.figure_json(figures.scatter_identity(frame, *columns, labels, unit))),
        Panel("bland-altman", figures.figure_json(figures.bland_altman(frame, *columns, labels, result, unit))),
        Panel("roc", figures.figure_json(figures.roc(frame, *columns, labels, result)),
              message=figures.roc_undefined(frame, *columns, labels, result)),
    ]
    return context


# --- outlier queue --------------------------------------------------------------------------------------------------


def outlier_queue(comparison: Comparison, *, n: int, review: str = "all") -> dict:
    """The top-``n`` disagreements (analysis.top_disagreements) among the scans ``review`` selects ("all",
    "unreviewed" or a verdict), each with its scan (eid, instance), current verdict and whether that verdict
    took it out of dataset A.

    On dataset A the scans a "reference implausible" verdict took out of it stay in the queue (listed as
    such): a verdict never makes a scan vanish from the list it was reviewed from."""
    from ukbstudy.imaging.models import Scan

    labels = (column_label(comparison.a), column_label(comparison.b))
    fingerprints = Fingerprints()
    part = cached_part("outlier-queue", {**comparison.as_query(), "n": n, "review": review},
                       fingerprints=fingerprints)
    context = {"rows": [], "table": None, "message": part["message"], "counts": part["counts"],
               "n_subjects": part["n_subjects"], "stale_since": fingerprints.stale_since,
               "change_limits": part.get("change_limits")}
    ranking = part["ranking"]
    if ranking is None:
        return context
    scan_ids = [row.id for row in ranking.rows]
    scans = Scan.objects.select_related("subject").in_bulk(scan_ids)
    verdicts = current_verdicts(comparison=comparison, scan_ids=scan_ids)
    left_a = reviewed_out_of_a(comparison) if comparison.dataset == "A" else set()
    implausible = set(part.get("implausible", ()))
    context["rows"] = [(row, scans.get(row.id), verdicts.get(row.id), row.id in left_a, row.id in implausible)
                       for row in ranking.rows]
    context["table"] = outlier_table(ranking, *labels, ids={pk: f"{scan.subject.eid}_{scan.instance}"
                                                            for pk, scan in scans.items()})
    return context


@results_part("outlier-queue", sources=EVERYTHING)
def _queue(*, n: int, review: str, **query: str) -> dict:
    """analysis.top_disagreements on the queue's frame (ranked by scan), restricted to the scans ``review``
    selects; the review counts of the whole dataset; and, where nothing is ranked, why."""
    comparison = Comparison(**query)
    frame = queue_frame(comparison)
    verdicts = frame["scan"].map(current_verdict_codes(comparison=comparison))
    counts = {"unreviewed": int(verdicts.isna().sum()), **verdicts.value_counts().astype(int).to_dict()}
    chosen = frame[_review_mask(verdicts, review)]
    result = {"ranking": None, "message": "", "counts": counts, "n_subjects": len(frame)}
    if comparison.dataset == "repeat":
        result.update(_implausible_changes(frame, comparison))
    try:
        ranking = top_disagreements(chosen[comparison.a], chosen[comparison.b], ids=list(chosen["scan"]), n=n)
    except AnalysisError as exc:
        return {**result, "message": str(exc)}
    if ranking.rows:
        return {**result, "ranking": ranking}
    return {**result, "message": _empty_queue_message(comparison, review, len(frame), len(chosen))}


def _implausible_changes(frame: pd.DataFrame, comparison: Comparison) -> dict:
    """On dataset repeat (a: a column at the first visit, b: at the repeat visit), the scans whose change
    b - a lies outside the cohort's limits of agreement of change (analysis.longitudinal.implausible_changes):
    beyond what the method's repeatability and the cohort's spread of change explain."""
    from analysis.longitudinal import implausible_changes

    flags = implausible_changes(frame[comparison.a], frame[comparison.b])
    if not flags.n_flagged:
        return {"implausible": [], "change_limits": None}
    return {"implausible": frame["scan"][flags.flags].astype(int).tolist(),
            "change_limits": (flags.centre - flags.threshold, flags.centre + flags.threshold)}


def _review_mask(verdicts: pd.Series, review: str) -> pd.Series:
    if review == "all":
        return pd.Series(True, index=verdicts.index)
    if review == "unreviewed":
        return verdicts.isna()
    return verdicts == review


def _empty_queue_message(comparison: Comparison, review: str, n_dataset: int, n_chosen: int) -> str:
    """Why the queue is empty: no scan in the dataset, none that the filter selects, or none with both values."""
    where = f"dataset {comparison.dataset}"
    if n_dataset == 0:
        meaning = DATASET_MEANINGS[comparison.dataset].format(field=comparison.field)
        return f"Dataset {comparison.dataset} ({meaning}) has no scans yet."
    if n_chosen == 0 and review == "unreviewed":
        return f"Every one of the {n_dataset} scans of {where} has a verdict on this comparison."
    if n_chosen == 0:
        verdict = OutlierVerdict.Verdict(review).label
        return f"None of the {n_dataset} scans of {where} has the verdict “{verdict}” on this comparison."
    a, b = column_label(comparison.a), column_label(comparison.b)
    return (f"None of the {n_chosen} scans of {where} shown here has both a {a} and a {b} value "
            f"({comparison.quantity}): nothing to rank.")


# --- regression -----------------------------------------------------------------------------------------------------


def regression(frame: pd.DataFrame, *, dependent: str, explanatory: str, covariates: Sequence[str],
               transform: str) -> dict:
    """Univariable ``dependent ~ explanatory * sex`` table and the cumulative model sequence: Model 1 is
    explanatory + sex, each next model adds the next covariate (BMFF paper Tables 5-8)."""
    labels = {column: column_label(column) for column in frame.columns if column not in ("scan", "eid", "instance")}
    tables, messages = [], []
    try:
        tables.append(univariable_table(univariable_family(frame, [(dependent, explanatory)], labels=labels)))
    except AnalysisError as exc:
        messages.append(f"Univariable table: {exc}")
    models = [[explanatory, "sex", *covariates[:i]] for i in range(len(covariates) + 1)]
    try:
        tables.append(model_table(model_sequence(frame, dependent, models, labels=labels, transform=transform)))
    except AnalysisError as exc:
        messages.append(f"Model sequence: {exc}")
    return {"tables": tables, "messages": messages}
