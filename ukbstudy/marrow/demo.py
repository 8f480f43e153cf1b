"""The demo's bone marrow step: manual labels for a subset, both networks trained for the four regions, every
scan segmented, checked and measured; prints the Dice report and what the error checks found.

To stay within a few minutes on a laptop CPU the networks train for ``DEMO_CONFIG`` (100 iterations of two
boxes each, a third of the benchmark's); the output says so, and the Dice it prints is what that short
training reaches (``bench/bench_segmentation.py`` trains longer and reports the figures to judge by).
"""

from __future__ import annotations

import pathlib
import time

import torch
from django.conf import settings

from ml.ukb import protocol
from ukbstudy.jobs.models import Job
from ukbstudy.measurements.selectors.datasets import processed_scans, qc_passed_scans

from .report import dice_lines, status_lines
from .selectors import current_model_version
from .services.jobs import marrow_segment_start, marrow_train_start
from .services.manual import manual_segmentations_import

DEMO_MANUAL = 30  # of the demo's 40 subjects (the paper: 61-75 of 729)
DEMO_CONFIG = {"iterations": 100, "batch_size": 2, "base_channels": 8}


def demo_step(*, stdout, cohort_dir: pathlib.Path, manual: int = DEMO_MANUAL, config: dict | None = None) -> None:
    """Import ``manual`` segmentations, train both networks with ``config`` (default the demo's short run),
    segment every processed scan."""
    config = DEMO_CONFIG if config is None else config
    started = time.perf_counter()
    if settings.TORCH_NUM_THREADS:
        torch.set_num_threads(settings.TORCH_NUM_THREADS)
    report = manual_segmentations_import(labels_dir=cohort_dir / "labels",
                                         scans=list(qc_passed_scans().select_related("subject")), count=manual)
    stdout.write(f"bone marrow: {len(report.imported)} manual segmentations imported ({len(report.errors)} "
                 f"rejected); training the 3D U-Net and the ROI-attention U-Net for 4 regions, a short demo run of "
                 f"{config['iterations']} iterations x {config['batch_size']} boxes each (the segmentation benchmark: "
                 "300 x 4) ...")
    job = marrow_train_start(config=config)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        stdout.write(f"bone marrow: training job {job.pk} queued for the workers; segment with "
                     "`manage.py marrow segment` once it has finished")
        return
    job.refresh_from_db()
    if job.status != Job.Status.SUCCEEDED:
        stdout.write(f"bone marrow: training failed: {job.error}")
        return
    trained = time.perf_counter() - started
    stdout.write("\n".join(dice_lines()))
    segment = marrow_segment_start(scans=list(processed_scans()) + list(processed_scans(
        instance=protocol.REPEAT_IMAGING_INSTANCE)))  # both imaging visits
    segment.refresh_from_db()
    stdout.write(f"segmented {segment.progress_done} scans x 4 regions (error checks; BMFF stored only for OK "
                 "unflagged regions):")
    stdout.write("\n".join(status_lines(current_model_version())))
    stdout.write(f"bone marrow step took {time.perf_counter() - started:.0f} s ({trained:.0f} s training); "
                 "see /marrow/ for the Dice report and the review list")
