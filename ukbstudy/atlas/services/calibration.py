"""The atlas correction: raw readouts fitted to the reference on dataset A, applied everywhere.

Design (how raw and corrected values are told apart): each (template set, correction) pair is one
``ModelVersion`` of task ``liver_ff_atlas`` (name ``multi-atlas``, version ``<set>-<correction>``, config holding
the templates, the registration settings, slope, intercept, n and reference field). Its measurements
(method ``atlas``, quantity ``liver_ff``) hold the *corrected* value, with the raw readout in
``details["raw"]``; the newest version is current, so ``subject_frame(columns=["atlas"])`` yields
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
from ukbstudy.measurements.services import measurement_replace, model_version_make_current, model_version_record
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
    version = ModelVersion.objects.filter(task=ModelVersion.Task.LIVER_FF_ATLAS, name=MODEL_NAME,
                                          version=f"{template_set[:8]}-{digest[:8]}").first()
    if version is None:
        version = model_version_record(
            task=ModelVersion.Task.LIVER_FF_ATLAS, name=MODEL_NAME, version=f"{template_set[:8]}-{digest[:8]}",
            config={"template_set": template_set, "templates": templates or [], "registration": config or {},
                    "correction": correction},
            metrics={"correction_r2_on_A": correction["r2"], "n_A": correction["n"]},
            data_fingerprint=digest, trained_by=job)
    return model_version_make_current(model_version=version)


def _write_measurements(version: ModelVersion, readouts: list[AtlasReadout], fit, job: Job | None) -> None:
    """A corrected value per readout; values already stored unchanged under this version stay as they are."""
    stored = {m.scan_id: (m.value, m.details) for m in Measurement.all_objects.filter(model_version=version)}
    for readout in readouts:
        value = float(fit.intercept + fit.slope * readout.raw)
        details = {"raw": readout.raw, "template_set": readout.template_set, "slope": fit.slope,
                   "intercept": fit.intercept, "voxels": readout.details.get("voxels")}
        if stored.get(readout.scan_id) != (value, details):
            measurement_replace(scan=readout.scan, quantity=Quantity.LIVER_FF, method=Method.ATLAS,
                                model_version=version, value=value, job=job or readout.job, details=details)


def atlas_run_finish(job: Job) -> dict:
    """After an atlas job's last item: fit the correction and write the measurements (the job's
    ``after_last`` step, run once); a correction that cannot be fitted fails the job with the reason."""
    params = job.parameters
    try:
        version = atlas_calibrate(template_set=params["template_set"], field=params["field"], job=job,
                                  templates=params.get("template_details"), config=params.get("config"))
    except CalibrationError as exc:
        raise JobStepFailed(f"atlas correction failed: {exc}") from None
    correction = version.config["correction"]
    return {"model_version": str(version), "slope": correction["slope"], "intercept": correction["intercept"],
            "n": correction["n"]}
