"""Derived measurements and the model versions that produced them.

A measurement carries full provenance: the scan it was measured on, the method, the model version (for
network, segmentation and atlas methods) and the job run that wrote it, or, for a value a lab already had,
the import batch and the file's line it came from.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.models import Job
from ukbstudy.subjects.models import ImportBatch, Subject, SubjectRowQuerySet, active_manager


class Quantity(models.TextChoices):
    LIVER_FF = "liver_ff", "Liver fat fraction"
    BMFF_SPINE = "bmff_spine", "Bone marrow FF, spine"
    BMFF_FEMORAL_HEAD = "bmff_femoral_head", "Bone marrow FF, femoral head"
    BMFF_TOTAL_HIP = "bmff_total_hip", "Bone marrow FF, total hip"
    BMFF_DIAPHYSIS = "bmff_diaphysis", "Bone marrow FF, femoral diaphysis"


class Method(models.TextChoices):
    NETWORK = "network", "Regression network"
    ATLAS = "atlas", "Multi-atlas"
    MANUAL = "manual", "Manual"
    SEGMENTATION = "segmentation", "Segmentation network"


# A measurement's ``method`` is one of the app's own methods (``Method``) or a label a lab chose for values
# it imported (``imported``, ``lab_v1``): lowercase, a letter first, at most 16 characters (the column's size).
METHOD_TOKEN_PATTERN = r"^[a-z][a-z0-9_]{0,15}$"


def method_label(token: str) -> str:
    """What pages show for a method: the app's label for its own methods, else the imported label itself."""
    return Method(token).label if token in Method.values else token


class ModelVersion(models.Model):
    """A trained model (or a fixed parameter set such as an atlas template set) with its checkpoint."""

    class Task(models.TextChoices):
        # What the model does; not a quantity's or a method's token (those are ``liver_ff``, ``atlas``).
        LIVER_FF_REGRESSION = "liver_ff_regression", "Liver fat regression"
        BMFF_SEGMENTATION = "bmff_segmentation", "Bone marrow segmentation"
        LIVER_FF_ATLAS = "liver_ff_atlas", "Multi-atlas liver fat"

    task = models.CharField(max_length=32, choices=Task.choices, db_index=True)
    name = models.CharField(max_length=100, help_text="Architecture or template set, e.g. resnet50.")
    version = models.CharField(max_length=50)
    checkpoint_path = models.CharField(max_length=500, blank=True, help_text="Relative to MEDIA_ROOT.")
    config = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="Cross-validation or validation metrics.")
    data_fingerprint = models.CharField(max_length=64, blank=True)
    git_revision = models.CharField(max_length=40, blank=True)
    is_current = models.BooleanField(default=False)
    trained_by = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="model_versions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["task", "name", "version"], name="model_version_unique"),
            models.UniqueConstraint(fields=["task"], condition=Q(is_current=True), name="one_current_model_per_task"),
        ]

    def __str__(self) -> str:
        return f"{self.task}:{self.name}@{self.version}"


class MeasurementQuerySet(SubjectRowQuerySet):
    subject_paths = ("subject", "scan__subject")


class Measurement(models.Model):
    """A derived value. Its ``subject`` is always its scan's subject (set by ``measurement_record``); it is
    stored too so that per-subject queries need no join."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="measurements")
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="measurements")
    quantity = models.CharField(max_length=32, choices=Quantity.choices, db_index=True)
    # No ``choices``: imported values carry a label of the lab's (``Method`` holds the app's own tokens).
    method = models.CharField(max_length=16, db_index=True, validators=[RegexValidator(
        METHOD_TOKEN_PATTERN, "A method is lowercase letters, digits and _, a letter first (at most 16).")])
    value = models.FloatField()
    unit = models.CharField(max_length=16, default="%")
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="measurements")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="measurements",
                            help_text="The run that produced the value.")
    details = models.JSONField(default=dict, blank=True, help_text="E.g. fold, region volume, status.")
    import_batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="measurements",
                                     help_text="The import that wrote the value (values a lab already had).")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = active_manager(MeasurementQuerySet)
    all_objects = models.Manager()

    class Meta:
        ordering = ["subject__eid", "quantity", "method"]
        base_manager_name = "all_objects"
        indexes = [
            # A column of the results pages and reports: one quantity by one method, per subject (covering the
            # coverage counts and scan_frame's filter).
            models.Index(fields=["quantity", "method", "subject"], name="measurement_quantity_method"),
        ]
        constraints = [
            # One value per scan, quantity, method and model version; methods without a model version
            # (manual) get one value per scan, quantity and method. Two partial constraints because NULLs
            # never collide in a plain unique constraint.
            models.UniqueConstraint(fields=["scan", "quantity", "method", "model_version"],
                                    condition=Q(model_version__isnull=False), name="measurement_unique_versioned"),
            models.UniqueConstraint(fields=["scan", "quantity", "method"],
                                    condition=Q(model_version__isnull=True), name="measurement_unique_unversioned"),
        ]

    def __str__(self) -> str:
        return f"{self.subject.eid} {self.quantity} ({self.method}) = {self.value:g} {self.unit}"


class Export(models.Model):
    """A measurement export someone downloaded: who, when, what (format and filters) and how many rows."""

    class Format(models.TextChoices):
        LONG = "long", "Long (one row per measurement)"
        WIDE = "wide", "Wide (one row per participant and visit)"
        TIDY = "tidy", "Tidy (one row per participant and visit, for collaborators)"

    exported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    format = models.CharField(max_length=8, choices=Format.choices)
    filters = models.JSONField(default=dict, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True, help_text="Rows written (empty until finished).")
    channel = models.CharField(max_length=16, help_text="web, api or command")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.format} export #{self.pk} by {self.exported_by} ({self.created_at:%Y-%m-%d %H:%M})"
