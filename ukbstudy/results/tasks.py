"""Results tasks: computing an out-of-date page part afresh in a worker (see ``cache``)."""

from celery import shared_task

from .cache import REFRESH_TASK, part_refresh, refresh_done


@shared_task(name=REFRESH_TASK, ignore_result=True)
def refresh_part(name: str, params: dict) -> None:
    from . import longitudinal, pages  # noqa: F401  (register the parts)

    try:
        part_refresh(name, params)
    finally:
        refresh_done(name, params)
