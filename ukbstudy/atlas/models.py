"""Atlas templates (scans with a validated manual liver mask) and raw atlas readouts per scan.

A *template set* is the active templates at the time of a run, identified by a fingerprint of their ids
and mask checksums. Raw readouts are kept per scan and template set; the corrected values become
``Measurement`` rows (method ``atlas``) under a ``ModelVersion`` of task ``atlas`` whose config holds the
template set and the correction fitted on dataset A (see ``services/calibration.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.models import Job
from ukbstudy.subjects.models import SubjectRowQuerySet, active_manager


class ScanRows(SubjectRowQuerySet):
    subject_paths = ("scan__subject",)


class AtlasTemplate(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="atlas_templates")
    mask_path = models.CharField(max_length=500, help_text="Liver mask NIfTI, relative to MEDIA_ROOT.")
    mask_sha256 = models.CharField(max_length=64)
    voxels = models.PositiveIntegerField(help_text="Liver voxels in the mask.")
    active = models.BooleanField(default=True, help_text="Part of the template set used by new runs.")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = active_manager(ScanRows)
    all_objects = models.Manager()

    class Meta:
        ordering = ["pk"]
        base_manager_name = "all_objects"
        constraints = [models.UniqueConstraint(fields=["scan", "mask_sha256"], name="atlas_template_unique")]

    def __str__(self) -> str:
        return f"template {self.pk} ({self.scan})"

    @property
    def name(self) -> str:
        """The name the atlas code uses for this template (and for its scan as a target)."""
        return f"scan-{self.scan_id}"


class AtlasReadout(models.Model):
    """The raw (uncorrected) atlas liver FF of one scan with one template set."""

    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="atlas_readouts")
    template_set = models.CharField(max_length=64, db_index=True, help_text="Fingerprint of the template set.")
    raw = models.FloatField(help_text="Median FF (%) of the eroded intersection, before correction.")
    details = models.JSONField(default=dict, blank=True, help_text="Voxel counts, templates, correlations, seconds.")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="atlas_readouts")
    created_at = models.DateTimeField(auto_now=True)

    objects = active_manager(ScanRows)
    all_objects = models.Manager()

    class Meta:
        ordering = ["scan_id"]
        base_manager_name = "all_objects"
        constraints = [models.UniqueConstraint(fields=["scan", "template_set"], name="atlas_readout_unique")]

    def __str__(self) -> str:
        return f"{self.scan}: raw atlas {self.raw:.2f} % ({self.template_set[:8]})"
