"""Reads for the results pages: cohort counts, coverage, comparison frames, outlier queue, verdict history.

Counts are aggregated in the database; per-scan values come from
``ukbstudy.measurements.selectors.frames.scan_frame`` and the datasets from
``ukbstudy.measurements.selectors.datasets``, so every page sees the values the reports and exports use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from django.db.models import Case, Count, Max, Min, Q, QuerySet, Value, When

from ml.ukb import protocol
from ml.ukb.fields import CATALOGUE, CENTRE_NAMES, FIELD_BY_KEY, FIELDS, basket_field, parse_column
from ukbstudy.imaging.models import Scan
from ukbstudy.measurements.models import Measurement, Method, Quantity, method_label
from ukbstudy.measurements.selectors import DEFAULT_REFERENCE_FIELD
from ukbstudy.measurements.selectors.datasets import dataset_scans, excluded_reference_subject_ids, qc_passed_scans
from ukbstudy.measurements.selectors.frames import UnknownColumn, frame_column, scan_frame
from ukbstudy.measurements.selectors.measurements import method_choices
from ukbstudy.qc.models import QCDecision, Reason, Verdict
from ukbstudy.qc.selectors import scans_with_qc_status
from ukbstudy.showcase.models import CovariateValue, ReferenceValue
from ukbstudy.subjects.models import Visit

from .models import OutlierVerdict
from .services import reference_field_of

SEX_NAMES = {"F": "Female", "M": "Male", "": "Unknown", None: "Unknown"}
VISIT_NAMES = dict(Scan.Instance.choices)
REFERENCE_FIELDS = tuple(spec for spec in FIELDS if spec.kind == "reference")


def column_label(column: str) -> str:
    """A readable name for a scan_frame column ('network' -> 'Regression network', 'reference:22436-2.0' ->
    'Reference 22436-2.0', 'network@2' -> 'Regression network, first imaging visit')."""
    try:
        parsed = frame_column(column)
    except UnknownColumn:
        return column
    if parsed.kind == "method" and parsed.at_instance is not None or parsed.kind != "method" and "@" in column:
        return f"{column_label(column.rpartition('@')[0])}, {VISIT_NAMES[int(column.rpartition('@')[2])].lower()}"
    if parsed.kind == "reference":
        return "Reference " + (DEFAULT_REFERENCE_FIELD if column == "reference" else column.partition(":")[2])
    if parsed.kind == "method":
        name = "Network, cross-validation out-of-fold" if parsed.out_of_fold else method_label(parsed.method)
        return name + (f" ({parsed.quantity})" if ":" in column else "")
    if column in FIELD_BY_KEY:
        return FIELD_BY_KEY[column].label
    return _field_label(column) or (column.capitalize() if column.islower() else column)


def column_unit(column: str) -> str:
    """The unit a column's values are stored in ('%' for every fat fraction, 'years' for age; '' if none).

    Every reference field and every method measures a fat fraction (liver PDFF or bone marrow FF), in %."""
    try:
        parsed = frame_column(column)
    except UnknownColumn:
        return ""
    if parsed.kind in ("reference", "method"):
        return "%"
    spec = FIELD_BY_KEY.get(column.partition("@")[0])
    return spec.unit if spec else ""


def axis_title(column: str, label: str | None = None) -> str:
    """A plot axis title: the column's label with its unit, unless the label already carries it."""
    label = label or column_label(column)
    unit = column_unit(column)
    return f"{label} ({unit})" if unit and not label.endswith(f"({unit})") else label


def _field_label(column: str) -> str | None:
    """'23226-2.0' -> 'Head BMD (bone mineral density) (g/cm2), 23226-2.0': the showcase's title and unit."""
    parsed = parse_column(column)
    spec = basket_field(parsed.field, CATALOGUE)[0] if parsed else None
    return f"{spec.label}, {column}" if spec else None


def comparison_columns() -> list[tuple[str, str]]:
    """Columns two methods can be compared on: reference fields, then measurement methods."""
    references = [("reference" if f"{spec.field}-2.0" == DEFAULT_REFERENCE_FIELD else f"reference:{spec.field}-2.0",
                   f"Reference {spec.field}-2.0 ({spec.name})") for spec in REFERENCE_FIELDS]
    return references + method_choices() + [(f"{Method.NETWORK}_oof", column_label(f"{Method.NETWORK}_oof"))]


def visit_columns() -> list[tuple[str, str]]:
    """Each comparison column read on the participant's first imaging visit (``network@2``): compared with
    the same column on dataset ``repeat``, the change between visits."""
    first = protocol.FIRST_IMAGING_INSTANCE
    return [(f"{column}@{first}", column_label(f"{column}@{first}")) for column, _ in comparison_columns()
            if not column.startswith("reference:")]


def regression_columns() -> list[tuple[str, str]]:
    """Variables a regression can use: subject attributes, references, the method and quantity pairs that have
    measurements, covariates."""
    subject = [(c, c.capitalize()) for c in ("age", "height", "bmi")]
    references = comparison_columns()[: len(REFERENCE_FIELDS)]
    measured = set(Measurement.all_objects.order_by().values_list("method", "quantity").distinct())
    methods = [(f"{method}:{quantity}", f"{label} ({quantity})")
               for quantity in Quantity.values for method, label in method_choices()
               if (method, quantity) in measured]
    covariates = [(spec.key, spec.label) for spec in FIELDS if spec.kind == "covariate"]
    return subject + references + methods + covariates + basket_covariates()


def basket_covariates() -> list[tuple[str, str]]:
    """The other numeric fields a basket brought (field ids such as '23226-2.0'), under their showcase
    titles and units; the catalogue's own covariates at instance 2 are offered by key instead."""
    ours = {f"{spec.field}-2.0" for spec in FIELDS}
    fields = CovariateValue.objects.exclude(field__in=ours).values_list("field", flat=True).distinct()
    return sorted(((field, _field_label(field) or field) for field in fields), key=lambda c: c[1])


# --- dashboard ----------------------------------------------------------------------------------------------------


def cohort_counts() -> dict[str, list[tuple[str, str, int]]]:
    """Participants by centre (of any of their visits) and sex, scans by visit and processing state (database
    aggregates)."""
    by_centre = Visit.objects.values_list("centre", "subject__sex").annotate(
        n=Count("subject", distinct=True)).order_by("centre", "subject__sex")
    by_visit = Scan.objects.values_list("instance", "processing_state").annotate(n=Count("id")).order_by(
        "instance", "processing_state")
    return {
        "centre": [(CENTRE_NAMES.get(c, "Unknown" if c is None else str(c)), SEX_NAMES[s], n) for c, s, n in by_centre],
        "visit": [(VISIT_NAMES.get(i, str(i)), state, n) for i, state, n in by_visit],
    }


def qc_status_counts() -> list[tuple[str, int]]:
    """Processed scans by current QC status (newest verdict; 'unreviewed' when none)."""
    rows = scans_with_qc_status(Scan.objects.filter(processing_state=Scan.State.PROCESSED)).values_list(
        "qc_status").annotate(n=Count("id")).order_by("qc_status")
    return [(status or "unreviewed", n) for status, n in rows]


def qc_over_time() -> dict[str, list[tuple[str, str, int]]]:
    """QC decisions per month by verdict, and failure reasons per month.

    Months are bucketed with plain date comparisons (CASE WHEN), not TruncMonth: SQLite runs TruncMonth as
    a Python function per row, ten times slower on 100,000 decisions."""
    decisions = QCDecision.objects.all()
    first, last = decisions.aggregate(first=Min("decided_at"), last=Max("decided_at")).values()
    if first is None:
        return {"verdicts": [], "reasons": []}
    starts = _month_starts(first, last)
    month = Case(*[When(decided_at__lt=end, then=Value(f"{start:%Y-%m}"))
                   for start, end in zip(starts, starts[1:], strict=False)], default=Value(f"{starts[-1]:%Y-%m}"))
    monthly = decisions.annotate(month=month)
    verdicts = monthly.values_list("month", "verdict").annotate(n=Count("id")).order_by("month", "verdict")
    reasons = monthly.filter(verdict=Verdict.FAIL).values_list("month", "reason").annotate(n=Count("id")).order_by(
        "month", "reason")
    labels = dict(Reason.choices) | {"": "none given"}
    return {"verdicts": list(verdicts), "reasons": [(m, labels.get(r or "", r), n) for m, r, n in reasons]}


def _month_starts(first: datetime, last: datetime) -> list[datetime]:
    """The first instant (UTC) of every month from ``first``'s to ``last``'s."""
    start = first.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [start]
    while starts[-1] <= last:
        current = starts[-1]
        starts.append(current.replace(year=current.year + current.month // 12, month=current.month % 12 + 1))
    return starts[:-1]


def coverage() -> tuple[list[str], list[tuple[str, list[int]]]]:
    """Subjects with a value, per quantity (rows) and source (columns: each reference field, each method)."""
    # A measurement's subject is its scan's subject (measurement_record), so one join drops withdrawn subjects;
    # the default manager joins through the scan as well, a third of the time on 500,000 rows.
    active = Measurement.all_objects.filter(subject__withdrawn=False)
    methods = dict(((q, m), n) for q, m, n in active.values_list("quantity", "method").annotate(
        n=Count("subject", distinct=True)).order_by())
    references = dict(ReferenceValue.objects.values_list("field").annotate(n=Count("subject", distinct=True))
                      .order_by())
    fields = [f"{spec.field}-2.0" for spec in REFERENCE_FIELDS]
    tokens = [token for token, _ in method_choices()]
    header = [f"reference {field}" for field in fields] + tokens
    rows = [(quantity, [references.get(f, 0) if quantity == Quantity.LIVER_FF else 0 for f in fields]
             + [methods.get((quantity, method), 0) for method in tokens]) for quantity in Quantity.values]
    return header, rows


def distribution_frame(*, column: str, quantity: str = Quantity.LIVER_FF) -> pd.DataFrame:
    """scan, eid, instance, the value column and the grouping attributes (sex, centre, age, bmi) of every scan
    of the first imaging visit."""
    columns = [column] + [c for c in ("sex", "centre", "age", "bmi") if c != column]
    return scan_frame(columns=columns, quantity=quantity)


# --- comparison and outliers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """What the comparison and outlier pages compare: two columns of one quantity on one dataset."""

    a: str = "reference"
    b: str = f"{Method.NETWORK}_oof"  # on dataset A, cross-validation's out-of-fold values
    quantity: str = Quantity.LIVER_FF
    dataset: str = "A"

    @property
    def field(self) -> str:
        """The reference field that defines datasets A and B (the compared one, else the default)."""
        return reference_field_of(self.a, self.b) or DEFAULT_REFERENCE_FIELD

    def as_query(self) -> dict[str, str]:
        return {"a": self.a, "b": self.b, "quantity": self.quantity, "dataset": self.dataset}


def comparison_frame(comparison: Comparison, *, also: Iterable[int] = ()) -> pd.DataFrame:
    """scan, eid, instance and both columns for the dataset's scans, and the scans of ``also`` (scan ids)
    (rows with missing values kept: analysis counts them)."""
    scans = Scan.objects.filter(Q(pk__in=dataset_scans(comparison.dataset, field=comparison.field).values("pk"))
                                | Q(pk__in=list(also)))
    return scan_frame(columns=[comparison.a, comparison.b], quantity=comparison.quantity, instance=None,
                      scans=scans).reset_index(drop=True)


def queue_frame(comparison: Comparison) -> pd.DataFrame:
    """The outlier queue's scans: ``comparison_frame``, and on dataset A also the scans a reviewer's
    "reference implausible" verdict took out of it (``reviewed_out_of_a``), so that a verdict never makes a
    scan vanish from the queue; the page lists them with their verdict."""
    return comparison_frame(comparison, also=reviewed_out_of_a(comparison) if comparison.dataset == "A" else set())


def reviewed_out_of_a(comparison: Comparison) -> set[int]:
    """Ids of the scans that would be in dataset A but for a verdict marking their reference implausible."""
    field = comparison.field
    with_value = ReferenceValue.objects.filter(field=field).values("subject_id")
    return set(qc_passed_scans().filter(subject_id__in=excluded_reference_subject_ids(field=field))
               .filter(subject_id__in=with_value).values_list("pk", flat=True))


def _comparison_verdicts(comparison: Comparison) -> QuerySet:
    return OutlierVerdict.objects.filter(method_a=comparison.a, method_b=comparison.b, quantity=comparison.quantity)


def current_verdict_codes(*, comparison: Comparison) -> dict[int, str]:
    """Newest verdict (its code) per scan id on this comparison."""
    newest: dict[int, str] = {}
    for scan_id, verdict in _comparison_verdicts(comparison).order_by("created_at", "id").values_list(
            "scan_id", "verdict"):
        newest[scan_id] = verdict  # later rows win
    return newest


def current_verdicts(*, comparison: Comparison, scan_ids: list[int] | None = None) -> dict[int, OutlierVerdict]:
    """Newest verdict per scan on this comparison, keyed by scan id."""
    verdicts = _comparison_verdicts(comparison).select_related("reviewer")
    if scan_ids is not None:
        verdicts = verdicts.filter(scan_id__in=scan_ids)
    newest: dict[int, OutlierVerdict] = {}
    for verdict in verdicts.order_by("created_at", "id"):
        newest[verdict.scan_id] = verdict  # later rows win
    return newest


def verdict_history(*, scan: Scan) -> QuerySet:
    """Every verdict on the scan, newest first."""
    return OutlierVerdict.objects.filter(scan=scan).select_related("reviewer", "scan").order_by("-created_at", "-id")


def scan_values(*, scan: Scan, quantity: str, also: Iterable[str] = ()) -> list[tuple[str, float]]:
    """The scan's value in every comparison column and in the columns ``also`` names (a comparison's own, such
    as ``network@2``), chosen as scan_frame chooses (one frame row)."""
    columns = [column for column in dict.fromkeys([*(c for c, _ in comparison_columns()), *also])
               if quantity == Quantity.LIVER_FF or frame_column(column).kind != "reference"]
    row = scan_frame(columns=columns, quantity=quantity, instance=None, scans=Scan.objects.filter(pk=scan.pk))
    if row.empty:
        return []
    return [(column, float(row.iloc[0][column])) for column in columns if pd.notna(row.iloc[0][column])]
