"""Writes for measurements and model versions: the subject always comes from the scan measured, and one
model version per task is current (switched under a row lock)."""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import subprocess
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.models import Job

from .models import Export, Measurement, Method, ModelVersion, Quantity
from .selectors.exports import ExportFilters, export_rows


def measurement_record(*, scan: Scan, quantity: str, method: str, value: float, unit: str = "%",
                       model_version: ModelVersion | None = None, job: Job | None = None,
                       details: dict | None = None) -> Measurement:
    """One value the app measured (its own methods only: imported values go through ``importing``)."""
    if method not in Method.values:
        raise ValidationError({"method": f"{method!r} is not one of the app's methods ({', '.join(Method.values)})"})
    measurement = Measurement(subject_id=scan.subject_id, scan=scan, quantity=quantity, method=method, value=value,
                              unit=unit, model_version=model_version, job=job, details=details or {})
    measurement.full_clean(validate_unique=False, validate_constraints=False)
    measurement.save()
    return measurement


def measurement_revise(*, measurement: Measurement, value: float, details: dict) -> Measurement:
    """Correct a stored value and its details in place (its row, time and job stay: the same run's value,
    recomputed, e.g. an atlas correction applied again)."""
    measurement.value = value
    measurement.details = details
    measurement.full_clean(validate_unique=False, validate_constraints=False)
    measurement.save(update_fields=["value", "details"])
    return measurement


def measurement_replace(*, scan: Scan, quantity: str, method: str, model_version: ModelVersion | None,
                        value: float | None, job: Job | None = None, details: dict | None = None,
                        unit: str = "%") -> Measurement | None:
    """Make ``value`` the scan's one value of this quantity, method and model version (none when ``value``
    is None): the stored one, if any, is removed and the new one written, in one transaction."""
    with transaction.atomic():
        Measurement.all_objects.filter(scan=scan, quantity=quantity, method=method,
                                       model_version=model_version).delete()
        if value is None:
            return None
        return measurement_record(scan=scan, quantity=quantity, method=method, value=value, unit=unit,
                                  model_version=model_version, job=job, details=details)


def measurements_discard_of_job(*, job: Job) -> int:
    """Remove every value a job wrote (a job that does not succeed leaves nothing); returns how many."""
    deleted, _ = Measurement.all_objects.filter(job=job).delete()
    return deleted


def measurements_record_bulk(*, values: Iterable[tuple[Scan, float, dict]], quantity: str, method: str,
                             model_version: ModelVersion | None = None, job: Job | None = None, unit: str = "%",
                             ignore_conflicts: bool = False) -> int:
    """Write many values of one quantity and method (``(scan, value, details)`` each) in one statement.

    The same rules as ``measurement_record``: known quantity and method, a finite value, the subject taken
    from the scan. With ``ignore_conflicts`` a value that is already stored (same scan, quantity, method and
    model version) is left as it is. Returns the number of rows given.
    """
    if quantity not in Quantity.values or method not in Method.values:
        raise ValueError(f"unknown quantity {quantity!r} or method {method!r}")
    rows = []
    for scan, value, details in values:
        if not math.isfinite(value):
            raise ValueError(f"{quantity} of scan {scan} is not a finite number: {value!r}")
        rows.append(Measurement(subject_id=scan.subject_id, scan=scan, quantity=quantity, method=method,
                                value=float(value), unit=unit, model_version=model_version, job=job,
                                details=details))
    Measurement.objects.bulk_create(rows, ignore_conflicts=ignore_conflicts)
    return len(rows)


def code_revision() -> str:
    """The code revision a model is trained with: $GIT_REVISION, else the checkout's HEAD, else ''."""
    if os.environ.get("GIT_REVISION"):
        return os.environ["GIT_REVISION"][:40]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=settings.BASE_DIR, capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()[:40] if out.returncode == 0 else ""


def model_version_make_current(*, model_version: ModelVersion) -> ModelVersion:
    """Make ``model_version`` the current one of its task (the one used by default); exactly one is current.

    Every version of the task is locked first, so two switches at once serialise instead of meeting the
    one-current constraint (also when none is current yet).
    """
    task = model_version.task
    with transaction.atomic():
        list(ModelVersion.objects.select_for_update().filter(task=task).values_list("pk", flat=True))
        ModelVersion.objects.filter(task=task, is_current=True).exclude(pk=model_version.pk).update(is_current=False)
        ModelVersion.objects.filter(pk=model_version.pk).update(is_current=True)
    model_version.is_current = True
    return model_version


def model_version_record(*, task: str, name: str, version: str, make_current: bool = False,
                         **fields) -> ModelVersion:
    """Store a new model version (with the code revision, unless given) and make it current if asked."""
    fields.setdefault("git_revision", code_revision())
    with transaction.atomic():
        model_version = ModelVersion.objects.create(task=task, name=name, version=version, **fields)
        if make_current:
            model_version_make_current(model_version=model_version)
    return model_version


# Measurement exports --------------------------------------------------------------------------------------

EXPORT_CHUNK = 2000  # CSV lines per streamed piece


def export_start(*, format: str, filters: ExportFilters, user=None, channel: str) -> Export:
    """The audit row of an export as it starts: who (none from the command line), format, filters, channel."""
    return Export.objects.create(exported_by=user if user and user.is_authenticated else None, format=format,
                                 filters=filters.as_dict(), channel=channel)


def export_finish(*, export: Export, rows: int) -> None:
    """Record how many data rows the export wrote (empty until it finished)."""
    Export.objects.filter(pk=export.pk).update(rows=rows)


def export_csv(*, format: str, filters: ExportFilters, user=None, channel: str) -> Iterator[str]:
    """CSV text in pieces of up to EXPORT_CHUNK lines, for streaming; the export is recorded when it starts
    and its row count when it ends. The row generators escape their text cells (numbers, also the tidy
    layout's numbers written with fixed decimals, cannot start a formula), so the writer here only formats:
    one ``writerows`` per piece keeps the per-row cost low and memory constant."""
    export = export_start(format=format, filters=filters, user=user, channel=channel)
    rows = export_rows(format=format, filters=filters)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    count = -1  # the header is not a data row
    for piece in iter(lambda: list(itertools.islice(rows, EXPORT_CHUNK)), []):
        count += len(piece)
        writer.writerows(piece)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    export_finish(export=export, rows=max(count, 0))
