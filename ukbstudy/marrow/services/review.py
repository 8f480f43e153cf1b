"""A rater's failure cause for a segmentation that is not OK or is flagged."""

from __future__ import annotations

from django.utils import timezone

from ..models import CAUSE_CHOICES, Segmentation


class InvalidCause(ValueError):
    pass


def segmentation_cause_assign(*, segmentation: Segmentation, cause: str, note: str = "", user=None) -> Segmentation:
    if cause not in dict(CAUSE_CHOICES):
        raise InvalidCause(f"unknown failure cause {cause!r}")
    if not segmentation.needs_review:
        raise InvalidCause(f"segmentation {segmentation.pk} is OK and unflagged: there is no failure to explain")
    segmentation.failure_cause = cause
    segmentation.cause_note = note.strip()
    segmentation.cause_by = user
    segmentation.cause_at = timezone.now()
    segmentation.save(update_fields=["failure_cause", "cause_note", "cause_by", "cause_at"])
    return segmentation
