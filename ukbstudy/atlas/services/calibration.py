"""The atlas correction: raw readouts fitted to the reference on dataset A, applied everywhere.

Design (how raw and corrected values are told apart): each (template set, correction) pair is one
``ModelVersion`` of task ``liver_ff_atlas`` (name ``multi-atlas``, version ``<set>-<correction>``, config holding
the templates, the registration settings, slope, intercept, n and reference field). Its measurements
(method ``atlas``, quantity ``liver_ff``) hold the *corrected* value, with the raw readout in
``details["raw"]``; the newest version is current, so ``scan_frame(columns=["atlas"])`` yields
corrected values. Raw readouts also stay in ``AtlasReadout`` per scan and template set.
"""

from __future__ import annotations

import hashlib

from django.db import transaction

from analysis import AnalysisError
from analysis.comparison import linear_recalibration
from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import JobStepFailed
from ukbstudy.measurements.models import Measurement, Method, ModelVersion, Quantity
from ukbstudy.measurements.selectors import DEFAULT_REFERENCE_FIELD
from ukbstudy.measurements.selectors.datasets import dataset_scans
from ukbstudy.measurements.services import (
    code_revision,
    measurement_record,
    measurement_revise,
    model_version_make_current,
)
from ukbstudy.showcase.models import ReferenceValue

from ..models import AtlasReadout

MODEL_NAME = "multi-atlas"


class CalibrationError(ValueError):
    pass


def atlas_calibrate(*, template_set: str, field: str = DEFAULT_REFERENCE_FIELD, job: Job | None = None,
                    templates: list | None = None, config: dict | None = None) -> ModelVersion:
    """Fit ``reference ~ raw`` on dataset A's readouts of ``template_set`` and write every readout of the set
    as a corrected ``atlas`` measurement under the (new current) model version, in one transaction."""
    readouts = AtlasReadout.objects.filter(template_set=template_set).select_related("scan")
    a_scans = set(dataset_scans("A", field=field).values_list("pk", flat=True))
    references = dict(ReferenceValue.objects.filter(field=field).values_list("subject_id", "value"))
    pairs = [(references[r.scan.subject_id], r.raw) for r in readouts if r.scan_id in a_scans]
    if len(pairs) < 3:
        raise CalibrationError(f"the correction needs raw atlas values on at least 3 subjects of dataset A "
                               f"(reference {field}); template set {template_set[:8]} has {len(pairs)}: "
                               "run the atlas on dataset A")
    try:
        fit = linear_recalibration([p[0] for p in pairs], [p[1] for p in pairs])
    except AnalysisError as exc:
        raise CalibrationError(f"the correction cannot be fitted on dataset A: {exc}") from None
    correction = {"slope": fit.slope, "intercept": fit.intercept, "n": fit.n, "r2": fit.r2, "reference_field": field}
    with transaction.atomic():
        version = _model_version(template_set, correction, templates, config, job)
        _write_measurements(version, list(readouts), fit, job)
    return version


def _model_version(template_set: str, correction: dict, templates: list | None, config: dict | None,
                   job: Job | None) -> ModelVersion:
    digest = hashlib.sha256(repr(sorted(correction.items())).encode()).hexdigest()
    version, _ = ModelVersion.objects.get_or_create(
        task=ModelVersion.Task.LIVER_FF_ATLAS, name=MODEL_NAME, version=f"{template_set[:8]}-{digest[:8]}",
        defaults={"config": {"template_set": template_set, "templates": templates or [], "registration": config or {},
                             "correction": correction},
                  "metrics": {"correction_r2_on_A": correction["r2"], "n_A": correction["n"]},
                  "data_fingerprint": digest, "git_revision": code_revision(), "trained_by": job})
    return model_version_make_current(model_version=version)


def _write_measurements(version: ModelVersion, readouts: list[AtlasReadout], fit, job: Job | None) -> None:
    """A corrected value per readout; a value already stored under this version is corrected in place."""
    existing = {m.scan_id: m for m in Measurement.all_objects.filter(model_version=version)}
    for readout in readouts:
        value = float(fit.intercept + fit.slope * readout.raw)
        details = {"raw": readout.raw, "template_set": readout.template_set, "slope": fit.slope,
                   "intercept": fit.intercept, "voxels": readout.details.get("voxels")}
        measurement = existing.get(readout.scan_id)
        if measurement is None:
            measurement_record(scan=readout.scan, quantity=Quantity.LIVER_FF, method=Method.ATLAS, value=value,
                               model_version=version, job=job or readout.job, details=details)
        elif measurement.value != value or measurement.details != details:
            measurement_revise(measurement=measurement, value=value, details=details)


def atlas_run_finish(job: Job) -> dict:
    """After an atlas job's last item: fit the correction and write the measurements (the job's
    ``after_last`` step, run once); a correction that cannot be fitted fails the job with the reason."""
    params = job.parameters
    try:
        version = atlas_calibrate(template_set=params["template_set"], field=params["field"], job=job,
                                  templates=params.get("template_details"), config=params.get("config"))
    except CalibrationError as exc:
        raise JobStepFailed(str(exc), context="atlas correction failed") from None
    correction = version.config["correction"]
    return {"model_version": str(version), "slope": correction["slope"], "intercept": correction["intercept"],
            "n": correction["n"]}
