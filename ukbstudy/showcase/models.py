"""Showcase values of the participants: reference measurements (liver PDFF, fields 22402 / 22436) and
covariates (DXA, body composition, any other numeric field of a basket), each from its import batch."""

from __future__ import annotations

from django.db import models

from ukbstudy.subjects.models import ImportBatch, Subject, active_manager


class ShowcaseValue(models.Model):
    """A numeric showcase value of a subject (``field`` like ``22402-2.0``) from one import batch."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT)
    field = models.CharField(max_length=32, db_index=True, help_text="FIELD-INSTANCE.ARRAY, e.g. 22402-2.0")
    value = models.FloatField()
    unit = models.CharField(max_length=16, blank=True)
    import_batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT)
    updated_at = models.DateTimeField(auto_now=True)

    objects = active_manager()
    all_objects = models.Manager()

    class Meta:
        abstract = True
        ordering = ["subject__eid", "field"]
        base_manager_name = "all_objects"

    def __str__(self) -> str:
        return f"{self.subject.eid} {self.field} = {self.value:g} {self.unit}".rstrip()


class ReferenceValue(ShowcaseValue):
    """A reference measurement to validate methods against (e.g. liver PDFF, field 22402-2.0)."""

    class Meta(ShowcaseValue.Meta):
        constraints = [models.UniqueConstraint(fields=["subject", "field"], name="reference_unique_field")]


class CovariateValue(ShowcaseValue):
    """A covariate (DXA bone density and T-scores, fat percentages, VAT mass, ...)."""

    class Meta(ShowcaseValue.Meta):
        constraints = [models.UniqueConstraint(fields=["subject", "field"], name="covariate_unique_field")]
