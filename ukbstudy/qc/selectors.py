"""Reads for visual QC: current status, history, the review queue and rater agreement.

A scan's current status is its newest decision. The queue a rater sees holds processed scans that still
need ratings (fewer distinct raters than QC_RATINGS_PER_SCAN, none by this rater) and that nobody else
holds: scans with hints first (most severe first), then unreviewed ones, then partly rated ones, and the
rater's "review later" scans last.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from statistics import median

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.selectors import scan_list
from ukbstudy.subjects.models import Subject

from .models import CONFIDENCE_RANGE, QCDecision, QCDeferral, QCLock

HINT_FILTERS = {"any": Q(hint_rank__lt=3), "high": Q(hint_rank=0), "none": Q(hint_rank=3)}


def qc_current_decision(*, scan: Scan) -> QCDecision | None:
    return QCDecision.all_objects.filter(scan=scan).order_by("-decided_at", "-id").first()


def scans_with_qc_status(queryset: QuerySet | None = None) -> QuerySet:
    """Scans annotated with ``qc_status`` (newest verdict, or None when never reviewed)."""
    newest = QCDecision.all_objects.filter(scan=OuterRef("pk")).order_by("-decided_at", "-id")
    return (queryset if queryset is not None else Scan.objects.all()).annotate(
        qc_status=Subquery(newest.values("verdict")[:1]))


def qc_reviewed_scans(*, limit: int) -> QuerySet:
    """The ``limit`` most recently imported scans that have a verdict, with their status (what viewers browse)."""
    return scans_with_qc_status(scan_list()).filter(qc_status__isnull=False).order_by("-pk")[:limit]


def qc_decision_list() -> QuerySet:
    """Every decision on a scan of a participant who has not withdrawn, newest first (the model's order)."""
    return QCDecision.objects.select_related("scan__subject", "rater")


def qc_history(*, scan: Scan) -> QuerySet:
    return QCDecision.all_objects.filter(scan=scan).select_related("rater").order_by("-decided_at", "-id")


@dataclass(frozen=True)
class QueueFilters:
    centre: int | None = None
    hint: str = ""  # "", "any", "high", "none"
    status: str = ""  # "", "unreviewed", "pass", "questionable", "fail"
    mine: bool = False  # scans this rater has decided (to review them again)


def qc_queue(*, rater, filters: QueueFilters = QueueFilters(), later: bool | None = None) -> QuerySet:
    """The rater's queue in review order: hinted (most severe first), unrated, partly rated, scan id; the
    rater's "review later" scans last. ``later`` True or False keeps only those or only the others.

    The order uses stored columns only (hint_rank, qc_raters), so the database walks the scan_qc_queue
    index and stops at the first scans that pass the per-row checks, however large the cohort."""
    now = timezone.now()
    deferred = Exists(QCDeferral.objects.filter(scan=OuterRef("pk"), rater=rater))
    scans = Scan.objects.filter(processing_state=Scan.State.PROCESSED).exclude(
        Exists(QCLock.objects.filter(scan=OuterRef("pk"), expires_at__gt=now).exclude(rater=rater)))
    decided = Exists(QCDecision.all_objects.filter(scan=OuterRef("pk"), rater=rater))
    if filters.mine:
        scans = scans.filter(decided)
    else:
        scans = scans.filter(qc_raters__lt=settings.QC_RATINGS_PER_SCAN).exclude(decided)
    if filters.centre:
        scans = scans.filter(visit__centre=filters.centre)
    if filters.hint in HINT_FILTERS:
        scans = scans.filter(HINT_FILTERS[filters.hint])
    if filters.status:
        scans = scans_with_qc_status(scans)
        unreviewed = filters.status == "unreviewed"
        scans = scans.filter(qc_status__isnull=True) if unreviewed else scans.filter(qc_status=filters.status)
    if later is not None:
        return scans.filter(deferred if later else ~deferred).select_related("subject", "visit").order_by(
            "hint_rank", "qc_raters", "pk")
    return scans.annotate(later=deferred).select_related("subject", "visit").order_by(
        "later", "hint_rank", "qc_raters", "pk")


def qc_next_scans(*, rater, filters: QueueFilters = QueueFilters(), limit: int = 5,
                  exclude: int | None = None) -> list[Scan]:
    """The first ``limit`` scans of the rater's queue, in two index walks: scans not put off, then later.
    Only the id and derived image paths are loaded: enough to lock a scan and prefetch its images.
    Re-reviewing their own scans ("mine"), a rater moves on by scan id past ``exclude``, the scan just done."""
    found: list[Scan] = []
    for later in (False, True):
        scans = qc_queue(rater=rater, filters=filters, later=later).select_related(None).only("pk", "derived")
        if exclude and filters.mine:
            scans = scans.filter(pk__gt=exclude).order_by("pk")
        elif exclude:
            scans = scans.exclude(pk=exclude)
        found += list(scans[: limit - len(found)])
        if len(found) >= limit:
            break
    return found


def qc_held_by_other(*, scan: Scan, rater) -> QCLock | None:
    """Another rater's unexpired hold on ``scan``, if any (a look, not a lock: for fetching a page ahead)."""
    return QCLock.objects.filter(scan=scan, expires_at__gt=timezone.now()).exclude(rater=rater).first()


def qc_previous_scan(*, rater, before: Scan | None = None) -> Scan | None:
    """The scan this rater decided just before deciding ``before`` (or most recently, when ``before`` is
    none or not decided by them), so pressing "previous" again keeps stepping back through their work."""
    decisions = QCDecision.objects.filter(rater=rater).order_by("-decided_at", "-id")
    if before is not None:
        shown = decisions.filter(scan=before).first()
        if shown is not None:
            decisions = decisions.filter(Q(decided_at__lt=shown.decided_at)
                                         | Q(decided_at=shown.decided_at, id__lt=shown.id)).exclude(scan=before)
    decision = decisions.select_related("scan__subject").first()
    return decision.scan if decision else None


def qc_latest_verdicts() -> dict[tuple[int, int], str]:
    """(scan id, rater id) -> that rater's newest verdict on the scan."""
    latest = {}
    for scan_id, rater_id, verdict in QCDecision.objects.order_by("decided_at", "id").values_list(
            "scan_id", "rater_id", "verdict"):
        latest[(scan_id, rater_id)] = verdict
    return latest


def qc_disagreements() -> QuerySet:
    """Scans whose raters' newest verdicts differ."""
    latest = qc_latest_verdicts()
    by_scan: dict[int, set[str]] = {}
    for (scan_id, _), verdict in latest.items():
        by_scan.setdefault(scan_id, set()).add(verdict)
    disputed = [scan_id for scan_id, verdicts in by_scan.items() if len(verdicts) > 1]
    return scans_with_qc_status(Scan.objects.filter(pk__in=disputed)).select_related("subject").order_by("pk")




@dataclass(frozen=True)
class QueueCounts:
    left: int  # scans in the rater's queue, the one on screen included, up to ``cap``
    capped: bool  # more than ``cap`` left
    today: int  # decisions the rater recorded since midnight (UTC)


def qc_queue_counts(*, rater, filters: QueueFilters = QueueFilters(), cap: int = 1000) -> QueueCounts:
    """How much is left and done for the review page. The queue is counted only up to ``cap``, so the
    count stays as cheap as the queue's first page however large the cohort; a page says "more than"."""
    left = qc_queue(rater=rater, filters=filters).select_related(None).order_by()[: cap + 1].count()
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = QCDecision.objects.filter(rater=rater, decided_at__gte=midnight).count()
    return QueueCounts(left=min(left, cap), capped=left > cap, today=today)


@dataclass(frozen=True)
class RaterEffort:
    rater: str
    decisions: int
    timed: int  # decisions with a time measured
    median_seconds: float | None
    confidence: tuple[int, ...]  # decisions per confidence 1..5
    no_confidence: int


def qc_rater_effort() -> list[RaterEffort]:
    """Per rater, by name: decisions recorded, the median seconds a timed one took and how confident the
    rater said they were (every decision counts, not only each rater's newest per scan)."""
    low, high = CONFIDENCE_RANGE
    rows: dict[str, dict] = {}
    for name, seconds, confidence in QCDecision.objects.order_by().values_list(
            "rater__username", "seconds_spent", "confidence"):
        row = rows.setdefault(name, {"n": 0, "seconds": [], "confidence": Counter()})
        row["n"] += 1
        if seconds is not None:
            row["seconds"].append(seconds)
        row["confidence"][confidence] += 1
    return [RaterEffort(rater=name, decisions=row["n"], timed=len(row["seconds"]),
                        median_seconds=median(row["seconds"]) if row["seconds"] else None,
                        confidence=tuple(row["confidence"][c] for c in range(low, high + 1)),
                        no_confidence=row["confidence"][None])
            for name, row in sorted(rows.items())]


def participant_lookup(*, eid: int) -> str:
    """"found", "withdrawn" or "unknown": what the navigation's eid search says. Only the default manager
    finds a participant; that a withdrawn one exists is all that is told of them."""
    if Subject.objects.filter(eid=eid).exists():
        return "found"
    return "withdrawn" if Subject.all_objects.filter(eid=eid, withdrawn=True).exists() else "unknown"
