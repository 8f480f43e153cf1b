"""A small cohort written straight to the database: subjects, processed QC-passed scans, reference values,
network (out-of-fold on the subjects with a reference, as cross-validation writes them), atlas and
segmentation measurements and DXA covariates (no images)."""

from __future__ import annotations

import json
import re

import numpy as np

from tests.factories import make_scan, make_subject
from ukbstudy.measurements.services import measurement_record
from ukbstudy.qc.models import QCDecision
from ukbstudy.showcase.models import CovariateValue, ReferenceValue

CENTRES = (11025, 11026, 11027)


def build_cohort(rater, n: int = 40, seed: int = 5, with_reference: int = 30) -> list:
    """``n`` subjects; the first ``with_reference`` have field 22402-2.0; the last fails QC. Returns the scans."""
    rng = np.random.default_rng(seed)
    scans = []
    for i in range(n):
        age = float(rng.integers(45, 80))
        subject = make_subject(sex="FM"[i % 2], age=age, bmi=float(rng.normal(27, 4)),
                               centre=CENTRES[i % 3], height_cm=float(rng.normal(170, 9)))
        scan = make_scan(subject, processing_state="processed")
        QCDecision.objects.create(scan=scan, rater=rater, verdict="pass")
        if i == n - 1 and i >= with_reference:  # the last subject without a reference fails QC on review
            QCDecision.objects.create(scan=scan, rater=rater, verdict="fail", reason="noise", previous_verdict="pass")
        truth = float(rng.gamma(1.5, 3.0))
        if i < with_reference:
            ReferenceValue.objects.create(subject=subject, field="22402-2.0", value=truth,
                                          import_batch=scan.import_batch)
        # As the pipeline writes them: cross-validation's out-of-fold values on dataset A, inference on B.
        network = {"details": {"out_of_fold": True, "fold": i % 5}} if i < with_reference else {}
        measurement_record(scan=scan, quantity="liver_ff", method="network", value=truth + float(rng.normal(0, 0.7)),
                           **network)
        measurement_record(scan=scan, quantity="liver_ff", method="atlas", value=truth + float(rng.normal(0.3, 1.2)))
        bmff = 45 + 0.4 * age + float(rng.normal(0, 4))
        measurement_record(scan=scan, quantity="bmff_spine", method="segmentation", value=bmff)
        CovariateValue.objects.create(subject=subject, field="23204-2.0", import_batch=scan.import_batch,
                                      value=1.6 - 0.008 * bmff + float(rng.normal(0, 0.05)))
        scans.append(scan)
    return scans


def figures(page: str) -> dict[str, dict]:
    """The Plotly figures a page embeds, by name (their JSON script elements)."""
    found = re.findall(r'<script type="application/json" id="figure-([\w-]+)">(.*?)</script>', page, re.S)
    return {key: json.loads(text) for key, text in found}
