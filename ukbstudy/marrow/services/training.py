"""Training the four regions' networks (plain U-Net and ROI-attention U-Net) on the manual segmentations.

Each region's manual cases are split by a seeded hash of the scan into training and held-out cases; both
architectures train on the same split and are scored by Dice on the held-out cases (after the error
checks). The checkpoints are written first; the two model versions (task ``bmff_segmentation``, one per
architecture, the attention model made current) are recorded in one transaction at the end, so a failed
or cancelled run leaves no model behind.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ml.marrow.evaluation import dice_scores, summarise
from ml.marrow.io import load_label
from ml.marrow.regions import REGION_NAMES, region_of
from ml.marrow.training import ARCHITECTURES, Case, TrainConfig, load_model, train_region
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.measurements.services import code_revision, model_version_record

from ..models import ManualSegmentation
from .slabs import scan_slab

TASK = ModelVersion.Task.BMFF_SEGMENTATION
CURRENT_ARCHITECTURE = "roi_attention_unet"
DEFAULT_TEST_FRACTION = 0.15
MIN_TEST_CASES = 2


def manual_cases(region: str) -> list[Case]:
    """Every manual segmentation of ``region`` whose scan is processed, with its slab."""
    cases = []
    spec = region_of(region)
    records = ManualSegmentation.objects.filter(region=region, scan__processing_state="processed")
    for record in records.select_related("scan__subject").order_by("scan__subject__eid", "scan__instance"):
        fat, water, affine = scan_slab(record.scan, spec)
        mask = load_label(Path(settings.MEDIA_ROOT) / record.path, fat.shape, affine)
        cases.append(Case(f"{record.scan.subject.eid}_{record.scan.instance}", fat, water, mask))
    return cases


def split_cases(cases: Sequence[Case], test_fraction: float, seed: int) -> tuple[list[Case], list[Case]]:
    """Held-out cases: a seeded hash order of the keys, ``test_fraction`` of them (at least two)."""
    usable = [c for c in cases if c.mask.any()]
    ordered = sorted(usable, key=lambda c: hashlib.sha256(f"{seed}:{c.key}".encode()).hexdigest())
    n_test = max(MIN_TEST_CASES, round(test_fraction * len(ordered)))
    if len(ordered) - n_test < 2:
        raise ValueError(f"{len(ordered)} manual segmentations with voxels: too few to train and hold out "
                         f"{n_test} (import more with `manage.py marrow import-labels`)")
    return ordered[n_test:], ordered[:n_test]


def marrow_models_train(*, config: dict | None = None, regions: Sequence[str] = REGION_NAMES,
                        architectures: Sequence[str] = ARCHITECTURES, test_fraction: float = DEFAULT_TEST_FRACTION,
                        seed: int = 0, job=None, progress=None) -> list[ModelVersion]:
    """Train every architecture for every region; returns the new model versions (attention model first)."""
    version = f"{timezone.now():%Y%m%dT%H%M%S}" + (f"-job{job.pk}" if job else "")
    folder = Path("marrow") / "models" / version
    steps = len(regions) * len(architectures)
    configs = {arch: TrainConfig(**{**(config or {}), "architecture": arch, "seed": seed}) for arch in architectures}
    found: dict[str, dict] = {arch: {"regions": {}, "dice": {}, "fingerprints": []} for arch in architectures}
    try:
        for r_index, region in enumerate(regions):
            train, test = split_cases(manual_cases(region), test_fraction, seed)
            for a_index, arch in enumerate(architectures):
                step = r_index * len(architectures) + a_index
                checkpoint = train_region(region, train, configs[arch], progress=_step_progress(progress, step, steps))
                scores = dice_scores(load_model(checkpoint), test)
                relative = folder / arch / f"{region}.pt"
                (Path(settings.MEDIA_ROOT) / relative).parent.mkdir(parents=True, exist_ok=True)
                torch.save(checkpoint, Path(settings.MEDIA_ROOT) / relative)
                found[arch]["regions"][region] = {"checkpoint": str(relative), "box": checkpoint["box"],
                                                  "train_cases": len(train), "test_cases": [c.key for c in test],
                                                  "seconds": checkpoint["seconds"], "device": checkpoint["device"]}
                found[arch]["dice"][region] = {**summarise(scores), "scores": scores}
                found[arch]["fingerprints"].append(checkpoint["data_fingerprint"])
        return _record_versions(version, folder, configs, found, job)
    except BaseException:
        shutil.rmtree(Path(settings.MEDIA_ROOT) / folder, ignore_errors=True)
        raise


def _step_progress(progress, step: int, steps: int):
    if progress is None:
        return None
    return lambda done, total, message: progress(step * total + done, steps * total, message)


def _record_versions(version: str, folder: Path, configs: dict, found: dict, job) -> list[ModelVersion]:
    revision = code_revision()
    ordered = sorted(found, key=lambda arch: arch != CURRENT_ARCHITECTURE)
    with transaction.atomic():
        return [model_version_record(
            task=TASK, name=arch, version=version, checkpoint_path=str(folder / arch),
            config={"train": asdict(configs[arch]), "regions": found[arch]["regions"]},
            metrics={"dice": found[arch]["dice"]}, data_fingerprint=_fingerprint(found[arch]["fingerprints"]),
            git_revision=revision, trained_by=job, make_current=arch == CURRENT_ARCHITECTURE) for arch in ordered]


def _fingerprint(fingerprints: list[str]) -> str:
    return hashlib.sha256("".join(fingerprints).encode()).hexdigest()
