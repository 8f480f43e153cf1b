"""Writes for visual QC: decisions are only ever added, never changed."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from ukbstudy.subjects.models import Scan

from .models import QCDecision, Reason, Verdict
from .selectors import qc_current_decision


def qc_decision_record(*, scan: Scan, rater, verdict: str, reason: str = "", note: str = "") -> QCDecision:
    """Append a decision for ``scan``. A fail needs a reason; changing an earlier verdict needs a reason
    or a note saying why."""
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": f"{verdict!r} is not one of {', '.join(Verdict.values)}"})
    if reason not in Reason.values:
        raise ValidationError({"reason": f"{reason!r} is not a known reason"})
    if verdict == Verdict.FAIL and not reason:
        raise ValidationError({"reason": "a failed scan needs a reason"})
    with transaction.atomic():
        Scan.all_objects.select_for_update().filter(pk=scan.pk).exists()  # serialise decisions per scan
        current = qc_current_decision(scan=scan)
        previous = current.verdict if current else ""
        if previous and previous != verdict and not (reason or note.strip()):
            raise ValidationError({"note": f"changing the verdict from {previous} to {verdict} needs a reason or note"})
        return QCDecision.objects.create(scan=scan, rater=rater, verdict=verdict, reason=reason, note=note,
                                         previous_verdict=previous)
