"""Writes for visual QC: decisions are only ever added; locks keep two raters off one scan."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone

from ukbstudy.subjects.models import Scan

from .models import QCDecision, QCDeferral, QCLock, Reason, Verdict
from .selectors import qc_current_decision


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
                lock.rater, lock.acquired_at, lock.expires_at = rater, now, expires
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
    """Recount the distinct raters of these scans (after decisions were written in bulk)."""
    counts = dict(QCDecision.all_objects.filter(scan_id__in=scan_ids).order_by().values("scan_id")
                  .annotate(n=Count("rater", distinct=True)).values_list("scan_id", "n"))
    for scan_id in scan_ids:
        Scan.all_objects.filter(pk=scan_id).update(qc_raters=counts.get(scan_id, 0))


def qc_decision_record(*, scan: Scan, rater, verdict: str, reason: str = "", note: str = "") -> QCDecision:
    """Append a decision for ``scan``. A fail needs a reason; a rater changing their own earlier verdict
    needs a reason or a note saying why; a scan another rater holds cannot be decided. ``previous_verdict``
    records the scan's status before this decision. Releases the rater's hold."""
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": f"{verdict!r} is not one of {', '.join(Verdict.values)}"})
    if reason not in Reason.values:
        raise ValidationError({"reason": f"{reason!r} is not a known reason"})
    if verdict == Verdict.FAIL and not reason:
        raise ValidationError({"reason": "a failed scan needs a reason"})
    with transaction.atomic():
        Scan.all_objects.select_for_update().filter(pk=scan.pk).exists()  # serialise decisions per scan
        lock = QCLock.objects.filter(scan=scan, expires_at__gt=timezone.now()).exclude(rater=rater).first()
        if lock:
            raise ScanLocked(lock)
        current = qc_current_decision(scan=scan)
        previous = current.verdict if current else ""
        own = QCDecision.all_objects.filter(scan=scan, rater=rater).order_by("-created_at", "-id").first()
        # A rater changing their own verdict says why; a second reader disagreeing with the first does not.
        if own and own.verdict != verdict and not (reason or note.strip()):
            raise ValidationError({"note": f"changing your verdict from {own.verdict} to {verdict} needs a reason "
                                           "or note"})
        first_by_rater = own is None
        decision = QCDecision.objects.create(scan=scan, rater=rater, verdict=verdict, reason=reason, note=note,
                                             previous_verdict=previous)
        if first_by_rater:
            Scan.all_objects.filter(pk=scan.pk).update(qc_raters=F("qc_raters") + 1)
        QCDeferral.objects.filter(scan=scan, rater=rater).delete()
        QCLock.objects.filter(scan=scan, rater=rater).delete()
    return decision
