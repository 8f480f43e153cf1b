"""Reads for the jobs page (recent jobs with their place in the queue) and for commands that wait on a job."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db.models import QuerySet

from .models import Job


def jobs_recent(*, limit: int = 100) -> list[Job]:
    """Newest first; queued jobs carry ``queue_position`` (1 = next to start)."""
    jobs = list(Job.objects.select_related("created_by").order_by("-created_at", "-id")[:limit])
    queued = sorted((j for j in jobs if j.status == Job.Status.QUEUED), key=lambda j: (j.created_at, j.id))
    for position, job in enumerate(queued, start=1):
        job.queue_position = position
    return jobs


def job_summary(job: Job) -> dict:
    return {
        "id": job.pk, "status": job.status, "done": job.progress_done, "total": job.progress_total,
        "message": job.progress_message, "failed": len(job.result.get("failed", [])),
        "duration": round(job.duration_seconds, 1) if job.duration_seconds is not None else None,
        "queue_position": getattr(job, "queue_position", None),
    }


def job_wait(job: Job, *, on_poll: Callable[[str], None], interval: float = 2.0,
             settled: Callable[[Job], bool] | None = None) -> Job:
    """Polls the job until it has finished (and ``settled(job)`` holds, for a job whose last step lands just
    after its status), passing each poll's progress message to ``on_poll``; returns the job as stored."""
    while True:
        job.refresh_from_db()
        if job.is_finished and (settled is None or settled(job)):
            return job
        on_poll(job.progress_message or "waiting for a worker")
        time.sleep(interval)


def job_failures(job: Job, items: QuerySet) -> list[tuple[str, str]]:
    """The job's failed items as (the item's row in ``items`` as text, else its key; the reason)."""
    failed = job.result.get("failed", [])
    keys = {f["item"]: int(f["item"]) for f in failed if str(f["item"]).isdigit()}
    rows = items.in_bulk(list(keys.values()))

    def label(item) -> str:
        row = rows.get(keys[item]) if item in keys else None
        return str(item if row is None else row)

    return [(label(f["item"]), f["reason"]) for f in failed]
