"""Outlier ranking: the subjects on which two methods disagree most (liver paper: top-10 |network - reference|)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.results import OutlierRanking, OutlierRow
from analysis.validation import AnalysisError, ArrayLike, as_vector, require_aligned


def top_disagreements(a: ArrayLike, b: ArrayLike, ids: Sequence[Any] | pd.Index | None = None,
                      n: int = 10) -> OutlierRanking:
    """Top-``n`` subjects by ``|a - b|``, largest first.

    Inputs: two equally long numeric vectors, optional subject ``ids`` of the same length (default: ``a``'s
    index when it is a Series, else positions 0..N-1), and ``n`` >= 1. Pairs with a missing value are
    skipped and counted in ``n_dropped``. Ties keep their input order (``numpy.argsort(kind='stable')`` on
    ``-|a - b|``), so the ranking is reproducible. Output: :class:`OutlierRanking` whose rows carry rank
    (1-based), id, both values, ``difference = a - b`` and its absolute value; fewer than ``n`` rows when
    fewer complete pairs exist. Raises AnalysisError on mismatched lengths, differently indexed Series
    or ``n`` < 1.
    """
    if n < 1:
        raise AnalysisError(f"n must be at least 1, got {n}")
    require_aligned({"a": a, "b": b})
    va, vb = as_vector(a, "a"), as_vector(b, "b")
    labels = _ids(a, ids, va.size)
    if not va.size == vb.size == len(labels):
        raise AnalysisError(f"mismatched lengths: a has {va.size}, b has {vb.size}, ids has {len(labels)} values")
    complete = np.flatnonzero(~(np.isnan(va) | np.isnan(vb)))
    diff = va[complete] - vb[complete]
    order = complete[np.argsort(-np.abs(diff), kind="stable")[:n]]
    rows = tuple(
        OutlierRow(rank=rank, id=_plain(labels[i]), a=float(va[i]), b=float(vb[i]), difference=float(va[i] - vb[i]),
                   abs_difference=float(abs(va[i] - vb[i])))
        for rank, i in enumerate(order, start=1)
    )
    return OutlierRanking(rows=rows, n=int(complete.size), n_dropped=int(va.size - complete.size))


def _ids(a: ArrayLike, ids: Sequence[Any] | pd.Index | None, size: int) -> list[Any]:
    if ids is not None:
        return list(ids)
    if isinstance(a, pd.Series):
        return list(a.index)
    return list(range(size))


def _plain(value: Any) -> Any:
    """NumPy scalar ids become Python values so results serialise cleanly."""
    return value.item() if isinstance(value, np.generic) else value
