"""Repeat imaging: what changed between a participant's first imaging visit (instance 2) and the repeat visit
(instance 3), per participant and over the cohort.

Reads come from ``scan_frame`` (one row per scan, so the two visits never mix); statistics from
``analysis.longitudinal``; this module pairs the visits and assembles the page's tables and figures. The
change is always *repeat minus first* (``d = visit 3 - visit 2``), in percentage points for fat fractions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import Q, QuerySet

from analysis import AnalysisError
from analysis.tables import Table, change_table, coefficient_table
from ml.ukb import protocol
from ukbstudy.imaging.models import Scan
from ukbstudy.measurements.models import Measurement, Method, Quantity, method_label
from ukbstudy.measurements.selectors.datasets import dataset_scans, qc_passed_scans
from ukbstudy.measurements.selectors.frames import scan_frame
from ukbstudy.measurements.selectors.measurements import measurements_with_version_name
from ukbstudy.qc.selectors import scans_with_qc_status
from ukbstudy.showcase.models import ReferenceValue
from ukbstudy.subjects.models import Subject, Visit

from . import figures
from .cache import EVERYTHING, Fingerprints, cached_part, results_part
from .pages import Panel

FIRST, REPEAT = protocol.FIRST_IMAGING_INSTANCE, protocol.REPEAT_IMAGING_INSTANCE
DAYS_PER_YEAR = 365.25
# Covariates of the change regression: the value at the first visit (regression to the mean), age and sex at
# the first visit, and the change of BMI.
CHANGE_COVARIATES = {"first": "Value at visit 2", "age": "Age at visit 2 (years)", "sex": "Sex",
                     "bmi_change": "BMI change (kg/m2)"}


@dataclass(frozen=True)
class ChangeColumn:
    """A frame column whose change between the visits can be shown: ``column`` for ``quantity``."""

    column: str
    quantity: str
    label: str

    @property
    def key(self) -> str:
        return f"{self.quantity}|{self.column}"


def change_columns() -> list[ChangeColumn]:
    """Every quantity and method with a value on some repeat-visit scan (and the liver PDFF reference field
    22402 where a repeat visit has one), in quantity then method order."""
    measured = set(Measurement.objects.filter(scan__instance=REPEAT).order_by().values_list(
        "quantity", "method").distinct())
    columns = []
    if ReferenceValue.objects.filter(field=f"22402-{REPEAT}.0").exists():
        columns.append(ChangeColumn("reference", Quantity.LIVER_FF, "Liver PDFF reference (field 22402)"))
    methods = list(Method.values) + sorted({m for _, m in measured} - set(Method.values))
    for quantity, quantity_label in Quantity.choices:
        columns += [ChangeColumn(method, quantity, f"{quantity_label}, {method_label(method).lower()}")
                    for method in methods if (quantity, method) in measured]
    return columns


def paired_scans() -> QuerySet:
    """The scans the change is measured on: QC-passed scans of both imaging visits (``qc_passed_scans``), as
    dataset ``repeat`` and its first-visit partners."""
    return Scan.objects.filter(Q(pk__in=qc_passed_scans(instance=FIRST).values("pk"))
                               | Q(pk__in=qc_passed_scans(instance=REPEAT).values("pk")))


def change_frame(*, column: str, quantity: str = Quantity.LIVER_FF) -> pd.DataFrame:
    """One row per participant with a QC-passed neck-to-knee scan at both imaging visits (the first such scan
    of each visit): eid, scan_2, scan_3, first and second (the column's value at each visit), change (second -
    first), days between the visits (dates of attending, field 53, else the scans' study dates), sex, age and
    BMI at the first visit and the change of BMI."""
    frame = scan_frame(columns=[column, "sex", "age", "bmi"], quantity=quantity, instance=None,
                       scans=paired_scans())
    frame = frame.drop_duplicates(["eid", "instance"])  # the first scan of a visit (scan_frame's order)
    dates = {pk: visit_date or study_date for pk, visit_date, study_date in paired_scans().values_list(
        "pk", "visit__date", "study_date")}
    frame["date"] = frame["scan"].map(dates)
    both = frame[frame["instance"] == FIRST].merge(frame[frame["instance"] == REPEAT], on="eid",
                                                   suffixes=("_2", "_3")).set_index("eid")
    paired = pd.DataFrame({
        "eid": both.index.astype(int), "scan_2": both["scan_2"].astype(int).to_numpy(),
        "scan_3": both["scan_3"].astype(int).to_numpy(), "first": both[f"{column}_2"].to_numpy(dtype=float),
        "second": both[f"{column}_3"].to_numpy(dtype=float)})
    paired["change"] = paired["second"] - paired["first"]
    paired["days"] = [(b - a).days if a is not None and b is not None else np.nan
                      for a, b in zip(both["date_2"], both["date_3"], strict=True)]
    paired["sex"] = both["sex_2"].fillna(both["sex_3"]).to_numpy()
    paired["age"] = both["age_2"].to_numpy(dtype=float)
    paired["bmi"] = both["bmi_2"].to_numpy(dtype=float)
    paired["bmi_change"] = both["bmi_3"].to_numpy(dtype=float) - paired["bmi"]
    return paired.sort_values("eid").reset_index(drop=True)


def change_report(*, quantity: str, column: str) -> dict:
    """The change of one quantity and column for the API: every pair, the paired change and the
    repeatability (figures that cannot be computed are None)."""
    frame = change_frame(column=column, quantity=quantity)
    change, rep = _statistics(frame)
    pairs = frame[["eid", "scan_2", "scan_3", "first", "second", "change", "days"]].astype(object)
    return {"quantity": quantity, "column": column, "change": change.as_dict(), "repeatability": rep.as_dict(),
            "pairs": pairs.where(pairs.notna(), None).to_dict("records")}


def _statistics(frame: pd.DataFrame):
    from analysis.longitudinal import paired_change, repeatability

    days = frame["days"].where(frame["days"] > 0)
    return paired_change(frame["first"], frame["second"], days=days), repeatability(frame["first"], frame["second"])


# --- the cohort page ----------------------------------------------------------------------------------------------


def longitudinal(*, column: ChangeColumn | None) -> dict:
    """The cohort's change of every quantity and method (a table), and for ``column`` its figures, the change
    regressed on covariates and the participants whose change is implausible."""
    fingerprints = Fingerprints()
    context = cached_part("longitudinal-summary", {}, fingerprints=fingerprints)
    if column is not None:
        context = {**context, **cached_part("longitudinal-detail", {"column": column.column,
                                                                    "quantity": column.quantity,
                                                                    "label": column.label},
                                            fingerprints=fingerprints)}
    return {**context, "stale_since": fingerprints.stale_since}


def change_summary() -> Table | None:
    """The change of every quantity and method with at least two participants measured at both visits (None
    when there is none): ``analysis.tables.change_table``."""
    rows = []
    for column in change_columns():
        frame = change_frame(column=column.column, quantity=column.quantity)
        if frame[["first", "second"]].notna().all(axis=1).sum() >= 2:
            rows.append((column.label, *_statistics(frame)))
    return change_table(rows, title="Change between the first and the repeat imaging visit") if rows else None


def participants_with_both(limit: int | None = None) -> list[int]:
    """eids of participants with a QC-passed neck-to-knee scan at both imaging visits (dataset ``repeat``), in
    eid order (the first ``limit``)."""
    eids = dataset_scans("repeat").order_by("subject__eid").values_list("subject__eid", flat=True).distinct()
    return list(eids[:limit] if limit else eids)


@results_part("longitudinal-summary", sources=EVERYTHING)
def _summary() -> dict:
    return {"n_pairs": len(participants_with_both()), "summary": change_summary()}


@results_part("longitudinal-detail", sources=EVERYTHING)
def _detail(*, column: str, quantity: str, label: str) -> dict:
    return change_detail(column=column, quantity=quantity, label=label)


def change_detail(*, column: str, quantity: str, label: str | None = None) -> dict:
    """For one quantity and column: the change statistics, the figures, the change regressed on covariates and
    the participants whose change is implausible (also as a table), or a message why not."""
    from analysis.longitudinal import change_regression, implausible_changes

    label = label or f"{quantity} {column}"
    frame = change_frame(column=column, quantity=quantity)
    complete = frame.dropna(subset=["first", "second"]).reset_index(drop=True)
    context = {"n_complete": len(complete), "panels": [], "regression": None, "flagged": [], "limits": None,
               "message": ""}
    if len(complete) < 3:
        context["message"] = (f"{len(complete)} participant(s) have {label} at both visits: at least 3 are needed "
                              "for the change statistics.")
        return context
    change, rep = _statistics(complete)
    labels = (f"{label}, visit 2", f"{label}, visit 3")
    plotted = complete.rename(columns={"scan_3": "scan"})
    context["panels"] = [
        Panel("visits", figures.figure_json(figures.scatter_identity(plotted, "first", "second", labels, "%"))),
        Panel("change-bland-altman", figures.figure_json(figures.bland_altman(
            plotted, "second", "first", (labels[1], labels[0]), rep, "%", mean_of="the two visits"))),
        Panel("change", figures.figure_json(figures.change_histogram(complete["change"], label))),
    ]
    context["change"], context["repeatability"] = change.as_dict(), rep.as_dict()
    flags = implausible_changes(complete["first"], complete["second"])
    if flags.n_flagged:
        context["limits"] = (flags.centre - flags.threshold, flags.centre + flags.threshold)
        context["flagged"] = complete.loc[flags.flags, ["eid", "scan_3", "first", "second", "change", "days"]].to_dict(
            "records")
    context["flagged_table"] = Table(
        f"{label}: implausible changes", ("eid", "Visit 2", "Visit 3", "Change (pp)", "Days between"),
        tuple((str(r["eid"]), f"{r['first']:.2f}", f"{r['second']:.2f}", f"{r['change']:+.2f}",
               "" if np.isnan(r["days"]) else f"{r['days']:.0f}") for r in context["flagged"]),
        (f"Outside the cohort's limits of agreement of change, {flags.centre - flags.threshold:.2f} to "
         f"{flags.centre + flags.threshold:.2f} pp (mean change +/- 1.96 SD).",))
    try:
        fit = change_regression(complete["change"], complete[list(CHANGE_COVARIATES)],
                                labels=CHANGE_COVARIATES)
    except AnalysisError as exc:
        context["regression_message"] = f"No regression of the change: {exc}"
    else:
        context["regression"] = coefficient_table(fit, title=f"Change of {label} regressed on covariates")
    context["pairs"] = Table(
        f"{label}: both visits, per participant",
        ("eid", "Visit 2", "Visit 3", "Change (pp)", "Days between"),
        tuple((str(r.eid), f"{r.first:.2f}", f"{r.second:.2f}", f"{r.change:+.2f}",
               "" if np.isnan(r.days) else f"{r.days:.0f}") for r in complete.itertuples()),
        ("Change = visit 3 - visit 2.",))
    return context


# --- one participant ----------------------------------------------------------------------------------------------


def participant_visits(*, subject: Subject) -> list[dict]:
    """The participant's visits in instance order: the visit, its scans (each with its QC status) and every
    measurement on them with its provenance (method, model version, run, when)."""
    visits = list(Visit.objects.filter(subject=subject).order_by("instance"))
    scans = scans_with_qc_status(Scan.objects.filter(subject=subject)).order_by("instance", "array_index", "pk")
    measured = measurements_with_version_name(Measurement.objects.filter(subject=subject)).select_related(
        "job", "import_batch").order_by("quantity", "method", "-created_at")
    by_scan: dict[int, list] = {}
    for measurement in measured:
        by_scan.setdefault(measurement.scan_id, []).append(measurement)
    by_visit: dict[int, list] = {}
    for scan in scans:
        by_visit.setdefault(scan.visit_id, []).append({"scan": scan, "measurements": by_scan.get(scan.pk, [])})
    return [{"visit": visit, "scans": by_visit.get(visit.pk, [])} for visit in visits]


def participant_changes(*, subject: Subject) -> list[dict]:
    """Per quantity and method with a value at both visits, the values (as reports use them, whatever the
    scans' QC: the page shows each scan's QC status) and the change."""
    measured = set(Measurement.objects.filter(subject=subject).order_by().values_list("quantity", "method"))
    columns = {f"{method}:{quantity}": f"{dict(Quantity.choices)[quantity]}, {method_label(method).lower()}"
               for quantity, method in sorted(measured, key=lambda pair: (Quantity.values.index(pair[0]), pair[1]))}
    if ReferenceValue.objects.filter(subject=subject, field=f"22402-{REPEAT}.0").exists():
        columns = {"reference": "Liver PDFF reference (field 22402)", **columns}
    if not columns:
        return []
    frame = scan_frame(columns=list(columns), instance=None, scans=Scan.objects.filter(subject=subject))
    by_visit = frame.drop_duplicates("instance").set_index("instance")  # the first scan of each visit
    if FIRST not in by_visit.index or REPEAT not in by_visit.index:
        return []
    rows = []
    for column, label in columns.items():
        first, second = by_visit.at[FIRST, column], by_visit.at[REPEAT, column]
        if not (np.isnan(first) or np.isnan(second)):
            rows.append({"label": label, "first": first, "second": second, "change": second - first})
    return rows


def days_between(visits: list[dict]) -> int | None:
    """Days from the first to the repeat visit (dates of attending, else the first scans' study dates)."""
    dates = {}
    for entry in visits:
        visit = entry["visit"]
        scan_date = entry["scans"][0]["scan"].study_date if entry["scans"] else None
        dates[visit.instance] = visit.date or scan_date
    if dates.get(FIRST) and dates.get(REPEAT):
        return (dates[REPEAT] - dates[FIRST]).days
    return None
