"""Reads for statistics: one row per scan, i.e. per participant and visit, with the columns a report asks for.

Every frame is keyed by ``scan`` (the scan's id), ``eid`` and ``instance`` (2 first imaging visit, 3 repeat).
Column names a user can ask for, parsed in one place (``frame_column``) into a ``FrameColumn``:

- visit attributes ``age``, ``height``, ``bmi``, ``centre`` (of the row's visit) and ``sex``;
- ``reference`` (liver PDFF, field 22402, at the row's visit), ``reference:FIELD`` (e.g. ``reference:22436``,
  at the row's visit) or ``reference:FIELD-I.A`` (that exact field instance, e.g. ``reference:22436-2.0``);
- a measurement method (``network``, ``atlas``, ``manual``, ``segmentation``, or a label imported with
  ``import_measurements``) for the report's quantity, or ``method:quantity`` (``segmentation:bmff_spine``):
  the scan's value of the current model version, else the newest. Cross-validation out-of-fold values
  never count as a method's value: they have their own column, ``network_oof`` (``network_oof:liver_ff``);
- a covariate by catalogue key (``bmd_spine``, ``vat_mass``, at the row's visit) or field id (``23226-2.0``);
- any of these but a visit attribute followed by ``@I`` reads the participant's visit of instance I instead of
  the row's: ``network@2`` on a repeat visit's row is the network's value on the participant's first imaging
  scan (the change between visits is ``network - network@2``).

Withdrawn participants are never in a frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd
from django.db.models import QuerySet

from ml.ukb import protocol
from ml.ukb.fields import FIELD_BY_KEY, parse_column
from ukbstudy.imaging.models import Scan
from ukbstudy.showcase.models import CovariateValue, ReferenceValue

from ..models import Measurement, Method, Quantity
from . import DEFAULT_REFERENCE_FIELD
from .measurements import in_preference_order, method_choices

# Frame column -> the scan's path to it.
ATTRIBUTES = {"sex": "subject__sex", "age": "visit__age", "height": "visit__height_cm", "bmi": "visit__bmi",
              "centre": "visit__centre"}
KEYS = ["scan", "eid", "instance"]
OUT_OF_FOLD = "_oof"  # suffix of a method's cross-validation column: network_oof
DEFAULT_REFERENCE = parse_column(DEFAULT_REFERENCE_FIELD).field  # 22402


class UnknownColumn(ValueError):
    pass


@dataclass(frozen=True)
class FrameColumn:
    """What a frame column holds. ``kind``: attribute, reference, covariate or method. References and
    covariates name a showcase ``field`` and either a fixed ``instance`` or None (the row's visit); a method
    column names the ``method``, its ``quantity`` and whether it holds cross-validation ``out_of_fold`` values."""

    text: str
    kind: str
    field: int | None = None
    instance: int | None = None
    method: str = ""
    quantity: str = ""
    out_of_fold: bool = False
    at_instance: int | None = None  # a method's value on the participant's scan of this instance (``@I``)

    def field_at(self, instance: int) -> str:
        """The showcase field id ("22402-3.0") this column reads on a row of ``instance``."""
        return f"{self.field}-{self.instance if self.instance is not None else instance}.0"


def frame_column(text: str, *, quantity: str = Quantity.LIVER_FF) -> FrameColumn:
    """Parse a column name (see the module's docstring); raises UnknownColumn."""
    base, at, visit = text.rpartition("@")
    if at and text not in ATTRIBUTES:
        if not visit.isdigit() or int(visit) not in Scan.Instance.values or base in ATTRIBUTES:
            raise UnknownColumn(f"unknown column {text!r}: @ takes an imaging visit, "
                                f"{' or '.join(map(str, Scan.Instance.values))}, after a method, reference or "
                                "covariate column")
        column = frame_column(base, quantity=quantity)
        if column.kind == "method":
            return replace(column, text=text, at_instance=int(visit))
        return replace(column, text=text, instance=int(visit) if column.instance is None else column.instance)
    name, _, qualifier = text.partition(":")
    if text in ATTRIBUTES:
        return FrameColumn(text, "attribute")
    if name == "reference":
        if not qualifier:
            return FrameColumn(text, "reference", field=DEFAULT_REFERENCE)
        if qualifier.isdigit():
            return FrameColumn(text, "reference", field=int(qualifier))
        parsed = parse_column(qualifier)
        if parsed:
            return FrameColumn(text, "reference", field=parsed.field, instance=parsed.instance)
    elif text in FIELD_BY_KEY and FIELD_BY_KEY[text].kind == "covariate":
        return FrameColumn(text, "covariate", field=FIELD_BY_KEY[text].field)
    elif parse_column(text):
        parsed = parse_column(text)
        return FrameColumn(text, "covariate", field=parsed.field, instance=parsed.instance)
    else:
        method, out_of_fold = (name[: -len(OUT_OF_FOLD)], True) if name.endswith(OUT_OF_FOLD) else (name, False)
        methods = Method.values if method in Method.values or out_of_fold else known_methods()
        if method in methods and (not out_of_fold or method == Method.NETWORK):
            if qualifier and qualifier not in Quantity.values:
                raise UnknownColumn(f"unknown quantity {qualifier!r} in column {text!r}: use one of "
                                    f"{', '.join(Quantity.values)}")
            return FrameColumn(text, "method", method=method, quantity=qualifier or quantity, out_of_fold=out_of_fold)
    raise UnknownColumn(f"unknown column {text!r}: use a visit attribute ({', '.join(ATTRIBUTES)}), "
                        f"reference[:FIELD[-I.A]], a method ({', '.join(Method.values)} or an imported label)"
                        "[:quantity], "
                        "network_oof[:quantity], a covariate key or a field id")


def known_methods() -> list[str]:
    """The app's methods, then any other label stored (values imported with ``import_measurements``)."""
    return [token for token, _ in method_choices()]


def scan_frame(*, columns: Sequence[str], quantity: str = Quantity.LIVER_FF,
               instance: int | None = protocol.FIRST_IMAGING_INSTANCE, scans: QuerySet | None = None) -> pd.DataFrame:
    """Columns ``scan``, ``eid``, ``instance`` and each of ``columns`` (NaN where a scan has no value), one
    row per neck-to-knee scan of ``instance`` (every visit with None), or of ``scans`` when given, in eid and
    instance order."""
    parsed = [frame_column(c, quantity=quantity) for c in dict.fromkeys(columns)]
    rows = (scans.filter(subject__withdrawn=False) if scans is not None
            else Scan.objects.filter(field_id=protocol.FIELD_ID))
    if instance is not None:
        rows = rows.filter(instance=instance)
    paths = {c.text: ATTRIBUTES[c.text] for c in parsed if c.kind == "attribute"}
    values = rows.order_by("subject__eid", "instance", "array_index", "pk").values_list(
        "pk", "subject__eid", "instance", "subject_id", *paths.values())
    frame = pd.DataFrame(list(values), columns=[*KEYS, "subject_id", *paths])
    if "sex" in paths:
        frame["sex"] = frame["sex"].replace("", None)
    for column in parsed:
        if column.kind == "attribute":
            continue
        if column.kind == "method" and column.at_instance is not None:
            by_subject = _measurements_at_visit(column, subject_ids=frame["subject_id"].unique().tolist())
            frame[column.text] = frame["subject_id"].map(by_subject).astype(float)
        elif column.kind == "method":
            by_scan = _measurements(column, scan_ids=frame["scan"].tolist())
            frame[column.text] = frame["scan"].map(by_scan).astype(float)
        else:
            model = ReferenceValue if column.kind == "reference" else (CovariateValue, ReferenceValue)
            by_key = _showcase(model, column, instances=frame["instance"].unique().tolist(),
                               subject_ids=frame["subject_id"].unique().tolist())
            keys = zip(frame["subject_id"], frame["instance"].map(column.field_at), strict=True)
            frame[column.text] = pd.Series([by_key.get(key) for key in keys], index=frame.index, dtype=float)
    return frame[[*KEYS, *(c.text for c in parsed)]]


def _showcase(models, column: FrameColumn, *, instances: list[int],
             subject_ids: list[int]) -> dict[tuple[int, str], float]:
    """(subject id, field id) -> value for the fields ``column`` reads on rows of ``instances``; a covariate
    column given by field id is looked up among covariates, then reference values."""
    fields = {column.field_at(i) for i in instances}
    found: dict[tuple[int, str], float] = {}
    for model in reversed(models if isinstance(models, tuple) else (models,)):  # the first model wins
        rows = model.objects.filter(field__in=fields)
        if len(subject_ids) < 20_000:
            rows = rows.filter(subject_id__in=subject_ids)
        found.update(((s, f), v) for s, f, v in rows.values_list("subject_id", "field", "value"))
    return found


def _method_values(column: FrameColumn) -> QuerySet:
    """The column's method and quantity: out-of-fold values of cross-validation for an ``_oof`` column, every
    other value otherwise."""
    rows = Measurement.objects.filter(method=column.method, quantity=column.quantity)
    return rows.filter(details__has_key="out_of_fold") if column.out_of_fold else rows.exclude(
        details__has_key="out_of_fold")


def _measurements(column: FrameColumn, *, scan_ids: list[int]) -> dict[int, float]:
    """Per scan, the value a report uses (``in_preference_order``)."""
    rows = _method_values(column)
    if len(scan_ids) < 20_000:
        rows = rows.filter(scan_id__in=scan_ids)
    return dict(in_preference_order(rows, "scan_id").values_list("scan_id", "value"))  # later rows win


def _measurements_at_visit(column: FrameColumn, *, subject_ids: list[int]) -> dict[int, float]:
    """Per subject, the value a report uses on their neck-to-knee scan of ``column.at_instance`` (the first
    scan of that visit when it has several)."""
    rows = _method_values(column).filter(scan__instance=column.at_instance, scan__field_id=protocol.FIELD_ID)
    if len(subject_ids) < 20_000:
        rows = rows.filter(subject_id__in=subject_ids)
    ordered = in_preference_order(rows, "subject_id").order_by(
        "subject_id", "-scan__array_index", "-scan_id", "version_rank", "created_at", "pk")
    return dict(ordered.values_list("subject_id", "value"))  # later rows win
