"""Reads of scans for the pages, the API and the jobs.

Every read starts from a default manager, so scans of participants who withdrew are never among the results.
"""

from __future__ import annotations

from django.db.models import QuerySet

from ukbstudy.jobs.services import ItemFailed

from .models import Scan


def scan_list() -> QuerySet:
    """Scans with their subject (every page and answer that shows a scan names its participant)."""
    return Scan.objects.select_related("subject")


def scan_get(*, pk: int) -> Scan | None:
    return scan_list().filter(pk=pk).first()


def scans_pending_processing() -> QuerySet:
    """Scans not processed yet: imported, being processed or failed (the jobs page's pending scans)."""
    return Scan.objects.exclude(processing_state=Scan.State.PROCESSED)


def scan_of_item(item: str) -> Scan:
    """The scan an item of a fanned-out job names; ItemFailed when it is gone or its participant withdrew."""
    scan = scan_list().filter(pk=int(item)).first()
    if scan is None:
        raise ItemFailed(f"scan {item} no longer exists or its participant has withdrawn")
    return scan
