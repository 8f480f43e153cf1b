"""Plotly figures for the results pages, built server-side and sent as JSON to the page's local plotly.min.js.

Figures only draw: every statistic shown on them (bias, limits of agreement, group summaries) comes from
``analysis``. Large vectors travel as NumPy arrays, which plotly encodes as compact base64 typed arrays.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from sklearn.metrics import roc_curve

from analysis import AgreementResult

VIOLIN_SAMPLE = 5000  # values per violin at most: the shape is a density estimate, a seeded sample suffices
MAX_BINS = 60
SEX_COLOURS = {"Female": "#c2477a", "Male": "#2d6ea3", "Unknown": "#888888"}
_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def figure_json(figure: go.Figure) -> str:
    """The figure as JSON that is safe inside a <script> element (as Django's json_script escapes)."""
    return figure.to_json(validate=False).translate(_ESCAPES)


def _layout(figure: go.Figure, title: str, **axes) -> go.Figure:
    # A plain layout, no named template: plotly deep-copies a template on every update (about 0.1 s a figure).
    grid = {"gridcolor": "#e5e9ee", "zerolinecolor": "#c9d1da"}
    figure.update_layout(title=title, margin={"l": 60, "r": 20, "t": 50, "b": 50}, height=380,
                         legend={"orientation": "h", "y": -0.2}, plot_bgcolor="#fff", paper_bgcolor="#fff",
                         xaxis=grid, yaxis=grid, **axes)
    return figure


def grouped_bars(rows: Sequence[tuple[str, str, int]], title: str, x_title: str) -> go.Figure:
    """One bar per (x, series) count, series side by side: rows of (x, series, n)."""
    series: dict[str, dict[str, int]] = defaultdict(dict)
    for x, name, n in rows:
        series[name][x] = series[name].get(x, 0) + n
    figure = go.Figure([go.Bar(name=name, x=list(values), y=list(values.values()),
                               marker_color=SEX_COLOURS.get(name)) for name, values in series.items()])
    return _layout(figure, title, xaxis_title=x_title, yaxis_title="count")


def stacked_bars(rows: Sequence[tuple[str, str, int]], title: str, x_title: str) -> go.Figure:
    figure = grouped_bars(rows, title, x_title)
    return figure.update_layout(barmode="stack")


def coverage_heatmap(header: Sequence[str], rows: Sequence[tuple[str, list[int]]]) -> go.Figure:
    counts = np.array([values for _, values in rows], dtype=float)
    figure = go.Figure(go.Heatmap(z=counts, x=list(header), y=[quantity for quantity, _ in rows],
                                  text=counts.astype(int), texttemplate="%{text}", colorscale="Blues"))
    return _layout(figure, "Subjects with a value, by quantity and source")


def histogram_by_sex(frame: pd.DataFrame, column: str, label: str) -> go.Figure:
    """Counts per bin (common bins for both sexes, binned here so 100,000 values become 60 bars)."""
    values = frame[column].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    figure = go.Figure()
    if finite.size:
        edges = np.histogram_bin_edges(finite, bins=min(MAX_BINS, max(5, int(np.sqrt(finite.size)))))
        centres = (edges[:-1] + edges[1:]) / 2
        for sex, rows in frame.groupby(frame["sex"].fillna("Unknown")):
            counts, _ = np.histogram(rows[column].dropna().to_numpy(dtype=float), bins=edges)
            figure.add_trace(go.Bar(name=str(sex), x=centres, y=counts, width=np.diff(edges),
                                    marker_color=SEX_COLOURS.get(str(sex)), opacity=0.7))
    return _layout(figure, f"{label}: histogram by sex", barmode="overlay", xaxis_title=label, yaxis_title="subjects")


def violins(frame: pd.DataFrame, column: str, label: str, group_label: str) -> go.Figure:
    """Violins per group, split by sex; each half drawn from at most VIOLIN_SAMPLE values (seeded)."""
    figure = go.Figure()
    sampled = False
    rng = np.random.default_rng(0)
    for (sex, side) in (("Female", "negative"), ("Male", "positive")):
        rows = frame[(frame["sex"] == sex) & frame[column].notna() & frame["group"].notna()]
        if len(rows) > VIOLIN_SAMPLE:
            rows = rows.iloc[np.sort(rng.choice(len(rows), VIOLIN_SAMPLE, replace=False))]
            sampled = True
        if len(rows):
            figure.add_trace(go.Violin(x=rows["group"].astype(str).to_numpy(), y=rows[column].to_numpy(dtype=float),
                                       name=sex, side=side, line_color=SEX_COLOURS[sex], meanline_visible=True,
                                       points=False, scalemode="count"))
    note = f" (each half from a random sample of {VIOLIN_SAMPLE:,})" if sampled else ""
    return _layout(figure, f"{label} by {group_label.lower()} and sex{note}", violinmode="overlay",
                   xaxis_title=group_label, yaxis_title=label)


def scatter_identity(frame: pd.DataFrame, a: str, b: str, labels: tuple[str, str]) -> go.Figure:
    """Second method against the first with the identity line; customdata carries each point's eid."""
    pairs = frame.dropna(subset=[a, b])
    x = pairs[a].to_numpy(dtype=float)
    y = pairs[b].to_numpy(dtype=float)
    low, high = (float(min(x.min(), y.min())), float(max(x.max(), y.max()))) if len(pairs) else (0.0, 1.0)
    figure = go.Figure([
        go.Scattergl(x=x, y=y, mode="markers", name="subjects", customdata=pairs["eid"].to_numpy(),
                     marker={"size": 5, "opacity": 0.6},
                     hovertemplate=f"eid %{{customdata}}<br>{labels[0]} %{{x:.2f}}<br>{labels[1]} %{{y:.2f}}"
                                   "<extra></extra>"),
        go.Scatter(x=[low, high], y=[low, high], mode="lines", name="identity", line={"dash": "dash", "color": "#555"}),
    ])
    return _layout(figure, f"{labels[1]} against {labels[0]} (n = {len(pairs):,})", xaxis_title=labels[0],
                   yaxis_title=labels[1])


def bland_altman(frame: pd.DataFrame, a: str, b: str, labels: tuple[str, str], result: AgreementResult) -> go.Figure:
    """Difference (first minus second, as analysis.agreement) against the mean, with bias and LoA lines."""
    pairs = frame.dropna(subset=[a, b])
    x = pairs[a].to_numpy(dtype=float)
    y = pairs[b].to_numpy(dtype=float)
    mean, diff = (x + y) / 2, x - y
    figure = go.Figure(go.Scattergl(
        x=mean, y=diff, mode="markers", name="subjects", customdata=pairs["eid"].to_numpy(),
        marker={"size": 5, "opacity": 0.6},
        hovertemplate="eid %{customdata}<br>mean %{x:.2f}<br>difference %{y:.2f}<extra></extra>"))
    for value, name, dash in ((result.bias, "bias", "solid"), (result.loa_lower, "lower LoA", "dash"),
                              (result.loa_upper, "upper LoA", "dash")):
        figure.add_hline(y=value, line_dash=dash, line_color="#b3261e" if name == "bias" else "#555",
                         annotation_text=f"{name} {value:.2f}", annotation_position="top left")
    return _layout(figure, f"Bland-Altman: {labels[0]} - {labels[1]}", xaxis_title="mean of the two methods",
                   yaxis_title=f"{labels[0]} - {labels[1]}")


def roc(frame: pd.DataFrame, a: str, b: str, labels: tuple[str, str], result: AgreementResult) -> go.Figure:
    """ROC of the second method against the first above ``result.threshold`` (the convention of analysis);
    the AUC printed is analysis.agreement's."""
    pairs = frame.dropna(subset=[a, b])
    truth = pairs[a].to_numpy(dtype=float) > result.threshold
    chance = go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dot", "color": "#999"})
    figure = go.Figure(chance)
    if truth.any() and not truth.all():
        fpr, tpr, _ = roc_curve(truth, pairs[b].to_numpy(dtype=float))
        figure.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=f"AUC {result.roc_auc:.3f}"))
    title = f"ROC of {labels[1]} at {result.threshold:g} % ({labels[0]} as truth)"
    return _layout(figure, title, xaxis_title="1 - specificity", yaxis_title="sensitivity")
