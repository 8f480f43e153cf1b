"""The liver fat page's loss figure: one small plot per cross-validation fold (and one for the newest training
run on all of dataset A), drawn like the results pages' figures (``ukbstudy.results.figures``), with the
numbers it shows as a table beside it.

Each fold's job records the loss of every iteration (a batch of 32 noisy MSEs); the plots show the mean of
each run of ``LOSS_EVERY`` iterations, which reads as a curve and keeps the page small (600 points a fold for
the paper's 6,000 iterations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ukbstudy.results.figures import COLORWAY

LOSS_EVERY = 10
COLUMNS = 5  # plots per row: 10 folds make two rows
X_TITLE = "iteration (batches)"
Y_TITLE = "loss (MSE, target SD²)"  # MSE on targets standardised to mean 0, SD 1
GRID = {"gridcolor": "#e5e9ee", "zerolinecolor": "#c9d1da", "automargin": True}


@dataclass(frozen=True)
class LossCurve:
    label: str  # "fold 3 (2 held out)" or "training on all of A"
    losses: list[float]  # per iteration, as the job recorded them


def block_means(losses: list[float], every: int = LOSS_EVERY) -> tuple[np.ndarray, np.ndarray]:
    """(last iteration of each run of ``every`` iterations, 1-based; the run's mean loss)."""
    values = np.asarray(losses, dtype=float)
    if values.size == 0:
        return np.empty(0, dtype=int), np.empty(0)
    starts = np.arange(0, values.size, every)
    ends = np.minimum(starts + every, values.size)
    return ends, np.add.reduceat(values, starts) / (ends - starts)


def loss_figure(curves: list[LossCurve], title: str) -> go.Figure:
    """One plot per curve in a grid (log loss axes shared), each with its axis titles."""
    columns = min(len(curves), COLUMNS)
    rows = math.ceil(len(curves) / columns)
    figure = make_subplots(rows=rows, cols=columns, shared_yaxes="all", subplot_titles=[c.label for c in curves],
                           horizontal_spacing=0.04, vertical_spacing=0.5 / rows)
    for index, curve in enumerate(curves):
        x, y = block_means(curve.losses)
        row, column = divmod(index, columns)
        figure.add_trace(go.Scatter(x=x, y=y, mode="lines", name=curve.label, showlegend=False,
                                    line={"color": COLORWAY[index % len(COLORWAY)], "width": 1.5},
                                    hovertemplate=f"{curve.label}<br>iteration %{{x}}<br>loss %{{y:.4g}}"
                                                  "<extra></extra>"), row=row + 1, col=column + 1)
    figure.update_xaxes(title_text=X_TITLE, title_font={"size": 11}, rangemode="tozero", nticks=4, tickangle=0,
                        **GRID)
    figure.update_yaxes(type="log", dtick="D2", **GRID)  # log ticks labelled at 1, 2 and 5 only
    figure.update_yaxes(title_text=Y_TITLE, title_font={"size": 11}, col=1)
    figure.update_annotations(font={"size": 12})
    return figure.update_layout(title={"text": title, "font": {"size": 15}}, height=120 + 240 * rows,
                                margin={"l": 60, "r": 20, "t": 80, "b": 50}, plot_bgcolor="#fff",
                                paper_bgcolor="#fff")


def loss_table(curves: list[LossCurve], title: str) -> dict:
    """The figure's numbers: per curve, iterations and the mean loss of its first and last runs."""
    rows = []
    for curve in curves:
        _, means = block_means(curve.losses)
        first, last = (f"{means[0]:.4g}", f"{means[-1]:.4g}") if means.size else ("", "")
        rows.append([curve.label, len(curve.losses), first, last])
    return {"title": title, "header": ["Run", "Iterations", f"Loss, first {LOSS_EVERY} (mean)",
                                       f"Loss, last {LOSS_EVERY} (mean)"], "rows": rows,
            "notes": [f"Loss: mean squared error of the standardised targets (liver fat minus its training mean, "
                      f"over its SD), averaged over each {LOSS_EVERY} iterations."]}
