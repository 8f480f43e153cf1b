"""Top-N disagreement ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError, top_disagreements


def test_subjects_are_ranked_by_absolute_difference_with_both_values() -> None:
    ranking = top_disagreements([5.0, 1.0, 9.0, 4.0], [4.0, 4.0, 2.0, 4.5], ids=[11, 12, 13, 14], n=3)
    assert [(r.rank, r.id) for r in ranking.rows] == [(1, 13), (2, 12), (3, 11)]
    top = ranking.rows[0]
    assert (top.a, top.b, top.difference, top.abs_difference) == (9.0, 2.0, 7.0, 7.0)
    assert ranking.rows[1].difference == -3.0


def test_ties_keep_input_order() -> None:
    ranking = top_disagreements([1.0, 3.0, 0.0, 2.0], [3.0, 1.0, 2.0, 0.0], ids=list("abcd"), n=4)
    assert [r.id for r in ranking.rows] == ["a", "b", "c", "d"]


def test_incomplete_pairs_are_skipped_and_counted() -> None:
    ranking = top_disagreements([1.0, np.nan, 10.0], [2.0, 50.0, None], n=5)
    assert [r.id for r in ranking.rows] == [0]
    assert (ranking.n, ranking.n_dropped) == (1, 2)


def test_series_index_identifies_subjects_by_default() -> None:
    a = pd.Series([1.0, 8.0], index=pd.Index([1000017, 1000042], name="eid"))
    ranking = top_disagreements(a, [1.0, 2.0], n=1)
    assert ranking.rows[0].id == 1000042 and isinstance(ranking.rows[0].id, int)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(AnalysisError, match="n must be at least 1"):
        top_disagreements([1.0], [2.0], n=0)
    with pytest.raises(AnalysisError, match="mismatched lengths"):
        top_disagreements([1.0, 2.0], [2.0], ids=[1, 2])
    with pytest.raises(AnalysisError, match="different indexes"):
        top_disagreements(pd.Series([1.0, 2.0], index=[5, 6]), pd.Series([1.0, 2.0], index=[6, 5]))
