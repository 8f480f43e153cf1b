"""Records of the liver fat network's runs beyond jobs, model versions and measurements: which fold of a
cross-validation each scan was held out in, so every out-of-fold prediction traces to the model that made it."""

from __future__ import annotations

from django.db import models

from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.models import Job


class FoldAssignment(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="fold_assignments")
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="fold_assignments")
    fold = models.PositiveSmallIntegerField(help_text="0-based; the scan was predicted by the model not trained on it.")

    class Meta:
        ordering = ["job", "fold", "scan"]
        constraints = [models.UniqueConstraint(fields=["job", "scan"], name="fold_assignment_once_per_job")]

    def __str__(self) -> str:
        return f"job {self.job_id}: scan {self.scan_id} in fold {self.fold}"
