"""Reads of participants for the pages and the API.

Every read starts from a default manager, so participants who withdrew are never among
the results.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from .models import Subject, Visit


def subject_list() -> QuerySet:
    """Participants with their visits (in instance order)."""
    return Subject.objects.prefetch_related(Prefetch("visits", queryset=Visit.objects.order_by("instance")))


def visit_list() -> QuerySet:
    """Visits with their participant and the ids of their scans."""
    from ukbstudy.imaging.models import Scan  # imaging builds on subjects

    return Visit.objects.select_related("subject").prefetch_related(
        Prefetch("scans", queryset=Scan.objects.order_by("field_id", "array_index", "pk"))).order_by(
        "subject__eid", "instance")


def subject_get(*, eid: int) -> Subject | None:
    return Subject.objects.filter(eid=eid).first()
