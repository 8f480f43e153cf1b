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

from . import figures
from .cache import EVERYTHING, Fingerprints, cached_part, results_part
from .selectors import (
    Comparison,
    cohort_counts,
    column_label,
    comparison_frame,
    coverage,
    current_verdicts,
    distribution_frame,
    qc_over_time,
    qc_status_counts,
)

GROUPINGS = {"sex": "Sex", "centre": "Centre", "age_band": "Age band", "bmi_class": "BMI class"}
AGE_BANDS = ([0, 50, 60, 70, np.inf], ["<50", "50-59", "60-69", "70+"])
BMI_CLASSES = ([0, 25, 30, np.inf], ["<25", "25-30", ">=30"])


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
                  header: tuple[str, str, str]) -> Panel:
    """Counts as bars beside their table; a message instead of an empty plot when there is nothing to count."""
    if not rows:
        return Panel(key, message=f"{title}: nothing recorded yet.")
    table_rows = [(x, n) for x, _, n in rows] if header[0] == header[1] else rows
    table_header = (header[0], header[2]) if header[0] == header[1] else header
    return Panel(key, figures.figure_json(draw(rows, title, header[0].lower())),
                 _count_table(title, table_header, table_rows))


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
    return [
        _counts_panel("qc-status", [(s, s, n) for s, n in status], figures.grouped_bars,
                      "Processed scans by current QC status", ("Status", "Status", "Scans")),
        _counts_panel("qc-time", over_time["verdicts"], figures.stacked_bars, "QC decisions per month",
                      ("Month", "Verdict", "Decisions")),
        _counts_panel("qc-reasons", over_time["reasons"], figures.stacked_bars, "QC failure reasons per month",
                      ("Month", "Reason", "Failures")),
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
    histogram = figures.figure_json(figures.histogram_by_sex(frame, column, label))
    violin = figures.figure_json(figures.violins(frame, column, label, GROUPINGS[grouping]))
    return [Panel("histogram", histogram, *_group_summary(frame, column, label, "sex", "Sex")),
            Panel("violin", violin, *_group_summary(frame, column, label, "group", GROUPINGS[grouping]))]


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


def _group_summary(frame: pd.DataFrame, column: str, label: str, by: str, by_label: str) -> tuple[Table | None, str]:
    """analysis.compare_groups over the groups with at least 2 values, as the BMFF paper's group table."""
    groups = {str(name): rows[column].to_numpy(dtype=float) for name, rows in frame.groupby(by, sort=True)}
    groups = {name: values for name, values in groups.items() if np.isfinite(values).sum() >= 2}
    try:
        return group_table([(label, compare_groups(groups))], title=f"{label} by {by_label.lower()}"), ""
    except AnalysisError as exc:
        return None, f"No group comparison by {by_label.lower()}: {exc}"


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
    context["panels"] = [
        Panel("scatter", figures.figure_json(figures.scatter_identity(frame, comparison.a, comparison.b, labels))),
        Panel("bland-altman", figures.figure_json(figures.bland_altman(frame, comparison.a, comparison.b, labels,
                                                                       result))),
        Panel("roc", figures.figure_json(figures.roc(frame, comparison.a, comparison.b, labels, result))),
    ]
    return context


# --- outlier queue --------------------------------------------------------------------------------------------------


def outlier_queue(comparison: Comparison, *, n: int) -> dict:
    """The top-``n`` disagreements (analysis.top_disagreements) with each subject's current verdict."""
    from ukbstudy.subjects.models import Subject

    labels = (column_label(comparison.a), column_label(comparison.b))
    fingerprints = Fingerprints()
    ranking = cached_part("outliers", {**comparison.as_query(), "n": n}, fingerprints=fingerprints)
    if isinstance(ranking, str):
        return {"rows": [], "table": None, "message": ranking, "stale_since": fingerprints.stale_since}
    subjects = dict(Subject.objects.filter(eid__in=[row.id for row in ranking.rows]).values_list("eid", "pk"))
    verdicts = current_verdicts(comparison=comparison, subject_ids=list(subjects.values()))
    rows = [(row, verdicts.get(subjects.get(row.id))) for row in ranking.rows]
    return {"rows": rows, "table": outlier_table(ranking, *labels), "message": "",
            "stale_since": fingerprints.stale_since}


@results_part("outliers", sources=EVERYTHING)
def _ranking(*, n: int, **query: str):
    """analysis.top_disagreements on the comparison's frame, or the engine's refusal as text."""
    comparison = Comparison(**query)
    frame = comparison_frame(comparison)
    try:
        return top_disagreements(frame[comparison.a], frame[comparison.b], ids=list(frame["eid"]), n=n)
    except AnalysisError as exc:
        return str(exc)


# --- regression -----------------------------------------------------------------------------------------------------


def regression(frame: pd.DataFrame, *, dependent: str, explanatory: str, covariates: Sequence[str],
               transform: str) -> dict:
    """Univariable ``dependent ~ explanatory * sex`` table and the cumulative model sequence: Model 1 is
    explanatory + sex, each next model adds the next covariate (BMFF paper Tables 5-8)."""
    labels = {column: column_label(column) for column in frame.columns}
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
