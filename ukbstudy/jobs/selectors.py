"""Reads for the jobs page: recent jobs with their place in the queue."""

from __future__ import annotations

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
