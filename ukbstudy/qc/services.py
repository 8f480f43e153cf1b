"""Writes for visual QC: decisions are only ever added; locks keep two raters off one scan."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from ukbstudy.imaging.models import Scan

from .models import CONFIDENCE_RANGE, SECONDS_SPENT_CAP, QCDecision, QCDeferral, QCLock, Reason, Verdict
from .selectors import qc_current_decision

# Sets, not the choices' lists: the bulk import checks every row against them.
VERDICTS, REASONS = frozenset(Verdict.values), frozenset(Reason.values)


class ScanLocked(Exception):
    """Another rater holds the scan."""

    def __init__(self, lock: QCLock):
        self.lock = lock
        super().__init__(f"scan {lock.scan_id} is being reviewed by {lock.rater} until {lock.expires_at:%H:%M:%S} UTC")


def qc_lock_acquire(*, scan: Scan, rater) -> QCLock:
    """Hold ``scan`` for ``rater`` for QC_LOCK_SECONDS (renewing their own hold); ScanLocked if another
    rater's hold has not expired."""
    now = timezone.now()
    expires = now + timedelta(seconds=settings.QC_LOCK_SECONDS)
    try:
        with transaction.atomic():
            lock = QCLock.objects.select_for_update().filter(scan=scan).first()
            if lock and lock.rater_id != rater.pk and lock.expires_at > now:
                raise ScanLocked(lock)
            if lock:
                lock.rater = rater
                lock.acquired_at = now
                lock.expires_at = expires
                lock.save(update_fields=["rater", "acquired_at", "expires_at"])
                return lock
            return QCLock.objects.create(scan=scan, rater=rater, acquired_at=now, expires_at=expires)
    except IntegrityError:  # another rater created the lock between our read and our insert
        raise ScanLocked(QCLock.objects.get(scan=scan)) from None


def qc_lock_release(*, scan: Scan, rater) -> None:
    QCLock.objects.filter(scan=scan, rater=rater).delete()


def qc_defer(*, scan: Scan, rater) -> None:
    """Review later: the scan goes to the end of this rater's queue and is released for others."""
    QCDeferral.objects.get_or_create(scan=scan, rater=rater)
    qc_lock_release(scan=scan, rater=rater)


def qc_raters_refresh(*, scan_ids) -> None:
    """Recount the distinct raters of these scans (the queue's ``qc_raters``), after a scan's first decision
    by a rater or decisions written in bulk."""
    counts = dict(QCDecision.all_objects.filter(scan_id__in=scan_ids).order_by().values("scan_id")
                  .annotate(n=Count("rater", distinct=True)).values_list("scan_id", "n"))
    for scan_id in scan_ids:
        Scan.all_objects.filter(pk=scan_id).update(qc_raters=counts.get(scan_id, 0))


def qc_decision_problems(*, verdict: str, reason: str, note: str = "", own_verdict: str = "") -> dict[str, str]:
    """The first rule a decision breaks, as {field: message}; empty when it may be recorded. The rules of
    every decision, one at a time or imported in bulk: the verdict and reason are known ones, a fail needs a
    reason, and a rater changing their own verdict (``own_verdict``: their newest on the scan, "" for none)
    needs a reason or a note saying why; a second reader disagreeing with the first needs neither."""
    if verdict not in VERDICTS:
        return {"verdict": f"{verdict!r} is not one of {', '.join(Verdict.values)}"}
    if reason not in REASONS:
        return {"reason": f"{reason!r} is not a known reason"}
    if verdict == Verdict.FAIL and not reason:
        return {"reason": "a failed scan needs a reason"}
    if own_verdict and own_verdict != verdict and not (reason or note.strip()):
        return {"note": f"changing your verdict from {own_verdict} to {verdict} needs a reason or note"}
    return {}


def qc_effort_problems(*, confidence: int | None, seconds_spent: float | None) -> dict[str, str]:
    """What is wrong with a decision's optional confidence (1-5) and time taken (seconds, not negative)."""
    low, high = CONFIDENCE_RANGE
    if confidence is not None and not (isinstance(confidence, int) and low <= confidence <= high):
        return {"confidence": f"confidence is {low} to {high}, not {confidence!r}"}
    if seconds_spent is not None and not (math.isfinite(seconds_spent) and seconds_spent >= 0):
        return {"seconds_spent": f"time spent must be a number of seconds, not {seconds_spent!r}"}
    return {}


def qc_seconds_capped(seconds_spent: float | None) -> float | None:
    """The time a decision took as recorded: to a tenth of a second, at most SECONDS_SPENT_CAP (a page
    left open over lunch says nothing about how long the scan took to judge)."""
    return None if seconds_spent is None else round(min(float(seconds_spent), SECONDS_SPENT_CAP), 1)


def qc_decision_record(*, scan: Scan, rater, verdict: str, reason: str = "", note: str = "",
                       confidence: int | None = None, seconds_spent: float | None = None) -> QCDecision:
    """Append a decision for ``scan`` if it keeps the rules (``qc_decision_problems``, ``qc_effort_problems``:
    ValidationError otherwise); a scan another rater holds cannot be decided. ``previous_verdict`` records the
    scan's status before this decision; ``seconds_spent`` is capped (``qc_seconds_capped``). Releases the
    rater's hold."""
    problems = qc_decision_problems(verdict=verdict, reason=reason) or qc_effort_problems(
        confidence=confidence, seconds_spent=seconds_spent)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        Scan.all_objects.select_for_update().filter(pk=scan.pk).exists()  # serialise decisions per scan
        lock = QCLock.objects.filter(scan=scan, expires_at__gt=timezone.now()).exclude(rater=rater).first()
        if lock:
            raise ScanLocked(lock)
        current = qc_current_decision(scan=scan)
        own = QCDecision.all_objects.filter(scan=scan, rater=rater).order_by("-decided_at", "-id").first()
        problems = qc_decision_problems(verdict=verdict, reason=reason, note=note,
                                        own_verdict=own.verdict if own else "")
        if problems:
            raise ValidationError(problems)
        decision = QCDecision.objects.create(scan=scan, rater=rater, verdict=verdict, reason=reason, note=note,
                                             previous_verdict=current.verdict if current else "",
                                             confidence=confidence, seconds_spent=qc_seconds_capped(seconds_spent))
        if own is None:  # a new rater of this scan
            qc_raters_refresh(scan_ids=[scan.pk])
        QCDeferral.objects.filter(scan=scan, rater=rater).delete()
        QCLock.objects.filter(scan=scan, rater=rater).delete()
    return decision
