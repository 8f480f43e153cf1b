"""One-call reports for command lines and pages: a data frame in, a paper-style table (text or CSV) out.

``manage.py report agreement --a reference --b network`` maps to
``agreement_report(frame, [("reference", "network")])``; ``report regression`` to :func:`regression_report`
or :func:`univariable_report`. The frame holds one row per subject and one column per quantity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.comparison import NAFLD_THRESHOLD, agreement
from analysis.ols import label_of
from analysis.outliers import top_disagreements
from analysis.regression import model_sequence
from analysis.tables import agreement_table, model_table, outlier_table, render, univariable_table
from analysis.univariable import SEX_LEVELS, univariable_family
from analysis.validation import AnalysisError


def agreement_report(
    frame: pd.DataFrame,
    comparisons: Sequence[tuple[str, str]],
    *,
    threshold: float = NAFLD_THRESHOLD,
    labels: Mapping[str, str] | None = None,
    fmt: str = "text",
) -> str:
    """Liver Table 1 for each ``(first, second)`` column pair of ``frame``, first as reference/ground truth.

    Rows are labelled '<first> vs <second>' with ``labels`` applied. Output: :func:`analysis.tables.render`.
    """
    _require_columns(frame, [column for pair in comparisons for column in pair])
    results = [
        (f"{label_of(a, labels)} vs {label_of(b, labels)}",
         agreement(frame[a], frame[b], threshold, reference_name=a, test_name=b))
        for a, b in comparisons
    ]
    return render(agreement_table(results), fmt)


def outlier_report(frame: pd.DataFrame, a: str, b: str, *, n: int = 10, id_column: str | None = "eid",
                   labels: Mapping[str, str] | None = None, fmt: str = "text") -> str:
    """Top-``n`` subjects by ``|a - b|``, identified by ``id_column`` (the frame index when None or absent)."""
    _require_columns(frame, [a, b])
    ids = frame[id_column] if id_column in frame.columns else frame.index
    ranking = top_disagreements(frame[a], frame[b], ids=list(ids), n=n)
    return render(outlier_table(ranking, label_of(a, labels), label_of(b, labels)), fmt)


def univariable_report(
    frame: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    *,
    sex: str = "sex",
    levels: tuple[Any, Any] = SEX_LEVELS,
    labels: Mapping[str, str] | None = None,
    alpha: float = 0.05,
    fmt: str = "text",
) -> str:
    """BMFF Table 4 layout for ``(dependent, explanatory)`` pairs (see :func:`analysis.univariable_family`)."""
    family = univariable_family(frame, pairs, sex=sex, levels=levels, labels=labels, alpha=alpha)
    return render(univariable_table(family), fmt)


def regression_report(
    frame: pd.DataFrame,
    dependent: str,
    models: Sequence[Sequence[str]],
    *,
    categorical: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    names: Sequence[str] | None = None,
    transform: str = "none",
    fmt: str = "text",
) -> str:
    """BMFF Tables 5-8 layout for a model sequence (see :func:`analysis.model_sequence`)."""
    sequence = model_sequence(frame, dependent, models, categorical=categorical, labels=labels, names=names,
                              transform=transform)
    return render(model_table(sequence), fmt)


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    absent = [column for column in dict.fromkeys(columns) if column not in frame.columns]
    if absent:
        raise AnalysisError(f"data has no column(s) {absent}; available: {list(frame.columns)}")
