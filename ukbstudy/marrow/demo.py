"""The demo's bone marrow step: manual labels for a subset, both networks trained, every scan segmented,
checked and measured; prints the Dice report and what the error checks found."""

from __future__ import annotations

import pathlib
import time

import torch
from django.conf import settings

from ukbstudy.measurements.datasets import processed_scans, qc_passed_scans

from .report import dice_lines, status_lines
from .selectors import current_model_version
from .services.jobs import marrow_segment_start, marrow_train_start
from .services.manual import manual_segmentations_import

DEMO_MANUAL = 30  # of the demo's 40 subjects (the paper: 61-75 of 729)
DEMO_CONFIG = {"iterations": 200, "base_channels": 8}


def demo_step(*, stdout, cohort_dir: pathlib.Path) -> None:
    started = time.perf_counter()
    torch.set_num_threads(2)
    report = manual_segmentations_import(labels_dir=cohort_dir / "labels",
                                         scans=list(qc_passed_scans().select_related("subject")), count=DEMO_MANUAL)
    stdout.write(f"bone marrow: {len(report.imported)} manual segmentations imported "
                 f"({len(report.errors)} rejected); training U-Net and ROI-attention U-Net for 4 regions ...")
    job = marrow_train_start(config=DEMO_CONFIG)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        stdout.write(f"bone marrow: training job {job.pk} queued for the workers; segment with "
                     "`manage.py marrow segment` once it has finished")
        return
    stdout.write("\n".join(dice_lines()))
    marrow_segment_start(scans=processed_scans())
    stdout.write("\n".join(status_lines(current_model_version())))
    stdout.write(f"bone marrow step took {time.perf_counter() - started:.0f} s; see /marrow/ for the review list")
