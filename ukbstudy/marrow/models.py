"""Bone marrow segmentations: manual ground truth per scan and region, and the network's checked output.

Both live on the region's slab grid (station 2, 4 or 5); their masks are NIfTI files under MEDIA_ROOT.
BMFF values themselves are ``Measurement`` rows (``bmff_spine``, ..., method ``segmentation``), written
only for OK segmentations without flags.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ml.marrow.regions import REGIONS
from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.models import Job
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.qc.models import Reason
from ukbstudy.subjects.models import ScanRowQuerySet, active_manager

REGION_CHOICES = [(region.name, region.label) for region in REGIONS.values()]
FAILURE_CAUSES = [Reason.DATA_STRUCTURE, Reason.OTHER_ARTEFACT, Reason.WATER_FAT_SWAP, Reason.NOISE, Reason.METAL,
                  Reason.OUTSIDE_SLAB_PARTIAL, Reason.OUTSIDE_SLAB_FULL, Reason.SKELETAL_ABNORMALITY, Reason.OTHER]
CAUSE_CHOICES = [("", "Not assigned")] + [(reason.value, reason.label) for reason in FAILURE_CAUSES]


class ManualSegmentation(models.Model):
    """A manual label volume of one region on its slab's grid (validated at import)."""

    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="manual_segmentations")
    region = models.CharField(max_length=16, choices=REGION_CHOICES, db_index=True)
    path = models.CharField(max_length=500, help_text="Relative to MEDIA_ROOT.")
    voxels = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=200, blank=True, help_text="File name as delivered.")
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = active_manager(ScanRowQuerySet)
    all_objects = models.Manager()

    class Meta:
        ordering = ["region", "scan_id"]
        base_manager_name = "all_objects"
        constraints = [models.UniqueConstraint(fields=["scan", "region"], name="manual_segmentation_once")]

    def __str__(self) -> str:
        return f"manual {self.region} of scan {self.scan_id}"


class Segmentation(models.Model):
    """The network's segmentation of one region after the error checks, with its status and hints."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        SMALL = "small", "Small"
        EMPTY = "empty", "Empty"

    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="marrow_segmentations")
    region = models.CharField(max_length=16, choices=REGION_CHOICES, db_index=True)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="marrow_segmentations")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, db_index=True)
    flags = models.JSONField(default=list, blank=True, help_text="centre_of_mass, water_fat_swap, ...")
    hints = models.JSONField(default=list, blank=True, help_text="Why the status or flags, in words.")
    volume_voxels = models.PositiveIntegerField()
    volume_ml = models.FloatField()
    centre = models.JSONField(null=True, blank=True, help_text="Centre of mass, voxel (z, y, x) in the slab.")
    centre_sd_distance = models.FloatField(null=True, blank=True)
    removed_voxels = models.PositiveIntegerField(default=0, help_text="Single-voxel components removed.")
    joined_pieces = models.PositiveSmallIntegerField(default=0)
    bmff = models.FloatField(null=True, blank=True, help_text="%, when measured (OK and not flagged).")
    mask_path = models.CharField(max_length=500, blank=True, help_text="Relative to MEDIA_ROOT.")
    failure_cause = models.CharField(max_length=32, choices=CAUSE_CHOICES, blank=True)
    cause_note = models.TextField(blank=True)
    cause_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    cause_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = active_manager(ScanRowQuerySet)
    all_objects = models.Manager()

    class Meta:
        ordering = ["scan_id", "region"]
        base_manager_name = "all_objects"
        constraints = [models.UniqueConstraint(fields=["scan", "region", "model_version"],
                                               name="segmentation_once_per_model")]

    def __str__(self) -> str:
        return f"{self.region} of scan {self.scan_id}: {self.status}"

    @property
    def needs_review(self) -> bool:
        return self.status != self.Status.OK or bool(self.flags)
