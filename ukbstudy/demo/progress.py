"""The demo's progress lines: while a step runs, what its jobs report (done of total, message, elapsed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

from ukbstudy.jobs.models import Job

INTERVAL_S = 15.0


@contextmanager
def job_progress_lines(write, interval: float | None = None) -> Iterator[None]:
    """Within the block, every ``interval`` seconds, ``write`` one line per running job whose progress changed:
    ``[12:34] job 7 (cross-validation): 3 of 10 - fold 3 of 10``; the clock counts from the block's start."""
    interval = INTERVAL_S if interval is None else interval
    stop, started = threading.Event(), time.monotonic()

    def watch() -> None:
        seen: dict[int, tuple] = {}
        try:
            while not stop.wait(interval):
                for line in _changed(seen, time.monotonic() - started):
                    write(line)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=watch, name="demo-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


def _changed(seen: dict[int, tuple], elapsed: float) -> list[str]:
    lines = []
    for job in Job.objects.filter(status=Job.Status.RUNNING).order_by("pk"):
        state = (job.progress_done, job.progress_total, job.progress_message)
        if seen.get(job.pk) == state:
            continue
        seen[job.pk] = state
        minutes, seconds = divmod(int(elapsed), 60)
        done = f"{job.progress_done} of {job.progress_total}" if job.progress_total else "started"
        message = f" - {job.progress_message}" if job.progress_message else ""
        lines.append(f"[{minutes:02d}:{seconds:02d}] job {job.pk} ({job.get_kind_display().lower()}): {done}{message}")
    return lines
