"""Plotly figures for the results pages, built server-side and sent as JSON to the page's local plotly.min.js.

Figures only draw: every statistic shown on them (bias, limits of agreement, group summaries) comes from
``analysis``. Large vectors travel as NumPy arrays, which plotly encodes as compact base64 typed arrays.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from sklearn.metrics import roc_curve

from analysis import AgreementResult

VIOLIN_SAMPLE = 5000  # values per violin at most: the shape is a density estimate, a seeded sample suffices
MAX_BINS = 60
TITLE_WIDTH = 48  # characters per title line: the comparison page's three plots side by side are ~430 px wide
SEX_COLOURS = {"Female": "#c2477a", "Male": "#2d6ea3", "Unknown": "#888888"}
PASS, FAIL, QUESTIONABLE, NEUTRAL = "#1e7b34", "#b3261e", "#a86b00", "#8a949e"  # as app.css --pass, --fail, --q
# Series whose meaning has a colour: QC verdicts (Verdict labels) and processing states (Scan.State values).
SERIES_COLOURS = {**SEX_COLOURS, "Pass": PASS, "Fail": FAIL, "Questionable": QUESTIONABLE, "Not reviewed": NEUTRAL,
                  "processed": PASS, "failed": FAIL, "imported": NEUTRAL, "processing": "#4c78a8"}
# Every other series: a palette without green or red, which mean pass and fail on these pages.
COLORWAY = ["#4c78a8", "#f58518", "#72b7b2", "#b279a2", "#9d755d", "#eeca3b", "#ff9da6", "#bab0ac", "#5f4b8b"]
_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def figure_json(figure: go.Figure) -> str:
    """The figure as JSON that is safe inside a <script> element (as Django's json_script escapes)."""
    return figure.to_json(validate=False).translate(_ESCAPES)


def _wrap(title: str) -> tuple[str, int]:
    """The title broken into lines of at most TITLE_WIDTH characters (plotly never wraps), and their count."""
    lines = textwrap.wrap(title, TITLE_WIDTH, break_long_words=False) or [""]
    return "<br>".join(lines), len(lines)


def _layout(figure: go.Figure, title: str, **axes) -> go.Figure:
    # A plain layout, no named template: plotly deep-copies a template on every update (about 0.1 s a figure).
    grid = {"gridcolor": "#e5e9ee", "zerolinecolor": "#c9d1da", "automargin": True}
    text, lines = _wrap(title)
    figure.update_layout(title={"text": text, "font": {"size": 15}}, height=380 + 18 * (lines - 1),
                         margin={"l": 60, "r": 20, "t": 32 + 20 * lines, "b": 50}, colorway=COLORWAY,
                         legend={"orientation": "h", "y": -0.25, "traceorder": "normal"}, plot_bgcolor="#fff",
                         paper_bgcolor="#fff", xaxis=grid, yaxis=grid)
    return figure.update_layout(**axes)


def count_axis(largest: float) -> dict:
    """A y axis of counts: whole numbers only (one tick per count while there are few)."""
    axis = {"tickformat": ",d", "rangemode": "tozero"}
    return {**axis, "dtick": 1} if largest <= 10 else axis


def month_name(month: str) -> str:
    """'2024-05' -> 'May 2024'."""
    return datetime.strptime(month, "%Y-%m").strftime("%b %Y")


def grouped_bars(rows: Sequence[tuple[str, str, int]], title: str, x_title: str, y_title: str, *,
                 months: bool = False, stacked: bool = False) -> go.Figure:
    """One bar per (x, series) count, series side by side (or ``stacked``): rows of (x, series, n).
    ``months``: x values are ``YYYY-MM``, shown as month names in calendar order."""
    series: dict[str, dict[str, int]] = defaultdict(dict)
    for x, name, n in rows:
        series[name][x] = series[name].get(x, 0) + n
    categories = sorted({x for x, _, _ in rows}) if months else list(dict.fromkeys(x for x, _, _ in rows))
    show = month_name if months else str
    figure = go.Figure([go.Bar(name=name, x=[show(x) for x in values], y=list(values.values()),
                               marker_color=SERIES_COLOURS.get(name)) for name, values in series.items()])
    totals = defaultdict(int)
    for x, _, n in rows:
        totals[x] = totals[x] + n if stacked else max(totals[x], n)
    return _layout(figure, title, xaxis_title=x_title, yaxis_title=y_title, barmode="stack" if stacked else "group",
                   xaxis={"type": "category", "categoryorder": "array", "categoryarray": [show(x) for x in categories]},
                   yaxis=count_axis(max(totals.values(), default=0)))


def stacked_bars(rows: Sequence[tuple[str, str, int]], title: str, x_title: str, y_title: str, *,
                 months: bool = False) -> go.Figure:
    return grouped_bars(rows, title, x_title, y_title, months=months, stacked=True)


def coverage_heatmap(header: Sequence[str], rows: Sequence[tuple[str, list[int]]]) -> go.Figure:
    counts = np.array([values for _, values in rows], dtype=float)
    figure = go.Figure(go.Heatmap(z=counts, x=list(header), y=[quantity for quantity, _ in rows],
                                  text=counts.astype(int), texttemplate="%{text}", colorscale="Blues"))
    return _layout(figure, "Subjects with a value, by quantity and source")


def histogram_by_sex(frame: pd.DataFrame, column: str, label: str, axis_title: str) -> go.Figure:
    """Counts per bin (common bins for both sexes, binned here so 100,000 values become 60 bars)."""
    values = frame[column].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    figure = go.Figure()
    largest = 0
    if finite.size:
        edges = np.histogram_bin_edges(finite, bins=min(MAX_BINS, max(5, int(np.sqrt(finite.size)))))
        centres = (edges[:-1] + edges[1:]) / 2
        for sex, rows in frame.groupby(frame["sex"].fillna("Unknown")):
            counts, _ = np.histogram(rows[column].dropna().to_numpy(dtype=float), bins=edges)
            largest = max(largest, int(counts.max(initial=0)))
            figure.add_trace(go.Bar(name=str(sex), x=centres, y=counts, width=np.diff(edges),
                                    marker_color=SEX_COLOURS.get(str(sex)), opacity=0.7))
    return _layout(figure, f"{label}: histogram by sex", barmode="overlay", xaxis_title=axis_title,
                   yaxis_title="subjects", yaxis=count_axis(largest))


def violins(frame: pd.DataFrame, column: str, label: str, group_label: str, axis_title: str,
            order: Sequence[str]) -> go.Figure:
    """Violins per group (x in ``order``), split by sex; each half drawn from at most VIOLIN_SAMPLE values
    (seeded)."""
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
                   xaxis_title=group_label, yaxis_title=axis_title,
                   xaxis={"type": "category", "categoryorder": "array", "categoryarray": list(order)})


def _with_unit(text: str, unit: str) -> str:
    return f"{text} ({unit})" if unit else text


def _scan_and_eid(frame: pd.DataFrame):
    """[scan id, eid] per row: what a click and a hover need."""
    return frame[["scan", "eid"]].to_numpy()


def scatter_identity(frame: pd.DataFrame, a: str, b: str, labels: tuple[str, str], unit: str = "") -> go.Figure:
    """Second method against the first with the identity line; customdata carries each point's scan id and
    eid (a click opens the scan's review)."""
    pairs = frame.dropna(subset=[a, b])
    x = pairs[a].to_numpy(dtype=float)
    y = pairs[b].to_numpy(dtype=float)
    low, high = (float(min(x.min(), y.min())), float(max(x.max(), y.max()))) if len(pairs) else (0.0, 1.0)
    figure = go.Figure([
        go.Scattergl(x=x, y=y, mode="markers", name="scans", customdata=_scan_and_eid(pairs),
                     marker={"size": 5, "opacity": 0.6},
                     hovertemplate=f"eid %{{customdata[1]}}<br>{labels[0]} %{{x:.2f}}<br>{labels[1]} %{{y:.2f}}"
                                   "<extra></extra>"),
        go.Scatter(x=[low, high], y=[low, high], mode="lines", name="identity", line={"dash": "dash", "color": "#555"}),
    ])
    return _layout(figure, f"{labels[1]} against {labels[0]} (n = {len(pairs):,})",
                   xaxis_title=_with_unit(labels[0], unit), yaxis_title=_with_unit(labels[1], unit))


def bland_altman(frame: pd.DataFrame, a: str, b: str, labels: tuple[str, str], result: AgreementResult,
                 unit: str = "", mean_of: str = "the two methods") -> go.Figure:
    """Difference (first minus second, as analysis.agreement) against the mean, with bias and LoA lines."""
    pairs = frame.dropna(subset=[a, b])
    x = pairs[a].to_numpy(dtype=float)
    y = pairs[b].to_numpy(dtype=float)
    mean, diff = (x + y) / 2, x - y
    figure = go.Figure(go.Scattergl(
        x=mean, y=diff, mode="markers", name="scans", customdata=_scan_and_eid(pairs),
        marker={"size": 5, "opacity": 0.6},
        hovertemplate="eid %{customdata[1]}<br>mean %{x:.2f}<br>difference %{y:.2f}<extra></extra>"))
    for value, name, dash in ((result.bias, "bias", "solid"), (result.loa_lower, "lower LoA", "dash"),
                              (result.loa_upper, "upper LoA", "dash")):
        figure.add_hline(y=value, line_dash=dash, line_color="#b3261e" if name == "bias" else "#555",
                         annotation_text=f"{name} {value:.2f}", annotation_position="top left")
    difference_unit = "percentage points" if unit == "%" else unit  # a difference of two percentages
    return _layout(figure, f"Bland-Altman: {labels[0]} - {labels[1]}",
                   xaxis_title=_with_unit(f"mean of {mean_of}", unit),
                   yaxis_title=_with_unit(f"{labels[0]} - {labels[1]}", difference_unit))


def change_histogram(change: pd.Series, label: str) -> go.Figure:
    """The distribution of the change between visits (repeat - first), in percentage points."""
    values = change.dropna().to_numpy(dtype=float)
    figure = go.Figure(go.Histogram(x=values, name="participants", nbinsx=min(40, max(5, len(values) // 3)),
                                    hovertemplate="change %{x}<br>%{y} participants<extra></extra>"))
    figure.add_vline(x=0, line_dash="dot", line_color="#555")
    return _layout(figure, f"Change of {label}, visit 3 - visit 2 (n = {len(values):,})",
                   xaxis_title="change (percentage points)", yaxis_title="participants")


def roc(frame: pd.DataFrame, a: str, b: str, labels: tuple[str, str], result: AgreementResult) -> go.Figure:
    """ROC of the second method against the first above ``result.threshold`` (the convention of analysis);
    the AUC printed is analysis.agreement's. Where the first method puts every subject on one side of the
    threshold the ROC is undefined: the figure says so (``roc_undefined``) instead of drawing a curve."""
    pairs = frame.dropna(subset=[a, b])
    truth = pairs[a].to_numpy(dtype=float) > result.threshold
    chance = go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dot", "color": "#999"})
    figure = go.Figure(chance)
    if truth.any() and not truth.all():
        fpr, tpr, _ = roc_curve(truth, pairs[b].to_numpy(dtype=float))
        figure.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=f"AUC {result.roc_auc:.3f}"))
    else:
        figure.add_annotation(text="ROC undefined:<br>" + _wrap(roc_undefined(frame, a, b, labels, result))[0],
                              x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                              bgcolor="#fff7e0", bordercolor="#e8c560", font={"size": 12})
    title = f"ROC of {labels[1]} at {result.threshold:g} % ({labels[0]} as truth)"
    return _layout(figure, title, xaxis_title="1 - specificity", yaxis_title="sensitivity",
                   xaxis={"range": [0, 1]}, yaxis={"range": [0, 1]})


def roc_undefined(frame: pd.DataFrame, a: str, b: str, labels: tuple[str, str], result: AgreementResult) -> str:
    """Why there is no ROC curve ('' when there is one): the truth has a single class."""
    pairs = frame.dropna(subset=[a, b])
    above = int((pairs[a].to_numpy(dtype=float) > result.threshold).sum())
    if 0 < above < len(pairs):
        return ""
    side = "above" if above else "at or below"
    return (f"all {len(pairs):,} subjects are {side} {result.threshold:g} % by {labels[0]}, so there are no "
            f"{'negatives' if above else 'positives'} to tell apart; choose another threshold.")
