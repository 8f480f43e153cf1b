"""Writes for measurements: the subject always comes from the scan measured."""

from __future__ import annotations

from ukbstudy.jobs.models import Job
from ukbstudy.subjects.models import Scan

from .models import Measurement, ModelVersion


def measurement_record(*, scan: Scan, quantity: str, method: str, value: float, unit: str = "%",
                       model_version: ModelVersion | None = None, job: Job | None = None,
                       details: dict | None = None) -> Measurement:
    measurement = Measurement(subject_id=scan.subject_id, scan=scan, quantity=quantity, method=method, value=value,
                              unit=unit, model_version=model_version, job=job, details=details or {})
    measurement.full_clean(validate_unique=False, validate_constraints=False)
    measurement.save()
    return measurement
