"""Reads of participants and their scans for the pages and the API.

Every read starts from a default manager, so participants who withdrew (and their scans) are never among
the results.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Scan, Subject


def subject_list() -> QuerySet:
    return Subject.objects.all()


def subject_get(*, eid: int) -> Subject | None:
    return Subject.objects.filter(eid=eid).first()


def scan_list() -> QuerySet:
    """Scans with their subject (every page and answer that shows a scan names its participant)."""
    return Scan.objects.select_related("subject")


def scan_get(*, pk: int) -> Scan | None:
    return scan_list().filter(pk=pk).first()


def scans_pending_processing() -> QuerySet:
    """Scans not processed yet: imported, being processed or failed (the jobs page's pending scans)."""
    return Scan.objects.exclude(processing_state=Scan.State.PROCESSED)
