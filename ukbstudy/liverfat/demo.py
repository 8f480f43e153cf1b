"""The liver fat network on the demo cohort: cross-validation on dataset A, training on all of A, inference
for dataset B, and, where participants came back, for A and the repeat visits' scans (so that the trained
model measures both visits), and the agreement of the network's values with the synthetic ground truth."""

from __future__ import annotations

import csv
import pathlib

import numpy as np

from ukbstudy.jobs.models import Job
from ukbstudy.measurements.models import Measurement
from ukbstudy.measurements.selectors.datasets import dataset_scans

from .services.runs import cross_validation_start, inference_start, training_start

# The demo cohort is small (dataset A holds a handful of subjects), so the quick configuration runs shorter;
# bench/ and the README give the figures on a 600-subject cohort.
DEMO_OVERRIDES = {"iterations": 300}


def demo_step(*, stdout, cohort_dir: pathlib.Path, folds: int = 5, overrides: dict | None = None) -> None:
    """Cross-validation (``folds``, fewer when A is smaller), training on A and inference for B, all with the
    quick configuration and ``overrides`` (default: the demo's short run)."""
    overrides = DEMO_OVERRIDES if overrides is None else overrides
    n_a, n_b = dataset_scans("A").count(), dataset_scans("B").count()
    stdout.write(f"\n== Liver fat network: dataset A (QC-passed with 22402-2.0) {n_a} scans, B {n_b} scans")
    if n_a < 4:
        stdout.write("liver fat network: dataset A is too small to train on (at least 4 scans); skipped")
        return
    folds = min(folds, n_a)
    cv = _run(stdout, f"{folds}-fold cross-validation (quick configuration)",
              cross_validation_start(config="quick", overrides=overrides, folds=folds))
    if cv is not None:
        metrics = cv.result["metrics"]
        stdout.write(f"  out-of-fold against the reference: n {metrics.get('n')}, MAE {metrics.get('mae', 0):.2f}, "
                     f"R2 {metrics.get('r2') or float('nan'):.3f}, LoA {metrics.get('loa_lower', 0):.2f} to "
                     f"{metrics.get('loa_upper', 0):.2f}")
    if _run(stdout, "training on all of A", training_start(config="quick", overrides=overrides)) is None:
        return
    infer = _run(stdout, "inference for dataset B", inference_start(dataset="B"))
    if infer is not None:
        _against_truth(stdout, cohort_dir, infer)
    if dataset_scans("repeat").exists():  # the trained model's values at both visits, dataset A's included
        _run(stdout, "inference for dataset A (the trained model's values beside the out-of-fold ones)",
             inference_start(dataset="A"))  # the repeat imaging visit: its change is shown on /results/longitudinal/
        repeat = _run(stdout, "inference for the repeat visits (dataset repeat)", inference_start(dataset="repeat"))
        if repeat is not None:
            _against_truth(stdout, cohort_dir, repeat)


def _run(stdout, what: str, job: Job) -> Job | None:
    job.refresh_from_db()
    if job.status != Job.Status.SUCCEEDED:
        stdout.write(f"liver fat network: {what}: job {job.pk} {job.status}: "
                     f"{job.error.splitlines()[0] if job.error else ''}")
        return None
    stdout.write(f"liver fat network: {what}: job {job.pk} in {job.duration_seconds:.0f} s on {job.device}")
    return job


def _against_truth(stdout, cohort_dir: pathlib.Path, job: Job) -> None:
    # the true PDFF: what the reference fields measure (with noise), so what the network learns to predict
    truth = {(int(r["eid"]), int(r["instance"])): float(r["liver_ff_true"])
             for r in csv.DictReader((cohort_dir / "ground_truth.csv").open())}
    pairs = [(truth[(m.subject.eid, m.scan.instance)], m.value)
             for m in Measurement.objects.filter(job=job).select_related("subject", "scan")
             if (m.subject.eid, m.scan.instance) in truth]
    if pairs:
        true, inferred = np.array(pairs).T
        stdout.write(f"  {len(pairs)} inferred values; against the true PDFF: MAE "
                     f"{np.abs(true - inferred).mean():.2f} percentage points, R2 "
                     f"{1 - ((true - inferred) ** 2).sum() / ((true - true.mean()) ** 2).sum():.3f} (trained on the "
                     "demo's few reference values; the README gives figures for a 600-subject cohort)")
