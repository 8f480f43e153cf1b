"""The atlas on the demo cohort: three templates from the synthetic labels, a run over dataset A and part of
C, the correction, agreement with the synthetic ground truth and the three-way report."""

from __future__ import annotations

import csv
import pathlib
import time

from ukbstudy.jobs.models import Job
from ukbstudy.measurements.selectors.datasets import dataset_scans, qc_passed_scans

from .models import AtlasReadout
from .services.runs import atlas_run_start
from .services.templates import atlas_template_add, template_set_current

N_TEMPLATES = 3
C_SUBJECTS = 8  # of dataset C: enough for the C row of the three-way table, few enough for minutes on a laptop
WITHIN_PP = 1.5


def demo_step(*, stdout, cohort_dir: pathlib.Path, c_subjects: int = C_SUBJECTS) -> None:
    truth = {(int(r["eid"]), int(r["instance"])): r for r in csv.DictReader((cohort_dir / "ground_truth.csv").open())}
    _add_templates(stdout, cohort_dir, truth)
    scans = list(dataset_scans("A")) + list(dataset_scans("C", c_size=c_subjects))
    stdout.write(f"atlas: measuring {len(scans)} scans (dataset A and {c_subjects} of C) with "
                 f"{len(template_set_current().templates)} templates ...")
    started = time.perf_counter()
    job = atlas_run_start(scans=scans)
    job.refresh_from_db()
    seconds = time.perf_counter() - started
    failed = job.result.get("failed", [])
    stdout.write(f"atlas: job {job.pk} {job.status} in {seconds:.0f} s ({seconds / max(len(scans), 1):.1f} s per "
                 f"scan), {len(failed)} failed" + "".join(f"\n  scan {f['item']}: {f['reason']}" for f in failed))
    calibration = job.result.get("calibration", {})
    if job.status != Job.Status.SUCCEEDED:
        stdout.write(f"atlas: {job.error.splitlines()[0] if job.error else 'no correction'}")
    elif "slope" in calibration:
        stdout.write(f"atlas: correction fitted on A (n = {calibration['n']}): corrected = "
                     f"{calibration['slope']:.3f} x raw {calibration['intercept']:+.3f} (paper: 0.9x - 0.8)")
    _ground_truth(stdout, truth, job)
    _three_way(stdout)


def _add_templates(stdout, cohort_dir: pathlib.Path, truth: dict) -> None:
    if template_set_current().templates:
        return
    clean = [s for s in qc_passed_scans().select_related("subject").order_by("subject__eid")
             if not truth.get((s.subject.eid, s.instance), {}).get("faults")]
    for scan in clean[:N_TEMPLATES]:
        mask = cohort_dir / "labels" / f"{scan.subject.eid}_20201_{scan.instance}_0" / "liver.nii.gz"
        template = atlas_template_add(scan=scan, mask_file=mask, note="synthetic ground-truth liver label")
        stdout.write(f"atlas: template {template.pk} = eid {scan.subject.eid} ({template.voxels} liver voxels)")


def _ground_truth(stdout, truth: dict, job: Job) -> None:
    readouts = AtlasReadout.objects.filter(job=job).select_related("scan__subject")
    errors = [abs(r.raw - float(truth[(r.scan.subject.eid, r.scan.instance)]["liver_ff_image"])) for r in readouts
              if (r.scan.subject.eid, r.scan.instance) in truth]
    if errors:
        within = sum(e <= WITHIN_PP for e in errors)
        stdout.write(f"atlas: raw values within {WITHIN_PP} pp of the synthetic ground truth for {within} of "
                     f"{len(errors)} QC-passed subjects ({within / len(errors):.0%}); mean |error| "
                     f"{sum(errors) / len(errors):.2f} pp")


def _three_way(stdout) -> None:
    from analysis import AnalysisError
    from analysis.threeway import render_three_way

    from .selectors import three_way_tables_from_db

    try:
        stdout.write(render_three_way(three_way_tables_from_db()))
    except AnalysisError as exc:
        stdout.write(f"atlas: three-way report not available yet ({exc}); it needs network values "
                     "(method network) on datasets A and C: python manage.py report three-way")
