"""Atlas runs: one job over any set of scans, one task per scan; raw readouts stored per scan.

The job freezes the template set (ids, fingerprint) and the registration settings in its parameters, so
every task measures with the same set even if templates change meanwhile. A scan that cannot be measured
(not preprocessed, a missing station, a failed registration, masks that do not overlap) fails that item
with the reason; the job goes on. When the last item is counted, the correction is fitted on dataset A and
all corrected values are written in one transaction (``calibration.atlas_calibrate``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ml.atlas import DEFAULT_CONFIG, AtlasError, AtlasImage, RegistrationConfig, Template, atlas_measure
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.selectors import (
    ScanVolumeMissing,
    scan_fused_header,
    scan_has_volume,
    scan_of_item,
    scan_volume,
)
from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import ItemFailed, job_fan_out
from ukbstudy.measurements.selectors import DEFAULT_REFERENCE_FIELD

from ..models import AtlasReadout
from .templates import TemplateError, TemplateSet, template_liver, template_set_current, template_set_of

VOLUMES = ("water", "ff", "body_mask")
ATLAS_SCAN_TASK = "atlas.measure_scan"  # (job_id, scan_id); "atlas.atlas_scan" took (scan_id, job_id)


def scan_atlas_image(scan: Scan) -> AtlasImage:
    """The scan's fused water, fat fraction and body mask; AtlasError when it has none. The fraction is the
    stored file of older runs or computed from fat and water (``scan_volume``)."""
    missing = [name for name in VOLUMES if not scan_has_volume(scan, name)]
    if scan.processing_state != Scan.State.PROCESSED or missing:
        raise AtlasError(f"{scan} is not preprocessed (no {', '.join(missing) or 'current results'})")
    try:
        zooms = scan_fused_header(scan=scan).header.get_zooms()[:3]  # (dx, dy, dz) of the stored (x, y, z) array
        water, ff, body = (scan_volume(scan=scan, name=name) for name in VOLUMES)
    except ScanVolumeMissing as exc:
        raise AtlasError(str(exc)) from None
    return AtlasImage(water=water, ff=ff, body=body > 0.5, spacing=(float(zooms[2]), float(zooms[1]),
                                                                     float(zooms[0])), name=f"scan-{scan.pk}")


def atlas_templates_load(template_set: TemplateSet) -> list[Template]:
    return [Template(scan_atlas_image(t.scan), template_liver(t)) for t in template_set.templates]


def scan_atlas_readout(*, scan: Scan, template_set: TemplateSet, templates: list[Template],
                       config: RegistrationConfig = DEFAULT_CONFIG, job: Job | None = None) -> AtlasReadout:
    """Measure ``scan`` with the loaded templates and store (or replace) its raw readout for this set."""
    result = atlas_measure(scan_atlas_image(scan), templates, config)
    readout, _ = AtlasReadout.all_objects.update_or_create(
        scan=scan, template_set=template_set.fingerprint,
        defaults={"raw": result.readout.value, "details": result.as_dict(), "job": job})
    return readout


def atlas_run_start(*, scans: Iterable[Scan], user=None, field: str = DEFAULT_REFERENCE_FIELD,
                    template_set: TemplateSet | None = None, config: RegistrationConfig = DEFAULT_CONFIG
                    ) -> Job:
    """One ATLAS job, one task per scan; the correction and the measurements follow the last item."""
    template_set = template_set or template_set_current()
    if not template_set.templates:
        raise TemplateError("no active atlas templates: add some with `manage.py atlas templates add`")
    scan_ids = [scan.pk for scan in scans]
    parameters = {"scans": len(set(scan_ids)), "templates": [t.pk for t in template_set.templates],
                  "template_set": template_set.fingerprint,
                  "template_details": template_set.describe(), "field": field, "config": config.as_dict()}
    return job_fan_out(kind=Job.Kind.ATLAS, task=ATLAS_SCAN_TASK, items=scan_ids, parameters=parameters, user=user)


def job_template_set(job: Job) -> tuple[TemplateSet, RegistrationConfig]:
    config = job.parameters.get("config") or {}
    tupled = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
    return template_set_of(job.parameters["templates"]), RegistrationConfig(**tupled)


def atlas_item(job: Job, item: str) -> str:
    """One scan of an atlas job: its raw readout stored; the summary for the job's item list."""
    scan = scan_of_item(item)
    try:
        template_set, config = job_template_set(job)
        readout = scan_atlas_readout(scan=scan, template_set=template_set,
                                     templates=atlas_templates_load(template_set), config=config, job=job)
    except (AtlasError, TemplateError) as exc:
        raise ItemFailed(str(exc)) from None
    return f"raw {readout.raw:.2f} %"
