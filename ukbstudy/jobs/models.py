"""Job records: every long computation (imports, preprocessing, training, inference, segmentation) is a
Job row that a Celery task updates, so that pages and the API can show its progress and outcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Job(models.Model):
    class Kind(models.TextChoices):
        IMPORT_ARCHIVES = "import_archives", "Import archives"
        IMPORT_FIELDS = "import_fields", "Import showcase fields"
        PREPROCESS = "preprocess", "Preprocess scans"
        CROSS_VALIDATE = "cross_validate", "Cross-validate"
        TRAIN = "train", "Train"
        INFER = "infer", "Infer"
        SEGMENT = "segment", "Segment bone marrow"
        ATLAS = "atlas", "Multi-atlas measurement"
        EXPORT = "export", "Export"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    parameters = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_message = models.CharField(max_length=500, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="Outputs and counts when finished.")
    metrics = models.JSONField(default=dict, blank=True, help_text="Time series such as per-iteration loss.")
    error = models.TextField(blank=True)
    device = models.CharField(max_length=32, blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()

    @property
    def progress_fraction(self) -> float:
        return self.progress_done / self.progress_total if self.progress_total else 0.0


class JobItem(models.Model):
    """One item of a job fanned out over many tasks (e.g. a scan of a cohort run), counted once however
    often Celery delivers its task."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    item = models.CharField(max_length=300)  # a scan id, or an archive: folder number / file name (255 at most)
    ok = models.BooleanField()
    skipped = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "item"], name="job_item_once")]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.item}: {'ok' if self.ok else 'skipped' if self.skipped else 'failed'}"
