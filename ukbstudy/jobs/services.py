"""Writes for job records. Tasks call these to report progress and outcome; nothing else edits jobs."""

from __future__ import annotations

import traceback
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from .models import Job, JobItem


class JobCancelled(Exception):
    """Raised inside a running job when a user asked to cancel it."""


def job_create(*, kind: str, parameters: dict | None = None, user=None) -> Job:
    return Job.objects.create(kind=kind, parameters=parameters or {}, created_by=user)


def job_enqueue(*, job: Job, task) -> None:
    """Queue ``task(job.pk)`` once the surrounding transaction has committed (so the worker sees the job)."""
    def send() -> None:
        result = task.apply_async(args=(job.pk,), queue=settings.CELERY_TASK_DEFAULT_QUEUE)
        Job.objects.filter(pk=job.pk, celery_task_id="").update(celery_task_id=result.id or "")

    transaction.on_commit(send)


def job_progress(*, job: Job, done: int, total: int, message: str = "") -> None:
    """Store progress; raises JobCancelled when cancellation was requested meanwhile."""
    Job.objects.filter(pk=job.pk).update(progress_done=done, progress_total=total, progress_message=message[:500])
    job.progress_done, job.progress_total, job.progress_message = done, total, message[:500]
    if Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
        raise JobCancelled(f"job {job.pk} was cancelled")


def job_request_cancel(*, job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(status=Job.Status.CANCELLED,
                                                                   finished_at=timezone.now())


def run_job(*, job_id: int, body: Callable[[Job], None], device: str = "") -> Job | None:
    """Run ``body(job)`` as the job: running, then succeeded, cancelled or failed (with the error).

    The job is claimed with a conditional update, so a task delivered twice (Celery redelivers a task
    whose worker died) never reruns a finished or cancelled job, and a cancel that arrives before the
    start wins. A job left running by a dead worker is started again; the body's writes must therefore be
    atomic and idempotent, as every service's are. Returns the job, or None when it was not run.
    """
    claimed = Job.objects.filter(pk=job_id, status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), device=device)
    if not claimed:
        return None
    job = Job.objects.get(pk=job_id)
    try:
        body(job)
    except JobCancelled:
        _finish(job, Job.Status.CANCELLED, error="Cancelled by user.")
        return job
    except BaseException as exc:
        _finish(job, Job.Status.FAILED, error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
        raise
    _finish(job, Job.Status.SUCCEEDED)
    return job


def _finish(job: Job, status: str, error: str = "") -> None:
    job.status, job.error, job.finished_at = status, error, timezone.now()
    job.save(update_fields=["status", "error", "finished_at", "result", "progress_done", "progress_total",
                            "progress_message"])


def job_progress_callback(job: Job) -> Callable[[int, int, str], None]:
    return lambda done, total, message="": job_progress(job=job, done=done, total=total, message=message)



def job_item_run(*, job_id: int, item: str, body: Callable[[], tuple[bool, str]]) -> None:
    """One item of a job fanned out over many tasks (e.g. one scan of a cohort run).

    ``body`` returns (ok, reason). The job is running while items are; each item is counted once (a
    redelivered task finds its item done and does nothing), a failed one is listed with its reason in
    ``result["failed"]``, and the last distinct item finishes the job (cancelled if a cancel was asked
    for, in which case the remaining items are skipped).
    """
    if JobItem.objects.filter(job_id=job_id, item=item).exists():
        return
    claimed = Job.objects.filter(pk=job_id, status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).update(
        status=Job.Status.RUNNING, started_at=Coalesce("started_at", Now()))
    if not claimed:
        return
    if Job.objects.filter(pk=job_id, cancel_requested=True).exists():
        ok, reason, skipped = False, "", True
    else:
        skipped = False
        try:
            ok, reason = body()
        except Exception as exc:  # the item fails, the job goes on
            ok, reason = False, f"{type(exc).__name__}: {exc}"
    _count_item(job_id, item, ok, reason, skipped)


def _count_item(job_id: int, item: str, ok: bool, reason: str, skipped: bool) -> None:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        _, created = JobItem.objects.get_or_create(job=job, item=item,
                                                   defaults={"ok": ok, "reason": reason, "skipped": skipped})
        if not created:
            return  # another delivery of this task counted it first
        job.progress_done = job.items.count()
        if skipped:
            job.result["skipped"] = job.result.get("skipped", 0) + 1
        elif not ok:
            job.result.setdefault("failed", []).append({"item": item, "reason": reason})
        failed = len(job.result.get("failed", []))
        job.progress_message = f"{job.progress_done} of {job.progress_total} done, {failed} failed"
        if job.progress_done >= job.progress_total:
            job.status = Job.Status.CANCELLED if job.cancel_requested else Job.Status.SUCCEEDED
            job.finished_at = timezone.now()
        job.save(update_fields=["progress_done", "progress_message", "result", "status", "finished_at"])
