"""Results page parts cached on a fingerprint of the data they read.

Counting 500,000 measurements or building a frame of 100,000 subjects takes seconds; the data behind the
pages changes far less often than people look at them. Each part (a dashboard panel, a comparison, an
outlier ranking) is stored in Django's cache under its name, its parameters and the fingerprint of the
tables it reads. The fingerprint is a handful of cheap aggregates (row count, largest id, newest indexed
timestamp) per source, so any insert, delete or import changes it and the next request computes the part
afresh; a part is never served stale by more than ``TIMEOUT`` seconds for edits that change none of them
(an in-place admin edit of a value).

Computing a part afresh takes seconds on 100,000 subjects, and while an inference writes its chunks the data
changes every few seconds. Where the web processes share a cache (``CACHE_URL``) and Celery has workers, a
request whose part is out of date gets the newest stored version of it at once, marked with when it was
computed, and a worker computes the part afresh (``results.refresh_part``, one at a time per part); the
page says so. Without a shared cache or workers the request computes the part itself, as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from ukbstudy.celery import task_named
from ukbstudy.imaging.models import Scan
from ukbstudy.measurements.models import Measurement, ModelVersion
from ukbstudy.qc.models import QCDecision
from ukbstudy.showcase.models import CovariateValue, ReferenceValue
from ukbstudy.subjects.models import ImportBatch, Subject, Visit

from .models import OutlierVerdict

TIMEOUT = 600
LATEST_TIMEOUT = 7 * 24 * 3600  # the newest version of a part, served while a worker computes it afresh
REFRESH_LOCK_TIMEOUT = 300
VERSION = 4  # bump when a cached part's shape changes
REFRESH_TASK = "results.refresh_part"


def _table(model, *, timestamp: str = "", where: str = "", params: tuple = ()) -> list[tuple[str, tuple]]:
    """Scalar subqueries for a whole table's row count, largest id and newest ``timestamp`` (an indexed
    column), and the count of rows matching ``where``. Each is a lone COUNT(*) or MAX, which SQLite and
    PostgreSQL answer from an index; one SELECT asking for several aggregates at once scans every row."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    parts = [(f"SELECT COUNT(*) FROM {table}", ()), (f"SELECT MAX({pk}) FROM {table}", ())]
    if timestamp:
        parts.append((f"SELECT MAX({connection.ops.quote_name(timestamp)}) FROM {table}", ()))
    if where:
        parts.append((f"SELECT COUNT(*) FROM {table} WHERE {where}", params))
    return parts


def _sources() -> dict[str, list[tuple[str, tuple]]]:
    quote = connection.ops.quote_name
    current = f"SELECT MAX({quote('id')}) FROM {quote(ModelVersion._meta.db_table)} WHERE {quote('is_current')}"
    return {
        # Visit attributes change through showcase imports (each an ImportBatch); withdrawal sets an indexed flag.
        "subjects": _table(Subject, where=f"{quote('withdrawn')}") + _table(Visit) + _table(ImportBatch),
        "scans": _table(Scan, where=f"{quote('processing_state')} = %s", params=(Scan.State.PROCESSED,)),
        "qc": _table(QCDecision, timestamp="decided_at"),
        "measurements": _table(Measurement, timestamp="created_at") + [(current, ())],
        "showcase": _table(ReferenceValue) + _table(CovariateValue) + _table(ImportBatch),
        "verdicts": _table(OutlierVerdict, timestamp="created_at"),
    }


EVERYTHING = ("subjects", "scans", "qc", "measurements", "showcase", "verdicts")


def fingerprints() -> dict[str, str]:
    """Every source's aggregates, read in one round trip to the database."""
    sources = _sources()
    parts = [part for source in EVERYTHING for part in sources[source]]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"({query})" for query, _ in parts),
                       [value for _, params in parts for value in params])
        values = iter(cursor.fetchone())
    return {source: json.dumps([str(next(values)) for _ in sources[source]]) for source in EVERYTHING}


class Fingerprints:
    """The sources' fingerprints, read once per request on first use; ``stale`` collects when each part served
    out of date was computed (empty when every part is current)."""

    def __init__(self) -> None:
        self._read: dict[str, str] | None = None
        self.stale: list[datetime] = []

    def of(self, sources: Sequence[str]) -> str:
        if self._read is None:
            self._read = fingerprints()
        return "|".join(self._read[source] for source in sorted(sources))

    @property
    def stale_since(self) -> datetime | None:
        return min(self.stale) if self.stale else None


@dataclass(frozen=True)
class PartSpec:
    sources: tuple[str, ...]
    build: Callable[..., Any]  # called with the part's parameters as keyword arguments


PARTS: dict[str, PartSpec] = {}


def results_part(name: str, *, sources: Sequence[str]):
    """Registers a builder of a cached part by name, so that a worker can compute it from its parameters."""
    def register(build: Callable[..., Any]) -> Callable[..., Any]:
        PARTS[name] = PartSpec(tuple(sources), build)
        return build
    return register


def _key(*parts) -> str:
    text = json.dumps([VERSION, *parts], sort_keys=True, default=str)
    return "results:" + hashlib.sha256(text.encode()).hexdigest()


def refresh_in_background() -> bool:
    """Out-of-date parts are computed by a worker only where one exists and shares the web's cache."""
    shared = settings.CACHES["default"]["BACKEND"] not in ("django.core.cache.backends.locmem.LocMemCache",
                                                           "django.core.cache.backends.dummy.DummyCache")
    return shared and not settings.CELERY_TASK_ALWAYS_EAGER


def cached_part(name: str, params: dict, *, fingerprints: Fingerprints | None = None) -> Any:
    """The part ``name`` (registered with ``results_part``) for ``params``: from the cache when its sources'
    data is unchanged since it was stored; else computed here, or (see ``refresh_in_background``) its newest
    stored version while a worker computes it afresh."""
    fingerprints = fingerprints or Fingerprints()
    spec = PARTS[name]
    fingerprint = fingerprints.of(spec.sources)
    value = cache.get(_key(name, params, fingerprint))
    if value is not None:
        return value
    if refresh_in_background():
        latest = cache.get(_key(name, params))
        if latest is not None:
            _refresh_later(name, params)
            fingerprints.stale.append(latest["at"])
            return latest["value"]
    return part_refresh(name, params, fingerprint=fingerprint)


def part_refresh(name: str, params: dict, *, fingerprint: str | None = None) -> Any:
    """Computes the part and stores it under its fingerprint and as the part's newest version."""
    spec = PARTS[name]
    fingerprint = fingerprint or Fingerprints().of(spec.sources)  # read before building: never newer than the data
    value = spec.build(**params)
    cache.set(_key(name, params, fingerprint), value, TIMEOUT)
    cache.set(_key(name, params), {"value": value, "at": timezone.now()}, LATEST_TIMEOUT)
    return value


def _refresh_later(name: str, params: dict) -> None:
    """Queues one refresh of the part; a refresh queued or running already is not queued again."""
    lock = _key("refreshing", name, params)
    if cache.add(lock, 1, REFRESH_LOCK_TIMEOUT):
        task_named(REFRESH_TASK).delay(name, params)


def refresh_done(name: str, params: dict) -> None:
    cache.delete(_key("refreshing", name, params))
