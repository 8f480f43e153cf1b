"""Reads for the marrow pages, command and demo: Dice report, status counts, segmentations to review."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from ml.marrow.regions import REGIONS
from ml.marrow.training import ARCHITECTURES
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.qc.models import Reason

from .models import ManualSegmentation, Segmentation
from .services.training import TASK

ARCHITECTURE_LABELS = {"unet": "3D U-Net", "roi_attention_unet": "ROI-attention U-Net"}


def current_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(task=TASK, is_current=True).first()


def dice_report(model_version: ModelVersion | None = None) -> dict | None:
    """Held-out Dice per region for every architecture trained in the same run as ``model_version`` (the
    current one by default): {"version", "architectures", "rows": [{region, label, <arch>: summary}]}."""
    model_version = model_version or current_model_version()
    if model_version is None:
        return None
    versions = {v.name: v for v in ModelVersion.objects.filter(task=TASK, version=model_version.version)}
    architectures = [a for a in ARCHITECTURES if a in versions]
    rows = []
    for name, region in REGIONS.items():
        cells = [versions[arch].metrics.get("dice", {}).get(name) for arch in architectures]
        rows.append({"region": name, "label": region.label, "cells": cells,
                     **dict(zip(architectures, cells, strict=True))})
    return {"version": model_version.version, "architectures": architectures,
            "labels": [ARCHITECTURE_LABELS[a] for a in architectures], "rows": rows}


def status_counts(model_version: ModelVersion) -> list[dict]:
    counts = {row["region"]: row for row in Segmentation.objects.filter(model_version=model_version).values(
        "region").annotate(ok=Count("pk", filter=Q(status="ok")), small=Count("pk", filter=Q(status="small")),
                           empty=Count("pk", filter=Q(status="empty")),
                           measured=Count("pk", filter=Q(bmff__isnull=False)), total=Count("pk"))}
    return [{"region": name, "label": region.label, **counts.get(name, {"ok": 0, "small": 0, "empty": 0,
                                                                          "measured": 0, "total": 0})}
            for name, region in REGIONS.items()]


def segmentations_to_review(model_version: ModelVersion) -> QuerySet:
    """Segmentations without a BMFF value (Small, Empty or flagged), newest scans first by eid."""
    return (Segmentation.objects.filter(model_version=model_version, bmff__isnull=True)
            .select_related("scan__subject", "cause_by").order_by("scan__subject__eid", "region"))


def segmentation_of_scan(*, scan_pk: int, region: str,
                         model_version: ModelVersion | None = None) -> Segmentation | None:
    """The segmentation of one region of a scan by ``model_version`` (the current one by default); None for an
    unknown scan or region, a withdrawn participant, or no segmentation."""
    model_version = model_version or current_model_version()
    if model_version is None or region not in REGIONS:
        return None
    return (Segmentation.objects.filter(scan_id=scan_pk, region=region, model_version=model_version)
            .select_related("scan__subject", "model_version").first())


def suggested_cause(segmentation: Segmentation) -> str:
    """A first guess at the failure cause from the flags and hints (the rater decides)."""
    flags = set(segmentation.flags)
    hints = " ".join(segmentation.hints)
    if "water_fat_swap" in flags:
        return Reason.WATER_FAT_SWAP
    if "station_missing" in flags:
        return Reason.DATA_STRUCTURE
    if "partly outside the slab" in hints:
        return Reason.OUTSIDE_SLAB_PARTIAL
    if segmentation.status == Segmentation.Status.EMPTY or "centre_of_mass" in flags:
        return Reason.OUTSIDE_SLAB_FULL if "centre_of_mass" in flags else ""
    return ""


def manual_counts() -> dict[str, int]:
    counts = dict(ManualSegmentation.objects.values_list("region").annotate(n=Count("pk")))
    return {name: counts.get(name, 0) for name in REGIONS}
