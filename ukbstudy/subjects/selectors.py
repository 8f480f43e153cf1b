"""Reads of participants for the pages and the API.

Every read starts from a default manager, so participants who withdrew are never among
the results.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Subject


def subject_list() -> QuerySet:
    return Subject.objects.all()


def subject_get(*, eid: int) -> Subject | None:
    return Subject.objects.filter(eid=eid).first()
