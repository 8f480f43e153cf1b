"""Participants (subjects) and the import batches that brought their data.

A withdrawn participant must disappear from every view, statistic and export. The default manager of
every model here and of every row in other apps that hangs off a subject (scans, showcase values, QC
decisions, measurements) therefore hides withdrawn subjects, through ``active_manager`` and the querysets
below; ``all_objects`` sees everything and is for importers and the admin only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ml.ukb import fields as ukb_fields


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
        MEASUREMENTS = "measurements", "Measurements CSV (values a lab already has)"

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
    """A UK Biobank participant, identified by the application-specific ``eid``. What UK Biobank measures at
    every visit (age, height, BMI, centre, date) lives on the participant's visits (``Visit``)."""

    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"

    eid = models.PositiveIntegerField(unique=True, verbose_name="eid")
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
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


class Visit(models.Model):
    """One imaging visit of a participant (UK Biobank instance 2, or 3 for the repeat imaging visit) and
    what UK Biobank measured at it. Scans, and through them QC decisions and measurements, hang off a visit.

    A visit is created by the showcase import (when the basket has a value of that instance) or by the
    archive import (a scan of that instance); attributes stay empty until a basket gives them."""

    class Instance(models.IntegerChoices):
        FIRST_IMAGING = 2, "First imaging visit"
        REPEAT_IMAGING = 3, "Repeat imaging visit"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="visits")
    instance = models.PositiveSmallIntegerField(choices=Instance.choices)
    date = models.DateField(null=True, blank=True, help_text="Date of attending the centre (field 53).")
    age = models.FloatField(null=True, blank=True, help_text="Age at the visit (years, field 21003).")
    height_cm = models.FloatField(null=True, blank=True, help_text="Standing height (cm, field 50).")
    bmi = models.FloatField(null=True, blank=True, help_text="Body mass index (kg/m2, field 21001).")
    centre = models.PositiveIntegerField(
        null=True, blank=True, choices=sorted(ukb_fields.CENTRE_NAMES.items()),
        help_text="Assessment centre (field 54).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = active_manager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["subject__eid", "instance"]
        base_manager_name = "all_objects"
        constraints = [models.UniqueConstraint(fields=["subject", "instance"], name="visit_unique_per_instance")]

    def __str__(self) -> str:
        return f"{self.subject.eid} instance {self.instance}"


# What a visit holds, by the catalogue's key: the showcase import and the frames read these names.
VISIT_ATTRIBUTES = {"date": "date", "age": "age", "height": "height_cm", "bmi": "bmi", "centre": "centre"}
