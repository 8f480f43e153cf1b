"""The liver fat paper's datasets, read from the database.

- ``A``: QC-passed scans of the first imaging visit whose subject has a value in the reference field
  (22402-2.0 by default, 22436-2.0 selectable, or a list in order of preference, ``22402-2.0,22436-2.0``:
  each subject's value from the first field that has one not marked implausible): cross-validation and
  training;
- ``B``: QC-passed scans of the first imaging visit whose subject has none: inference;
- ``C``: a seeded random subset of B (1,000 by default): network against atlas;
- ``all``: every processed scan of the first imaging visit, whatever its QC;
- ``repeat``: QC-passed scans of the repeat imaging visit (instance 3) whose participant has a QC-passed scan
  of the first imaging visit too: the scans whose change between visits is measured and reviewed.

QC-passed means processed (a network input exists) and the newest visual QC verdict is pass. C is drawn by
ranking B's subjects on a hash of (seed, eid), so a subject's membership only changes when B itself does.
"""

from __future__ import annotations

import hashlib

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from ml.ukb import protocol
from ukbstudy.imaging.models import Scan
from ukbstudy.qc.models import Verdict
from ukbstudy.qc.selectors import scans_with_qc_status
from ukbstudy.showcase.models import ReferenceValue

from . import DEFAULT_REFERENCE_FIELD

DATASETS = ("A", "B", "C", "all", "repeat")
DEFAULT_C_SIZE = 1000


class UnknownDataset(ValueError):
    pass


def processed_scans(*, instance: int = protocol.FIRST_IMAGING_INSTANCE) -> QuerySet:
    return Scan.objects.filter(instance=instance, processing_state=Scan.State.PROCESSED)


def qc_passed_scans(*, instance: int = protocol.FIRST_IMAGING_INSTANCE) -> QuerySet:
    return scans_with_qc_status(processed_scans(instance=instance)).filter(qc_status=Verdict.PASS)


def reference_fields(field: str) -> list[str]:
    """The fields of a reference specification: one field id, or several, comma-separated, by preference."""
    fields = [f.strip() for f in field.split(",") if f.strip()]
    if not fields:
        raise UnknownDataset("no reference field given")
    return fields


def _with_reference(scans: QuerySet, field: str) -> QuerySet:
    return scans.annotate(has_reference=Exists(
        ReferenceValue.objects.filter(subject=OuterRef("subject"), field__in=reference_fields(field))))


def _with_usable_reference(scans: QuerySet, field: str) -> QuerySet:
    """Scans whose subject has a value in one of the fields that no reviewer marked implausible."""
    usable = Q()
    for single in reference_fields(field):
        usable |= Q(subject_id__in=ReferenceValue.objects.filter(field=single).exclude(
            subject_id__in=excluded_reference_subject_ids(field=single)).values("subject_id"))
    return scans.filter(usable)


def usable_reference_values(subject_ids: list[int], field: str) -> dict[int, float]:
    """Per subject, the value of the first field (in preference order) that has one not marked implausible."""
    values: dict[int, float] = {}
    for single in reference_fields(field):
        excluded = excluded_reference_subject_ids(field=single)
        for subject_id, value in ReferenceValue.objects.filter(subject_id__in=subject_ids, field=single).values_list(
                "subject_id", "value"):
            if subject_id not in excluded:
                values.setdefault(subject_id, value)
    return values


def excluded_reference_subject_ids(*, field: str) -> set[int]:
    """Subjects whose reference value in ``field`` a reviewer marked implausible (left out of A): those whose
    newest outlier verdict about that field says so. A later verdict (e.g. "both plausible") brings them back."""
    # The results app builds on this one, so its model is looked up by name: measurements imports no results.
    OutlierVerdict = apps.get_model("results", "OutlierVerdict")

    about_field = OutlierVerdict.all_objects.filter(reference_field=field)
    newest = about_field.filter(subject=OuterRef("subject")).order_by("-created_at", "-id").values("verdict")[:1]
    return set(about_field.annotate(newest=Subquery(newest)).filter(
        newest=OutlierVerdict.Verdict.REFERENCE_IMPLAUSIBLE).values_list("subject_id", flat=True).distinct())


def dataset_scans(name: str, *, field: str = DEFAULT_REFERENCE_FIELD, seed: int = 0,
                  c_size: int = DEFAULT_C_SIZE) -> QuerySet:
    """The scans of dataset ``name`` (A, B, C or all), ordered by eid."""
    if name == "all":
        return processed_scans().select_related("subject").order_by("subject__eid")
    if name == "repeat":
        first = qc_passed_scans().values("subject_id")
        return qc_passed_scans(instance=protocol.REPEAT_IMAGING_INSTANCE).filter(subject_id__in=first).select_related(
            "subject").order_by("subject__eid")
    if name not in DATASETS:
        raise UnknownDataset(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    scans = _with_reference(qc_passed_scans(), field).select_related("subject").order_by("subject__eid")
    if name == "A":
        return _with_usable_reference(scans.filter(has_reference=True), field)
    b_scans = scans.filter(has_reference=False)
    if name == "B":
        return b_scans
    chosen = sorted(b_scans.values_list("pk", "subject__eid"), key=lambda row: _draw(seed, row[1]))[:c_size]
    return b_scans.filter(pk__in=[pk for pk, _ in chosen])


def _draw(seed: int, eid: int) -> str:
    return hashlib.sha256(f"{seed}:{eid}".encode()).hexdigest()
