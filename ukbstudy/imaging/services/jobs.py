"""Starting the archive import and preprocessing as background jobs (for the web app, the API and the
commands), and the job bodies their tasks run (see ``ukbstudy.jobs.services`` for the convention)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import ItemFailed, job_fan_out, job_progress_callback, job_start

from ..models import Scan
from ..selectors import scan_of_item
from .archives import scans_import_archives
from .preprocessing import scan_preprocess

# The tasks' registered names (``tasks.py`` registers them under these).
IMPORT_ARCHIVES_TASK = "imaging.import_archives"
PREPROCESS_TASK = "imaging.preprocess_scan"


def import_archives_start(*, paths: list[str | Path], user=None) -> Job:
    parameters = {"paths": [str(p) for p in paths]}
    return job_start(kind=Job.Kind.IMPORT_ARCHIVES, task=IMPORT_ARCHIVES_TASK, parameters=parameters, user=user)


def import_archives_run(job: Job) -> dict:
    report = scans_import_archives(paths=job.parameters["paths"], user=job.created_by,
                                   progress=job_progress_callback(job))
    return report.as_dict()


def preprocess_start(*, scans: Iterable[Scan], user=None) -> Job:
    """One job, one task per scan: workers share the cohort and the job counts what is done and failed."""
    scan_ids = [scan.pk for scan in scans]  # each scan shows "processing" once its task starts
    return job_fan_out(kind=Job.Kind.PREPROCESS, task=PREPROCESS_TASK, items=scan_ids,
                       parameters={"scans": len(set(scan_ids))}, user=user)


def preprocess_item(job: Job, item: str) -> str:
    outcome = scan_preprocess(scan=scan_of_item(item))
    if not outcome.ok:
        raise ItemFailed(outcome.reason)
    return outcome.reason
