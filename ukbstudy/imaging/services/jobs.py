"""Starting the archive import and preprocessing as background jobs (for the web app, the API and the
commands), and the job bodies their tasks run (see ``ukbstudy.jobs.services`` for the convention)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import ItemFailed, job_fan_out, job_parameter_once
from ukbstudy.subjects.models import ImportBatch

from ..models import Scan
from ..selectors import scan_of_item
from .archives import archive_paths_expand, scan_import_archive
from .preprocessing import scan_preprocess

# The tasks' registered names (``tasks.py`` registers them under these). "imaging.import_archives" (one task
# for the whole import) was replaced by one task per archive; a message queued under the old name before
# an upgrade is refused by the new workers and its job stays queued: start the import again.
IMPORT_ARCHIVE_TASK = "imaging.import_archive"
COUNTS = ("imported", "duplicate", "rejected")
PREPROCESS_TASK = "imaging.preprocess_scan"


def import_archives_start(*, paths: list[str | Path], in_place: bool | None = None, user=None) -> Job:
    """One job, one task per archive: workers share a bulk delivery as they share its preprocessing (an
    import is mostly decompressing and checking every DICOM file, one core per archive). The folders go in
    the job's parameters, absolute, and each item names its archive by folder number and file name, so an
    item stays short however deep the bulk folder. Copy or register in place is decided here, once for the
    job (None: ``IMAGING_ARCHIVES_IN_PLACE``); the archives share one ImportBatch, made by the first archive
    the job imports (none when it imports nothing)."""
    files = [path.absolute() for path in archive_paths_expand(paths)]
    folders = sorted({str(path.parent) for path in files})
    number = {folder: i for i, folder in enumerate(folders)}
    items = [f"{number[str(path.parent)]}/{path.name}" for path in files]
    in_place = settings.IMAGING_ARCHIVES_IN_PLACE if in_place is None else in_place
    return job_fan_out(kind=Job.Kind.IMPORT_ARCHIVES, task=IMPORT_ARCHIVE_TASK, items=items, user=user,
                       parameters={"paths": [str(p) for p in paths], "folders": folders, "archives": len(items),
                                   "in_place": in_place},
                       empty_result={"counts": dict.fromkeys(COUNTS, 0)})


def import_archive_item(job: Job, item: str) -> str:
    """Import one archive of the job; a rejected archive fails its item with the reason."""
    folder, name = item.split("/", 1)
    path = Path(job.parameters["folders"][int(folder)]) / name
    result = scan_import_archive(path=path, batch=_JobBatch(job), in_place=job.parameters["in_place"])
    if result.status == "rejected":
        raise ItemFailed(result.reason)
    return result.status


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


def import_archives_counts(job: Job) -> dict[str, int]:
    """After the last archive: imported / duplicate / rejected, as ``scans_import_archives`` reports them,
    also kept on the job's batch."""
    counts = dict.fromkeys(COUNTS, 0)
    for ok, reason in job.items.values_list("ok", "reason"):
        counts[reason if ok and reason in counts else "rejected"] += 1
    if job.parameters.get("batch"):
        ImportBatch.objects.filter(pk=job.parameters["batch"]).update(summary={"counts": counts})
    return counts


class _JobBatch:
    """The job's ImportBatch in the shape ``scan_import_archive`` takes a batch: made by the first archive
    that writes a scan, in that scan's transaction, under a lock on the job row so two workers make one
    (and, rolled back with a failed scan, it is gone from the job's parameters too)."""

    def __init__(self, job: Job):
        self.job_id = job.pk
        self.batch = ImportBatch.objects.filter(pk=job.parameters.get("batch") or 0).first()

    def get(self) -> ImportBatch:
        if self.batch is None:
            pk = job_parameter_once(job_id=self.job_id, key="batch", make=_new_batch)
            self.batch = ImportBatch.objects.get(pk=pk)
        return self.batch


def _new_batch(job: Job) -> int:
    return ImportBatch.objects.create(kind=ImportBatch.Kind.ARCHIVES, created_by=job.created_by,
                                      source="\n".join(job.parameters["paths"])).pk
