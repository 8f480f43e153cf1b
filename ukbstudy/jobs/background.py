"""Jobs of a web server without a broker, run in one background thread of the server.

Without ``CELERY_BROKER_URL`` a task runs eagerly, in the process that queued it. That suits a management
command (it waits for its job anyway) and the tests, but a page that starts a job would not answer until the
job had finished. The WSGI application (:mod:`ukbstudy.wsgi`, which ``runserver`` loads too) therefore calls
:func:`enable`: from then on, the tasks that ``services.job_start`` and ``job_fan_out`` queue go to one daemon
thread that runs them one after another, as a single worker would, and the page returns at once with the job
queued; the jobs page shows its progress. With a broker nothing changes: the workers run the tasks.

A thread that should run its jobs itself (the demo's pipeline thread, which reports each job as it ends) does
so inside :func:`inline`. A job that is running when the server stops stays "running"; start it again.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)
_lock = threading.Lock()
_queue: queue.Queue[Callable[[], object]] | None = None
_local = threading.local()


def enable() -> bool:
    """Start the background thread (once), unless a broker is configured; True when jobs now run in it."""
    global _queue
    if not settings.CELERY_TASK_ALWAYS_EAGER or not settings.JOBS_IN_SERVER_THREAD:
        return False
    with _lock:
        if _queue is None:
            _queue = queue.Queue()
            threading.Thread(target=_work, args=(_queue,), name="ukbstudy-jobs", daemon=True).start()
    return True


def disable() -> None:
    """Run tasks inline again (the thread stops after what it has queued); for tests."""
    global _queue
    with _lock:
        if _queue is not None:
            _queue.put(None)
            _queue = None


def enabled() -> bool:
    return _queue is not None


@contextmanager
def inline() -> Iterator[None]:
    """Within this block, the tasks this thread queues run at once, in this thread."""
    _local.inline = True
    try:
        yield
    finally:
        _local.inline = False


def submit(call: Callable[[], object]) -> None:
    """Run ``call`` in the background thread when enabled (and not :func:`inline`), else now."""
    target = _queue
    if target is None or getattr(_local, "inline", False):
        call()
    else:
        target.put(call)


def drain(timeout: float = 60.0) -> None:
    """Wait until everything queued so far has run (tests)."""
    target = _queue
    if target is not None:
        done = threading.Event()
        target.put(done.set)
        if not done.wait(timeout):
            raise TimeoutError(f"background jobs still running after {timeout:g} s")


def _work(tasks: queue.Queue) -> None:
    while (call := tasks.get()) is not None:
        try:
            call()
        except Exception:  # a task records its own failure on its job; this is only what escaped it
            log.exception("background job task failed")
        finally:
            connections.close_all()  # this thread's connections: a long-lived thread must not keep them open
