"""Writes for job records: the only module that creates or edits a Job row.

Every long computation is started and run the same way:

- ``job_start`` records a job and queues its task (one task runs the whole job), or ``job_fan_out``
  records a job and queues one task per item (a scan of a cohort run), so that workers share the items;
  both name the task by its registered name, so a service never imports its app's ``tasks`` module;
- the task takes primary keys only and calls ``run_job(job_id=..., body=...)`` or
  ``job_item_run(job_id=..., item=..., body=...)`` with a service function as the body:
  a job body is ``body(job) -> dict | None`` (the job's result), an item body is
  ``body(job, item) -> str`` (a summary; raise ``ItemFailed`` for a reason to show, any other exception
  fails the item with its type). ``job_progress``, ``job_device_set`` and ``job_metrics_set`` are what a
  body may report meanwhile.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from ukbstudy.celery import task_named

from . import background
from .models import Job, JobItem

JobBody = Callable[[Job], "dict | None"]
ItemBody = Callable[[Job, str], str]
LastItemHook = Callable[[Job], dict]


class JobCancelled(Exception):
    """Raised inside a running job when a user asked to cancel it."""


class ItemFailed(Exception):
    """An item of a fanned-out job cannot be done; the message is the reason listed on the job."""


class JobStepFailed(Exception):
    """The step after a fanned-out job's last item failed (the job fails): ``reason`` is stored as the step's
    result error, ``f"{context}: {reason}"`` as the job's error."""

    def __init__(self, reason: str, *, context: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.context = context


def job_create(*, kind: str, parameters: dict | None = None, user=None) -> Job:
    return Job.objects.create(kind=kind, parameters=parameters or {}, created_by=user)


def job_start(*, kind: str, task: str, parameters: dict | None = None, user=None) -> Job:
    """Record a job and queue ``task(job.pk)`` once the transaction has committed (so the worker sees it)."""
    with transaction.atomic():
        job = job_create(kind=kind, parameters=parameters, user=user)
        _enqueue(job=job, task=task)
    return job


def _enqueue(*, job: Job, task: str) -> None:
    """Queue the task named ``task`` with ``(job.pk,)`` once the surrounding transaction has committed."""
    def send() -> None:
        result = task_named(task).apply_async(args=(job.pk,), queue=settings.CELERY_TASK_DEFAULT_QUEUE)
        Job.objects.filter(pk=job.pk, celery_task_id="").update(celery_task_id=result.id or "")

    transaction.on_commit(lambda: background.submit(send))


def job_fan_out(*, kind: str, task: str, items: Iterable, parameters: dict | None = None, user=None,
                empty_result: dict | None = None) -> Job:
    """Record one job over ``items`` and queue ``task(job.pk, item)`` for each after the commit.

    Items are sorted and counted once; a job without items has succeeded at once (with ``empty_result``).
    """
    items = sorted(set(items))
    with transaction.atomic():
        job = Job.objects.create(kind=kind, parameters=parameters or {}, created_by=user, progress_total=len(items))
        if not items:
            Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, finished_at=timezone.now(),
                                                 result=empty_result or {})
            job.refresh_from_db()
        transaction.on_commit(lambda: background.submit(lambda: _send_items(task, job.pk, items)))
    return job


def _send_items(task: str, job_id: int, items: list) -> None:
    for item in items:
        task_named(task).apply_async(args=(job_id, item), queue=settings.CELERY_TASK_DEFAULT_QUEUE)


def job_parameter_once(*, job_id: int, key: str, make: Callable[[Job], object]) -> object:
    """``parameters[key]`` of the job, made by ``make(job)`` and stored by the first caller, under a lock on the
    job's row: items running at once on several workers share one value (e.g. the ImportBatch of an import).
    Call it inside the transaction that uses the value, so a rollback takes both back."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if key not in job.parameters:
        job.parameters[key] = make(job)
        job.save(update_fields=["parameters"])
    return job.parameters[key]


def job_progress(*, job: Job, done: int, total: int, message: str = "") -> None:
    """Store progress; raises JobCancelled when cancellation was requested meanwhile."""
    Job.objects.filter(pk=job.pk).update(progress_done=done, progress_total=total, progress_message=message[:500])
    job.progress_done = done
    job.progress_total = total
    job.progress_message = message[:500]
    if Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
        raise JobCancelled(f"job {job.pk} was cancelled")


def job_progress_callback(job: Job) -> Callable[[int, int, str], None]:
    return lambda done, total, message="": job_progress(job=job, done=done, total=total, message=message)


def job_device_set(*, job: Job, device: str) -> None:
    """Record the device (``cpu``, ``cuda:0``) the job computes on."""
    Job.objects.filter(pk=job.pk).update(device=device[:32])
    job.device = device[:32]


def job_metrics_set(*, job: Job, metrics: dict) -> None:
    """Store the job's time series (e.g. per-iteration loss); call it inside the transaction of the results."""
    Job.objects.filter(pk=job.pk).update(metrics=metrics)
    job.metrics = metrics


def job_request_cancel(*, job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(status=Job.Status.CANCELLED,
                                                                   finished_at=timezone.now())


def run_job(*, job_id: int, body: JobBody, device: str = "") -> Job | None:
    """Run ``body(job)`` as the job: running, then succeeded (with its result), cancelled or failed.

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
        result = body(job)
    except JobCancelled:
        _finish(job, Job.Status.CANCELLED, error="Cancelled by user.")
        return job
    except BaseException as exc:
        _finish(job, Job.Status.FAILED, error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
        raise
    if result is not None:
        job.result = result
    _finish(job, Job.Status.SUCCEEDED)
    return job


def _finish(job: Job, status: str, error: str = "") -> None:
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at", "result", "progress_done", "progress_total",
                            "progress_message"])


def job_item_run(*, job_id: int, item, body: ItemBody, after_last: tuple[str, LastItemHook] | None = None) -> None:
    """One item of a fanned-out job: ``body(job, item)``, counted once however often its task is delivered.

    The job is running while items are; a failed item is listed with its reason in ``result["failed"]``,
    and the last distinct item finishes the job (cancelled if a cancel was asked for, in which case the
    remaining items are skipped). ``after_last = (key, hook)`` runs ``hook(job)`` once after the last item
    of a succeeded job, storing what it returns in ``result[key]``; a ``JobStepFailed`` from it fails the
    job with its message (and ``result[key] = {"error": ...}``).
    """
    item = str(item)
    if not JobItem.objects.filter(job_id=job_id, item=item).exists():
        _item_run(job_id, item, body)
    if after_last is not None:
        _after_last(job_id, *after_last)


def _item_run(job_id: int, item: str, body: ItemBody) -> None:
    claimed = Job.objects.filter(pk=job_id, status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).update(
        status=Job.Status.RUNNING, started_at=Coalesce("started_at", Now()))
    if not claimed:
        return
    job = Job.objects.get(pk=job_id)
    ok, reason, skipped = True, "", job.cancel_requested
    if not skipped:
        try:
            reason = body(job, item) or ""
        except ItemFailed as exc:
            ok, reason = False, str(exc)
        except Exception as exc:  # the item fails, the job goes on
            ok, reason = False, f"{type(exc).__name__}: {exc}"
    _count_item(job_id, item, ok and not skipped, reason, skipped)


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


def _after_last(job_id: int, key: str, hook: LastItemHook) -> None:
    """Every item's task calls this; the row lock and ``result[key]`` make exactly one of them run the hook."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status != Job.Status.SUCCEEDED or key in job.result:
            return
        try:
            with transaction.atomic():
                job.result[key] = hook(job)
        except JobStepFailed as exc:
            job.result[key] = {"error": exc.reason}
            job.status = Job.Status.FAILED
            job.error = f"{exc.context}: {exc.reason}" if exc.context else exc.reason
        job.save(update_fields=["result", "status", "error"])
