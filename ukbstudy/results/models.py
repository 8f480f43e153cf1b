"""Outlier review: what a reviewer concluded about a subject on which two methods disagree.

Verdicts are append-only, like QC decisions: a subject's current verdict on a comparison is its newest row,
and earlier rows stay as its history. A newest verdict of "reference implausible" takes the subject's
reference value out of dataset A
(``ukbstudy.measurements.selectors.datasets.excluded_reference_subject_ids``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ukbstudy.imaging.models import Scan
from ukbstudy.measurements.models import Measurement, Quantity
from ukbstudy.subjects.models import Subject, SubjectRowQuerySet, active_manager


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an outlier verdict."""


class OutlierVerdict(models.Model):
    class Verdict(models.TextChoices):
        REFERENCE_IMPLAUSIBLE = "reference_implausible", "Reference implausible"
        NETWORK_WRONG = "network_wrong", "Network wrong"
        BOTH_PLAUSIBLE = "both_plausible", "Both plausible"
        NEEDS_MANUAL = "needs_manual", "Needs manual measurement"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="outlier_verdicts")
    scan = models.ForeignKey(Scan, null=True, blank=True, on_delete=models.PROTECT, related_name="outlier_verdicts",
                             help_text="The scan whose images were reviewed.")
    quantity = models.CharField(max_length=32, choices=Quantity.choices, default=Quantity.LIVER_FF)
    method_a = models.CharField(max_length=64, help_text="First compared column, e.g. reference:22402-2.0.")
    method_b = models.CharField(max_length=64, help_text="Second compared column, e.g. network.")
    reference_field = models.CharField(max_length=32, blank=True, db_index=True,
                                       help_text="The reference field compared (empty when none was).")
    value_a = models.FloatField(null=True, blank=True, help_text="Value of method_a when reviewed.")
    value_b = models.FloatField(null=True, blank=True, help_text="Value of method_b when reviewed.")
    verdict = models.CharField(max_length=32, choices=Verdict.choices)
    note = models.TextField(blank=True)
    manual_value = models.FloatField(null=True, blank=True, help_text="Manual measurement entered with the verdict.")
    manual_measurement = models.ForeignKey(Measurement, null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="outlier_verdicts")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="outlier_verdicts")
    created_at = models.DateTimeField(default=timezone.now, db_index=True, help_text="UTC.")

    objects = active_manager(SubjectRowQuerySet)
    all_objects = models.Manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        base_manager_name = "all_objects"
        indexes = [models.Index(fields=["subject", "reference_field", "-created_at", "-id"],
                                name="outlier_verdict_newest")]

    def __str__(self) -> str:
        return f"{self.subject} {self.method_a} vs {self.method_b}: {self.verdict} by {self.reviewer}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("outlier verdicts are append-only: record a new verdict instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("outlier verdicts are append-only and cannot be deleted")
