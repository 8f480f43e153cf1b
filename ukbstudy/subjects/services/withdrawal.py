"""Withdrawal of participants: from then on they are hidden from every view, statistic and export."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from ..models import Subject


def subjects_withdraw(*, eids: Iterable[int]) -> dict[str, list[int]]:
    """Mark the given participants withdrawn; returns which eids were withdrawn, already withdrawn or unknown."""
    eids = sorted(set(eids))
    with transaction.atomic():
        subjects = Subject.all_objects.select_for_update().in_bulk(eids, field_name="eid")
        newly = [eid for eid, s in subjects.items() if not s.withdrawn]
        Subject.all_objects.filter(eid__in=newly).update(withdrawn=True, withdrawn_at=timezone.now(),
                                                         updated_at=timezone.now())
    return {
        "withdrawn": newly,
        "already_withdrawn": sorted(eid for eid, s in subjects.items() if s.withdrawn),
        "unknown": [eid for eid in eids if eid not in subjects],
    }
