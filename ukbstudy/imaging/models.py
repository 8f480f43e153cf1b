"""Neck-to-knee Dixon scans (UK Biobank field 20201): the archive as imported, its station and series
inventory, and what preprocessing made from it."""

from __future__ import annotations

from django.db import models

from ml.ukb import protocol
from ukbstudy.subjects.models import ImportBatch, Subject, Visit, active_manager


class Scan(models.Model):
    """One neck-to-knee Dixon archive (``{eid}_20201_{instance}_0.zip``) and what was made from it."""

    Instance = Visit.Instance

    class State(models.TextChoices):
        IMPORTED = "imported", "Imported"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Processing failed"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="scans")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="scans", help_text=(
        "The visit the archive was acquired at; its subject and instance are the scan's own (set together by "
        "the archive import, which is the only writer)."))
    field_id = models.PositiveIntegerField(default=protocol.FIELD_ID)
    instance = models.PositiveSmallIntegerField(choices=Instance.choices)
    array_index = models.PositiveSmallIntegerField(default=0)
    archive_sha256 = models.CharField(max_length=64, unique=True, verbose_name="archive SHA-256")
    archive_path = models.CharField(max_length=500, help_text=(
        "Relative to MEDIA_ROOT for a copy; absolute for an archive registered in place."))
    archive_in_place = models.BooleanField(default=False, help_text=(
        "Registered where it lies (not copied, never deleted by the app); read through scan_archive_file."))
    archive_name = models.CharField(max_length=200, help_text="File name as delivered.")
    archive_bytes = models.BigIntegerField()
    archive_mtime_ns = models.BigIntegerField(null=True, blank=True, help_text=(
        "Modification time (ns since 1970) of the file read at import or at the last check whose hash matched; "
        "a different time makes the next read re-hash it. Empty for scans imported before times were kept."))
    study_date = models.DateField(null=True, blank=True)
    study_uid = models.CharField(max_length=64, blank=True)
    n_series = models.PositiveSmallIntegerField(help_text="DICOM series found in the archive.")
    n_files = models.PositiveIntegerField(help_text="DICOM files found in the archive.")
    inventory = models.JSONField(default=dict, help_text="Kept series per station and type (in/opp/F/W).")
    deviations = models.JSONField(default=list, blank=True, help_text="Departures from the 24-series protocol.")
    n_deviations = models.PositiveSmallIntegerField(default=0, db_index=True)
    processing_state = models.CharField(max_length=16, choices=State.choices, default=State.IMPORTED,
                                        db_index=True)
    processing_error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    derived = models.JSONField(default=dict, blank=True, help_text="Derived image paths, relative to MEDIA_ROOT.")
    preprocessing = models.JSONField(default=dict, blank=True,
                                     help_text="Grid, network input parameters, statistics and timings.")
    qc_hints = models.JSONField(default=list, blank=True, help_text="Automatic QC hints, most severe first.")
    hint_rank = models.PositiveSmallIntegerField(
        default=3, db_index=True, help_text="Most severe hint: 0 high, 1 medium, 2 low, 3 none (orders the QC queue).")
    qc_raters = models.PositiveSmallIntegerField(
        default=0, help_text="Distinct raters who decided on this scan (kept by the QC services; orders the queue).")
    import_batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="scans")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = active_manager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["subject__eid", "instance"]
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(fields=["subject", "field_id", "instance", "array_index"],
                                    name="scan_unique_per_subject_visit"),
        ]
        indexes = [models.Index(fields=["processing_state", "hint_rank", "qc_raters", "id"], name="scan_qc_queue")]

    def __str__(self) -> str:
        return f"{self.subject.eid}_{self.field_id}_{self.instance}_{self.array_index}"

    @property
    def stations(self) -> list[int]:
        return sorted(int(s) for s in self.inventory.get("stations", {}))
