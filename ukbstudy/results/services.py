"""Writes for outlier review: a verdict (append-only) and, with it, an optional manual measurement."""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError
from django.db import transaction

from ml.ukb.protocol import FIRST_IMAGING_INSTANCE
from ukbstudy.imaging.models import Scan
from ukbstudy.measurements.models import Measurement, Method, Quantity
from ukbstudy.measurements.selectors.frames import UnknownColumn, frame_column
from ukbstudy.measurements.services import measurement_record
from ukbstudy.subjects.models import Subject

from .models import OutlierVerdict


def reference_field_of(*columns: str, instance: int = FIRST_IMAGING_INSTANCE) -> str:
    """The reference field instance a comparison involves, e.g. "22402-2.0" ('' when neither column is a
    reference): a reference read at the row's visit (preferred) is the field of ``instance``, the visit of the
    scan reviewed (the first imaging visit for the datasets A, B, C); else the first column's fixed one."""
    references = []
    for column in columns:
        try:
            parsed = frame_column(column)
        except UnknownColumn:
            continue
        if parsed.kind == "reference":
            references.append(parsed)
    if not references:
        return ""
    at_row = [parsed for parsed in references if parsed.instance is None]
    return (at_row or references)[0].field_at(instance)


@transaction.atomic
def outlier_verdict_record(*, subject: Subject, scan: Scan, reviewer, verdict: str, method_a: str, method_b: str,
                           quantity: str = Quantity.LIVER_FF, value_a: float | None = None,
                           value_b: float | None = None, note: str = "",
                           manual_value: float | None = None) -> OutlierVerdict:
    """Record a reviewer's verdict on a disagreement of ``method_a`` and ``method_b`` on ``scan`` (a scan of
    ``subject``: the verdict is about that visit's images and values).

    A ``manual_value`` is stored as the ``manual`` measurement of ``quantity`` on ``scan`` (one per scan: a
    newer entry replaces the value, the verdict rows keep every value entered) and linked from the verdict.
    Verdict "needs manual measurement" with a value is recorded as it is: the value may be partial.
    """
    if verdict not in OutlierVerdict.Verdict.values:
        raise ValidationError({"verdict": f"{verdict!r} is not one of {', '.join(OutlierVerdict.Verdict.values)}"})
    if scan is None:
        raise ValidationError({"scan": "a verdict is about one scan: name it"})
    if scan.subject_id != subject.pk:
        raise ValidationError({"scan": f"scan {scan} does not belong to subject {subject.eid}"})
    manual = None
    if manual_value is not None:
        manual = _manual_measurement(subject=subject, scan=scan, quantity=quantity, value=manual_value,
                                     reviewer=reviewer)
    return OutlierVerdict.objects.create(
        subject=subject, scan=scan, quantity=quantity, method_a=method_a, method_b=method_b,
        reference_field=reference_field_of(method_a, method_b, instance=scan.instance), value_a=_finite(value_a),
        value_b=_finite(value_b),
        verdict=verdict, note=note, manual_value=manual_value, manual_measurement=manual, reviewer=reviewer)


def _manual_measurement(*, subject: Subject, scan: Scan, quantity: str, value: float, reviewer) -> Measurement:
    if not math.isfinite(value) or not 0.0 <= value <= 100.0:
        raise ValidationError({"manual_value": f"a fat fraction must lie between 0 and 100 %, got {value}"})
    details = {"entered_by": reviewer.get_username(), "source": "outlier review"}
    existing = Measurement.objects.filter(scan=scan, quantity=quantity, method=Method.MANUAL,
                                          model_version__isnull=True).first()
    if existing is None:
        return measurement_record(scan=scan, quantity=quantity, method=Method.MANUAL, value=value, details=details)
    existing.value = value
    existing.details = {**existing.details, **details}
    existing.save(update_fields=["value", "details"])
    return existing


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
