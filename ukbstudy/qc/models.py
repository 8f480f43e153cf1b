"""Visual QC decisions: an append-only history per scan.

Every decision is a new row; a scan's current status is its newest decision. Rows are never updated or
deleted: ``save`` and ``delete`` refuse it here, and a database trigger (migration 0002) refuses it for
any other client of the database too.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ukbstudy.imaging.models import Scan
from ukbstudy.subjects.models import ScanRowQuerySet, active_manager


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a QC history row."""


class Verdict(models.TextChoices):
    PASS = "pass", "Pass"
    QUESTIONABLE = "questionable", "Questionable"
    FAIL = "fail", "Fail"


class Reason(models.TextChoices):
    """Failure causes named by the two papers (visual QC and bone marrow segmentation failures)."""

    NONE = "", "None"
    WATER_FAT_SWAP = "water_fat_swap", "Water-fat swap"
    NOISE = "noise", "Noise"
    METAL = "metal", "Metal object"
    POSITIONING = "positioning", "Unusual positioning"
    MOTION = "motion", "Motion artefact"
    OTHER_ARTEFACT = "other_artefact", "Other imaging artefact"
    DATA_STRUCTURE = "data_structure", "Data structure (missing, repeated or misplaced series)"
    OUTSIDE_SLAB_PARTIAL = "outside_slab_partial", "Region partly outside the slab"
    OUTSIDE_SLAB_FULL = "outside_slab_full", "Region fully outside the slab"
    SKELETAL_ABNORMALITY = "skeletal_abnormality", "Skeletal abnormality"
    OTHER = "other", "Other"


CONFIDENCE_RANGE = (1, 5)  # the rater's optional confidence in the verdict: 1 unsure to 5 certain
SECONDS_SPENT_CAP = 3600.0  # longer is a page left open, not time spent looking: recorded as the cap


class QCDecision(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="qc_decisions")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="qc_decisions")
    decided_at = models.DateTimeField(default=timezone.now, db_index=True, help_text="UTC.")
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    reason = models.CharField(max_length=32, choices=Reason.choices, blank=True)
    note = models.TextField(blank=True)
    previous_verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True,
                                        help_text="The scan's status before this decision.")
    confidence = models.PositiveSmallIntegerField(null=True, blank=True,
                                                  help_text="The rater's confidence, 1 (unsure) to 5 (certain).")
    seconds_spent = models.FloatField(null=True, blank=True,
                                      help_text="Seconds from the scan's page shown to this decision, measured in "
                                                f"the browser, at most {SECONDS_SPENT_CAP:.0f}.")

    objects = active_manager(ScanRowQuerySet)
    all_objects = models.Manager()

    class Meta:
        ordering = ["-decided_at", "-id"]
        base_manager_name = "all_objects"
        get_latest_by = ["decided_at", "id"]
        verbose_name = "QC decision"
        indexes = [models.Index(fields=["scan", "-decided_at", "-id"], name="qc_scan_newest"),
                   models.Index(fields=["rater", "-decided_at"], name="qc_rater_newest")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(verdict="fail") | ~models.Q(reason=""),
                                   name="qc_fail_needs_reason"),
            models.CheckConstraint(condition=models.Q(confidence__isnull=True)
                                   | models.Q(confidence__range=CONFIDENCE_RANGE), name="qc_confidence_range"),
            models.CheckConstraint(condition=models.Q(seconds_spent__isnull=True)
                                   | models.Q(seconds_spent__range=(0, SECONDS_SPENT_CAP)),
                                   name="qc_seconds_spent_range"),
        ]

    def __str__(self) -> str:
        return f"{self.scan} {self.verdict} by {self.rater} at {self.decided_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("QC decisions are append-only: record a new decision instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("QC decisions are append-only and cannot be deleted.")


class QCLock(models.Model):
    """A rater's hold on a scan while reviewing it; expires, so an abandoned scan returns to the queue."""

    scan = models.OneToOneField(Scan, on_delete=models.CASCADE, related_name="qc_lock")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qc_locks")
    acquired_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.scan} held by {self.rater} until {self.expires_at:%H:%M:%S}"


class QCDeferral(models.Model):
    """A rater's "review later" mark: the scan moves to the end of that rater's queue."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="qc_deferrals")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qc_deferrals")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scan", "rater"], name="qc_deferral_once")]

    def __str__(self) -> str:
        return f"{self.scan} later for {self.rater}"
