"""The liver fat paper's three-way comparison: reference, network and atlas (its Table 1 and outliers).

Input: two frames with one row per subject and columns ``eid`` and the three methods, one for dataset A
(subjects with reference values) and one for dataset C (a random sample without; its reference column is
ignored). Output: three :class:`analysis.tables.Table` objects that render as text, CSV or HTML:

1. agreement: Reference vs Network, Reference vs Atlas, Atlas vs Network (A) and Atlas (C) vs Network (C),
   first named method as ground truth (MAE, R2, LoA, ROC-AUC, sensitivity, specificity at 5.5 %);
2. error correlation on A: Pearson r of (network - reference) and (atlas - reference), with the limits of
   agreement of network - atlas (the paper: r = 0.715, LoA -1.9 to 2.0);
3. the top-ten |network - reference| outliers on A with all three values.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.comparison import NAFLD_THRESHOLD, agreement, error_correlation
from analysis.outliers import top_disagreements
from analysis.tables import Table, agreement_table, num, p_value, render
from analysis.validation import AnalysisError

LABELS = {"reference": "Reference", "network": "Network", "atlas": "Atlas"}


@dataclass(frozen=True)
class Columns:
    reference: str = "reference"
    network: str = "network"
    atlas: str = "atlas"


def three_way_tables(frame_a: pd.DataFrame, frame_c: pd.DataFrame, *, columns: Columns = Columns(),
                     threshold: float = NAFLD_THRESHOLD, n_outliers: int = 10) -> list[Table]:
    """The three tables described in the module docstring."""
    for name, frame in (("A", frame_a), ("C", frame_c)):
        absent = [c for c in ("eid", columns.network, columns.atlas) if c not in frame.columns]
        if absent:
            raise AnalysisError(f"dataset {name} has no column(s) {absent}")
    ref, net, atl = columns.reference, columns.network, columns.atlas
    rows = [
        ("Reference vs Network", agreement(frame_a[ref], frame_a[net], threshold, reference_name=ref,
                                           test_name=net)),
        ("Reference vs Atlas", agreement(frame_a[ref], frame_a[atl], threshold, reference_name=ref, test_name=atl)),
        ("Atlas vs Network", agreement(frame_a[atl], frame_a[net], threshold, reference_name=atl, test_name=net)),
        ("Atlas (C) vs Network (C)", agreement(frame_c[atl], frame_c[net], threshold, reference_name=atl,
                                               test_name=net)),
    ]
    table = agreement_table(rows, title="Method comparison on datasets A (first three rows) and C (last row)")
    return [table, _error_table(frame_a, columns), _outlier_table(frame_a, columns, n_outliers)]


def _error_table(frame: pd.DataFrame, columns: Columns) -> Table:
    result = error_correlation(frame[columns.reference], frame[columns.network], frame[columns.atlas])
    row = ("Network and Atlas errors vs Reference (A)", str(result.n), num(result.r, 3), p_value(result.p),
           f"({num(result.loa_lower, 2)} to {num(result.loa_upper, 2)})")
    notes = ("r: Pearson correlation of (network - reference) and (atlas - reference); "
             "LoA of network - atlas = bias +/- 1.96 SD.",) + tuple(result.notes)
    return Table("Error correlation", ("Comparison", "n", "r", "P", "LoA"), (row,), notes)


def _outlier_table(frame: pd.DataFrame, columns: Columns, n: int) -> Table:
    ranking = top_disagreements(frame[columns.network], frame[columns.reference], ids=list(frame["eid"]), n=n)
    atlas = dict(zip(frame["eid"], frame[columns.atlas], strict=True))
    rows = tuple((str(r.rank), str(r.id), num(r.b, 2), num(r.a, 2), num(float(atlas[r.id]), 2), num(r.difference, 2),
                  num(float(atlas[r.id]) - r.b, 2)) for r in ranking.rows)
    notes = (f"Top {n} by |network - reference| over {ranking.n} subjects of dataset A with both "
             f"({ranking.n_dropped} without); atlas shown for each.",)
    header = ("Rank", "eid", "Reference", "Network", "Atlas", "Network - Reference", "Atlas - Reference")
    return Table("Largest network errors on dataset A", header, rows, notes)


def render_three_way(tables: list[Table], fmt: str = "text") -> str:
    """Text: the tables one after another. CSV: each table's grid after a line with its title."""
    if fmt == "csv":
        return "\n".join(f"{table.title}\n{render(table, 'csv')}" for table in tables)
    return "\n".join(render(table, fmt) for table in tables)
