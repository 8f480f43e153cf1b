"""What the management commands that start a job share: follow it (in-process it has already run; with
workers, say it is queued and, when asked to, wait) and report its failed items."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import QuerySet

from .models import Job
from .selectors import job_failures, job_wait


def command_follow(command: BaseCommand, job: Job, *, wait: bool, what: str = "", interval: float = 2.0,
                   settled: Callable[[Job], bool] | None = None) -> Job | None:
    """The job as stored once it has finished, or None when it was left to the workers (no ``wait``)."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        command.stdout.write(f"job {job.pk}: {what} queued for the workers" if what
                             else f"job {job.pk} queued for the workers (see /jobs/)")
        if not wait:
            return None
        job_wait(job, on_poll=lambda message: command.stdout.write(f"  {message}"), interval=interval,
                 settled=settled)
    job.refresh_from_db()
    return job


def command_report_items(command: BaseCommand, job: Job, items: QuerySet, *, done: str) -> list[tuple[str, str]]:
    """Print each failed item with its reason and the count line (``done``: "processed", "measured", ...);
    returns the failures."""
    failed = job_failures(job, items)
    for item, reason in failed:
        command.stderr.write(f"failed    {item}: {reason}")
    command.stdout.write(f"job {job.pk} {job.status}: {job.progress_done - len(failed)} of {job.progress_total} "
                         f"scan(s) {done}, {len(failed)} failed")
    return failed
