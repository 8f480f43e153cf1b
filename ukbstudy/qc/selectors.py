"""Reads for visual QC: a scan's current status is its newest decision."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from ukbstudy.subjects.models import Scan

from .models import QCDecision


def qc_current_decision(*, scan: Scan) -> QCDecision | None:
    return QCDecision.all_objects.filter(scan=scan).order_by("-created_at", "-id").first()


def scans_with_qc_status(queryset: QuerySet | None = None) -> QuerySet:
    """Scans annotated with ``qc_status`` (newest verdict, or None when never reviewed)."""
    newest = QCDecision.all_objects.filter(scan=OuterRef("pk")).order_by("-created_at", "-id")
    return (queryset if queryset is not None else Scan.objects.all()).annotate(
        qc_status=Subquery(newest.values("verdict")[:1]))


def qc_history(*, scan: Scan) -> QuerySet:
    return QCDecision.all_objects.filter(scan=scan).select_related("rater").order_by("-created_at", "-id")
