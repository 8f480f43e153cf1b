"""Segmenting one scan's four regions with a model version, checking them and measuring BMFF.

Per scan, everything is computed first; then one transaction replaces this model version's segmentations
and BMFF measurements of the scan, so a re-run is idempotent and a failure leaves the last results. A
BMFF measurement is written only for an OK segmentation without flags: a centre of mass far from the
training mean, a water-fat swap hinted on the region's station by the preprocessing, an FF spread inside the
mask far beyond the training labels' (``spread_flags``), a failed region on the same slab or an out-of-place
region on another slab (``neighbour_flags``: the table may be displaced) withhold it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from django.conf import settings
from django.db import transaction

from ml.marrow.bmff import bmff
from ml.marrow.checks import (
    CheckResult,
    Status,
    check_segmentation,
    neighbour_flags,
    spread_flags,
    station_hint_flags,
)
from ml.marrow.regions import region_of
from ml.marrow.training import SegmentationModel, load_model, predict_masks
from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.models import Job
from ukbstudy.measurements.models import Method, ModelVersion
from ukbstudy.measurements.services import measurement_replace

from ..models import Segmentation
from .slabs import SlabMissing, scan_slab, voxel_ml


@functools.lru_cache(maxsize=4)
def _cached_models(model_version_id: int, checkpoint_paths: tuple[tuple[str, str], ...]) -> dict:
    media = Path(settings.MEDIA_ROOT)
    return {region: load_model(torch.load(media / path, map_location="cpu", weights_only=True))
            for region, path in checkpoint_paths}


def version_models(model_version: ModelVersion) -> dict[str, SegmentationModel]:
    """The model version's networks per region (loaded once per process)."""
    paths = tuple(sorted((region, spec["checkpoint"]) for region, spec in model_version.config["regions"].items()))
    return _cached_models(model_version.pk, paths)


@dataclass
class RegionOutcome:
    region: str
    check: CheckResult | None
    flags: list[str]
    hints: list[str]
    voxel_ml: float
    value: float | None = None
    affine: np.ndarray | None = None
    slab: tuple[np.ndarray, np.ndarray] | None = None  # fat, water


def scan_segment(*, scan: Scan, model_version: ModelVersion, job: Job | None = None) -> list[Segmentation]:
    models = version_models(model_version)
    slabs: dict[int, tuple] = {}  # regions on one station share its slab: read it once per scan
    outcomes = [_segment_region(scan, model, slabs) for model in models.values()]
    measured = {}
    for outcome in outcomes:  # BMFF of every OK region; its FF spread may flag it (and so its neighbour)
        if outcome.check is not None and outcome.check.status == Status.OK:
            measured[outcome.region] = bmff(*outcome.slab, outcome.check.mask, region_of(outcome.region))
            flags, hints = spread_flags(measured[outcome.region].spread, models[outcome.region].statistics)
            outcome.check.flags += flags
            outcome.flags += flags
            outcome.hints += hints
    added = neighbour_flags({o.region: o.check for o in outcomes})
    for outcome in outcomes:
        flags, hints = added.get(outcome.region, ([], []))
        outcome.flags += flags
        outcome.hints += hints
        if outcome.region in measured and not outcome.flags:
            outcome.value = measured[outcome.region].value
    masks = {o.region: _write_mask(scan, model_version, o) for o in outcomes}
    with transaction.atomic():
        return [_record(scan, model_version, job, o, masks[o.region]) for o in outcomes]


def _segment_region(scan: Scan, model: SegmentationModel, slabs: dict[int, tuple]) -> RegionOutcome:
    spec = region_of(model.region)
    try:
        if spec.station not in slabs:
            slabs[spec.station] = scan_slab(scan, spec)
        fat, water, affine = slabs[spec.station]
    except SlabMissing:
        return RegionOutcome(model.region, None, ["station_missing"],
                             [f"station {spec.station} is missing from the scan"], 0.0)
    check = check_segmentation(predict_masks(model, [(fat, water)])[0], model.statistics, spec.connected)
    outcome = RegionOutcome(model.region, check, list(check.flags), list(check.hints), voxel_ml(affine), affine=affine,
                            slab=(fat, water))
    flags, hints = station_hint_flags(scan.qc_hints, spec.station)
    outcome.flags += flags
    outcome.hints += hints
    return outcome


def _write_mask(scan: Scan, model_version: ModelVersion, outcome: RegionOutcome) -> str:
    if outcome.check is None or outcome.check.volume_voxels == 0:
        return ""
    relative = (Path("marrow") / "segmentations" / str(scan.subject.eid) / f"{scan.instance}_{scan.array_index}"
                / str(model_version.pk) / f"{outcome.region}.nii.gz")
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    image = nib.Nifti1Image(outcome.check.mask.astype(np.uint8).transpose(2, 1, 0), outcome.affine)
    image.set_qform(outcome.affine, code=1)
    image.set_sform(outcome.affine, code=1)
    nib.save(image, target)
    return str(relative)


def _record(scan: Scan, model_version: ModelVersion, job: Job | None, outcome: RegionOutcome,
            mask_path: str) -> Segmentation:
    check = outcome.check
    volume = check.volume_voxels if check else 0
    segmentation, _ = Segmentation.all_objects.update_or_create(
        scan=scan, region=outcome.region, model_version=model_version, defaults={
            "job": job, "status": check.status if check else Status.EMPTY, "flags": outcome.flags,
            "hints": outcome.hints, "volume_voxels": volume, "volume_ml": round(volume * outcome.voxel_ml, 3),
            "centre": check.centre if check else None,
            "centre_sd_distance": check.centre_sd_distance if check else None,
            "removed_voxels": check.removed_voxels if check else 0,
            "joined_pieces": check.joined_pieces if check else 0,
            "bmff": outcome.value, "mask_path": mask_path})
    details = {"status": segmentation.status, "volume_voxels": volume, "volume_ml": segmentation.volume_ml,
               "segmentation": segmentation.pk}
    measurement_replace(scan=scan, quantity=region_of(outcome.region).quantity, method=Method.SEGMENTATION,
                        model_version=model_version, value=outcome.value, job=job, details=details)
    return segmentation
