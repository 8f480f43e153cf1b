"""Input checks shared by every analysis: one error type, and vectors cleaned the same way everywhere.

Missing values (NaN, None, ``pd.NA``) are dropped pairwise/row-wise and counted; infinite values, text in a
numeric column, mismatched lengths and too few rows raise :class:`AnalysisError` naming the problem.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

ArrayLike = Sequence[float] | np.ndarray | pd.Series


class AnalysisError(ValueError):
    """Inputs cannot give a meaningful figure; the message names the variable and the problem."""


def as_vector(values: ArrayLike, name: str) -> np.ndarray:
    """Return ``values`` as a 1-D float array with every missing value (NaN, None, pd.NA) as NaN.

    Raises AnalysisError when the input is not one-dimensional, not numeric, or holds an infinite value
    (infinity is a broken measurement, not a missing one, so it is never dropped silently).
    """
    series = values if isinstance(values, pd.Series) else pd.Series(_one_dimensional(values, name))
    try:
        vector = series.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{name} must be numeric ({exc})") from None
    n_inf = int(np.isinf(vector).sum())
    if n_inf:
        raise AnalysisError(f"{name} has {n_inf} infinite value(s)")
    return vector


def _one_dimensional(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise AnalysisError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def complete_pairs(named: dict[str, ArrayLike]) -> tuple[list[np.ndarray], int]:
    """Align several equally long vectors and keep the rows where every one has a value.

    Input: ``{name: values}`` (names are used in error messages). Output: the cleaned vectors in the same
    order, and how many rows were dropped because at least one value was missing.
    Raises AnalysisError when the lengths differ or pandas Series carry different indexes.
    """
    require_aligned(named)
    vectors = [as_vector(values, name) for name, values in named.items()]
    lengths = {name: len(vector) for name, vector in zip(named, vectors, strict=True)}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise AnalysisError(f"mismatched lengths: {detail} values")
    keep = np.logical_and.reduce([~np.isnan(vector) for vector in vectors])
    return [vector[keep] for vector in vectors], int(keep.size - keep.sum())


def require_aligned(named: dict[str, ArrayLike]) -> None:
    """Values are paired by position; refuse pandas Series whose indexes differ (e.g. eids in another order).

    Pairing positions of two differently indexed Series would compare different subjects without any error.
    """
    indexed = {name: values.index for name, values in named.items() if isinstance(values, pd.Series)}
    names = list(indexed)
    for name in names[1:]:
        if not indexed[name].equals(indexed[names[0]]):
            raise AnalysisError(f"{names[0]} and {name} have different indexes; align them (e.g. join on eid) first")


def require_rows(n: int, minimum: int, what: str) -> None:
    """Raise AnalysisError unless ``n`` complete rows reach ``minimum`` for the analysis ``what``."""
    if n < minimum:
        raise AnalysisError(f"{what} needs at least {minimum} complete rows, got {n}")


def is_constant(vector: np.ndarray) -> bool:
    """True when a non-empty vector has a single distinct value (zero range)."""
    return vector.size > 0 and float(np.ptp(vector)) == 0.0
