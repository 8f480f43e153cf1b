"""Participants, their neck-to-knee scans, and the showcase values imported for them.

A withdrawn participant must disappear from every view, statistic and export. The default manager of
every model here (and of the rows in other apps that hang off a subject) therefore hides withdrawn
subjects; ``all_objects`` sees everything and is for importers and the admin only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ml.ukb import fields as ukb_fields
from ml.ukb import protocol


class SubjectRowQuerySet(models.QuerySet):
    """Rows that belong to a subject through ``subject_paths``; ``active()`` drops withdrawn subjects."""

    subject_paths: tuple[str, ...] = ("subject",)

    def active(self):
        return self.filter(**{f"{path}__withdrawn": False for path in self.subject_paths})


class ScanRowQuerySet(SubjectRowQuerySet):
    """Rows that hang off a scan (QC decisions)."""

    subject_paths = ("scan__subject",)


class ActiveManager(models.Manager):
    """Default manager that hides rows of withdrawn subjects; use with ``from_queryset``."""

    def get_queryset(self):
        return super().get_queryset().active()


def active_manager(queryset_class: type[models.QuerySet] = SubjectRowQuerySet) -> models.Manager:
    return ActiveManager.from_queryset(queryset_class)()


class SubjectQuerySet(models.QuerySet):
    def active(self):
        return self.filter(withdrawn=False)


class ImportBatch(models.Model):
    """One import run that wrote something: provenance for every scan and value it created."""

    class Kind(models.TextChoices):
        ARCHIVES = "archives", "UK Biobank archives (field 20201)"
        FIELDS = "fields", "Showcase fields CSV"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.TextField(help_text="File or folder names given to the importer.")
    source_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.created_at:%Y-%m-%d %H:%M})"


class Subject(models.Model):
    """A UK Biobank participant, identified by the application-specific ``eid``."""

    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"

    eid = models.PositiveIntegerField(unique=True, verbose_name="eid")
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    age = models.FloatField(null=True, blank=True, help_text="Age at the imaging visit (years, field 21003-2.0).")
    height_cm = models.FloatField(null=True, blank=True, help_text="Standing height (cm, field 50-2.0).")
    bmi = models.FloatField(null=True, blank=True, help_text="Body mass index (kg/m2, field 21001-2.0).")
    centre = models.PositiveIntegerField(
        null=True, blank=True, choices=sorted(ukb_fields.CENTRE_NAMES.items()),
        help_text="Assessment centre (field 54-2.0).",
    )
    withdrawn = models.BooleanField(default=False, db_index=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = active_manager(SubjectQuerySet)
    all_objects = models.Manager()

    class Meta:
        ordering = ["eid"]
        base_manager_name = "all_objects"

    def __str__(self) -> str:
        return str(self.eid)


class Scan(models.Model):
    """One neck-to-knee Dixon archive (``{eid}_20201_{instance}_0.zip``) and what was made from it."""

    class Instance(models.IntegerChoices):
        FIRST_IMAGING = 2, "First imaging visit"
        REPEAT_IMAGING = 3, "Repeat imaging visit"

    class State(models.TextChoices):
        IMPORTED = "imported", "Imported"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Processing failed"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="scans")
    field_id = models.PositiveIntegerField(default=protocol.FIELD_ID)
    instance = models.PositiveSmallIntegerField(choices=Instance.choices)
    array_index = models.PositiveSmallIntegerField(default=0)
    archive_sha256 = models.CharField(max_length=64, unique=True, verbose_name="archive SHA-256")
    archive_path = models.CharField(max_length=500, help_text="Relative to MEDIA_ROOT.")
    archive_name = models.CharField(max_length=200, help_text="File name as delivered.")
    archive_bytes = models.BigIntegerField()
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


class ShowcaseValue(models.Model):
    """A numeric showcase value of a subject (``field_id`` like ``22402-2.0``) from one import batch."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT)
    field_id = models.CharField(max_length=32, db_index=True, help_text="FIELD-INSTANCE.ARRAY, e.g. 22402-2.0")
    value = models.FloatField()
    unit = models.CharField(max_length=16, blank=True)
    import_batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT)
    updated_at = models.DateTimeField(auto_now=True)

    objects = active_manager()
    all_objects = models.Manager()

    class Meta:
        abstract = True
        ordering = ["subject__eid", "field_id"]
        base_manager_name = "all_objects"

    def __str__(self) -> str:
        return f"{self.subject.eid} {self.field_id} = {self.value:g} {self.unit}".rstrip()


class ReferenceValue(ShowcaseValue):
    """A reference measurement to validate methods against (e.g. liver PDFF, field 22402-2.0)."""

    class Meta(ShowcaseValue.Meta):
        constraints = [models.UniqueConstraint(fields=["subject", "field_id"], name="reference_unique_field")]


class CovariateValue(ShowcaseValue):
    """A covariate (DXA bone density and T-scores, fat percentages, VAT mass, ...)."""

    class Meta(ShowcaseValue.Meta):
        constraints = [models.UniqueConstraint(fields=["subject", "field_id"], name="covariate_unique_field")]
