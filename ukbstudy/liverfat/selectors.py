"""Reads for the liver fat page: the registry, the network's runs and their loss curves."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from ukbstudy.jobs.models import Job
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.measurements.selectors.datasets import dataset_scans

from .services.registry import TASK

KINDS = (Job.Kind.CROSS_VALIDATE, Job.Kind.TRAIN, Job.Kind.INFER)


def model_versions() -> QuerySet:
    return (ModelVersion.objects.filter(task=TASK).annotate(n_values=Count("measurements"))
            .select_related("trained_by").order_by("-created_at"))


def liverfat_jobs(limit: int = 20) -> list[Job]:
    return list(Job.objects.filter(kind__in=KINDS, parameters__task=TASK).select_related("created_by")[:limit])


def dataset_sizes(field: str) -> dict[str, int]:
    return {name: dataset_scans(name, field=field).count() for name in ("A", "B", "all")}


def loss_curves(jobs: list[Job]) -> list[tuple[str, list[float]]]:
    """(label, per-iteration loss) of the newest finished training run and cross-validation shown."""
    curves = []
    for kind in (Job.Kind.TRAIN, Job.Kind.CROSS_VALIDATE):
        job = next((j for j in jobs if j.kind == kind and j.status == Job.Status.SUCCEEDED), None)
        if job is None:
            continue
        loss = Job.objects.values_list("metrics", flat=True).get(pk=job.pk).get("loss") or []
        if kind == Job.Kind.TRAIN:
            curves.append((f"training, job {job.pk}", loss))
        else:
            curves += [(f"cross-validation job {job.pk}, fold {k + 1}", fold) for k, fold in enumerate(loss[:3])]
    return curves
