"""Results page parts cached on a fingerprint of the data they read.

Counting 500,000 measurements or building a frame of 100,000 subjects takes seconds; the data behind the
pages changes far less often than people look at them. Each part (a dashboard panel, a comparison, an
outlier ranking) is stored in Django's cache under its name, its parameters and the fingerprint of the
tables it reads. The fingerprint is a handful of cheap aggregates (row count, largest id, newest indexed
timestamp) per source, so any insert, delete or import changes it and the next request computes the part
afresh; a part is never served stale by more than ``TIMEOUT`` seconds for edits that change none of them
(an in-place admin edit of a value).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.core.cache import cache
from django.db import connection

from ukbstudy.measurements.models import Measurement, ModelVersion
from ukbstudy.qc.models import QCDecision
from ukbstudy.subjects.models import CovariateValue, ImportBatch, ReferenceValue, Scan, Subject

from .models import OutlierVerdict

TIMEOUT = 600
VERSION = 1  # bump when a cached part's shape changes
T = TypeVar("T")


def _table(model, *, timestamp: str = "", where: str = "", params: tuple = ()) -> list[tuple[str, tuple]]:
    """Scalar subqueries for a whole table's row count, largest id and newest ``timestamp`` (an indexed
    column), and the count of rows matching ``where``. Each is a lone COUNT(*) or MAX, which SQLite and
    PostgreSQL answer from an index; one SELECT asking for several aggregates at once scans every row."""
    table, pk = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(model._meta.pk.column)
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
        # Subject attributes change through showcase imports (each an ImportBatch); withdrawal sets an indexed flag.
        "subjects": _table(Subject, where=f"{quote('withdrawn')}") + _table(ImportBatch),
        "scans": _table(Scan, where=f"{quote('processing_state')} = %s", params=(Scan.State.PROCESSED,)),
        "qc": _table(QCDecision, timestamp="created_at"),
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
    """The sources' fingerprints, read once per request on first use."""

    def __init__(self) -> None:
        self._read: dict[str, str] | None = None

    def of(self, sources: Sequence[str]) -> str:
        if self._read is None:
            self._read = fingerprints()
        return "|".join(self._read[source] for source in sorted(sources))


def cached_part(name: str, params: dict, *, sources: Sequence[str], build: Callable[[], T],
                fingerprints: Fingerprints | None = None) -> T:
    """``build()``'s result, from the cache when the sources' data is unchanged since it was stored."""
    fingerprint = (fingerprints or Fingerprints()).of(sources)
    text = json.dumps([VERSION, name, params, fingerprint], sort_keys=True, default=str)
    key = "results:" + hashlib.sha256(text.encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, TIMEOUT)
    return value
