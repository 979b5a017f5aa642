"""View layer: the explorer's figures, pure functions of query frames (no data access).

Every figure prints its numbers on the marks (text), keeps the raw filter value of each
mark in `customdata` (clicking a mark cross-filters by it), and escapes labels so that a
value from the warehouse can never become markup inside the chart.
"""

from __future__ import annotations

import math
from typing import Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboards import _theme

ACCENT = "#56B4E9"
DIM = "#34507A"
PCT_COLOUR = "#009E73"

# The ticket fields stored as codes, each one vocabulary (code: Chinese, English) for
# every page and file: charts and filters print both names, the grid and files the Chinese.
HANDLERS = {
    "property": ("物业", "property"),
    "community": ("社区", "community"),
    "department": ("部门", "department"),
    "self_governance": ("居民自治", "self-governance"),
}
STATUSES = {"open": ("在办", "open"), "closed": ("已办结", "closed"),
            "overdue": ("超期未办结", "overdue")}
RATINGS = {"satisfied": ("满意", "satisfied"), "unsatisfied": ("不满意", "unsatisfied")}


def bilingual(vocabulary: dict[str, tuple[str, str]]) -> dict[str, str]:
    """{code: "中文 English"} of one of the vocabularies above."""
    return {code: f"{zh} {en}" for code, (zh, en) in vocabulary.items()}


def chinese(vocabulary: dict[str, tuple[str, str]]) -> dict[str, str]:
    """{code: "中文"} of one of the vocabularies above."""
    return {code: zh for code, (zh, _) in vocabulary.items()}


HANDLER_NAMES = bilingual(HANDLERS)

# measure -> (column, Chinese, English, is percentage)
MEASURE_COLUMNS: dict[str, tuple[str, str, str, bool]] = {
    "reported": ("reported_count", "事件数", "tickets", False),
    "closure": ("closure_pct", "办结率 %", "closure %", True),
    "on_time": ("on_time_pct", "按时办结率 %", "on-time %", True),
    "satisfaction": ("satisfaction_pct", "满意率 %", "satisfaction %", True),
    "overdue": ("overdue_count", "超期未办结", "overdue", False),
}


def safe_label(value) -> str:
    """A value as chart text: markup-neutral, missing shown as '未填 n/a'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "未填 n/a"
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def value_label(dimension: str, value) -> str:
    if dimension == "level" and value is not None:
        return f"{_theme.LEVEL_NUMERALS.get(int(value), value)}级 L{int(value)}"
    if dimension == "handler" and value in HANDLER_NAMES:
        return HANDLER_NAMES[value]
    return safe_label(value)


def fmt_number(value, pct: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.1f}" if pct else f"{int(value):,}"


def _base(fig: go.Figure, height: int = 320) -> go.Figure:
    fig.update_layout(
        template=_theme.TEMPLATE_NAME,
        height=height,
        margin={"l": 56, "r": 24, "t": 12, "b": 36},
        font={"size": 13},
        showlegend=False,
        clickmode="event",
        hoverlabel={"namelength": -1},
    )
    return fig


def empty_figure(zh: str = "无数据", en: str = "No data") -> go.Figure:
    """A blank chart saying there is nothing to show."""
    fig = go.Figure()
    fig.add_annotation(text=f"{zh} · {en}", showarrow=False, font={"size": 16,
                       "color": _theme.MUTED}, xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base(fig, height=220)


def figure_breakdown(df: pd.DataFrame, dimension: str, measure: str,
                     selected: Sequence = (), horizontal: bool = True) -> go.Figure:
    """Bars per value of `dimension`, length = `measure`; selected values highlighted."""
    if df.empty:
        return empty_figure()
    column, zh, en, pct = MEASURE_COLUMNS[measure]
    if dimension == "level":
        df = df.sort_values("value")  # levels read 1-4, whatever their counts
    else:  # largest first; empty values last
        df = df.sort_values([column, "value"], ascending=[False, True], na_position="last")
    raw = [None if pd.isna(v) else (int(v) if dimension == "level" else str(v))
           for v in df["value"]]
    labels = [value_label(dimension, v) for v in raw]
    values = [None if pd.isna(v) else float(v) for v in df[column]]
    colours = [ACCENT if not selected or v in selected else DIM for v in raw]
    if dimension == "level" and not selected:
        colours = [_theme.LEVEL_COLOURS.get(v, ACCENT) for v in raw]
    hover = [
        f"{lab}<br>事件 {int(r.reported_count):,} · 办结 {fmt_number(r.closure_pct, True)}%"
        f" · 按时 {fmt_number(r.on_time_pct, True)}%"
        f" · 满意 {fmt_number(r.satisfaction_pct, True)}% · 超期 {int(r.overdue_count):,}"
        for lab, r in zip(labels, df.itertuples())
    ]
    text = [fmt_number(v, pct) for v in values]
    bar = go.Bar(
        x=values if horizontal else labels,
        y=labels if horizontal else values,
        orientation="h" if horizontal else "v",
        text=text,
        textposition="outside",
        cliponaxis=False,
        marker={"color": colours},
        customdata=raw,
        hovertext=hover,
        hoverinfo="text",
        name=f"{zh} {en}",
    )
    fig = go.Figure(bar)
    height = max(220, 26 * len(df) + 60) if horizontal else 300
    fig = _base(fig, height=height)
    axis = {"title": {"text": f"{zh} {en}", "font": {"size": 12}}}
    if pct:
        axis.update(pct_axis(values, zero=True))
    # the first row (largest) at the top of a horizontal chart, at the left of a column one
    order = {"type": "category", "categoryorder": "array", "categoryarray": labels}
    if horizontal:
        fig.update_xaxes(**axis)
        fig.update_yaxes(automargin=True, autorange="reversed", **order)
    else:
        fig.update_yaxes(**axis)
        fig.update_xaxes(**order)
    return fig


def pct_axis(values: Sequence, zero: bool = False) -> dict:
    """A percentage axis fitted to `values`, ticks at 1, 2, 5, 10 or 20 points.

    A line's axis runs from a round number below the smallest value (an 83-96 % swing is
    not flattened against 0-105); a bar's (`zero`) starts at 0, since its length is
    read as the value, and stops just past the largest.
    """
    seen = [float(v) for v in values if v is not None and not pd.isna(v)]
    if not seen:
        return {"range": [0, 100], "dtick": 20, "tick0": 0, "ticksuffix": "%"}
    low, high = (0.0 if zero else min(seen)), max(seen)
    span = max(high - low, 1.0)
    step = next(s for s in (1, 2, 5, 10, 20) if span / s <= 6)
    bottom = max(0.0, math.floor((low - span * 0.15) / step) * step)
    top = min(100.0, math.ceil((high + span * 0.15) / step) * step)
    if top <= high:  # room for the text above a bar at 100
        top = high + step * 0.6
    return {"range": [bottom, top], "dtick": step, "tick0": 0, "ticksuffix": "%"}


def figure_trend(df: pd.DataFrame) -> go.Figure:
    """Tickets per period (bars) with closure and on-time rates (lines, right axis)."""
    if df.empty:
        return empty_figure()
    # each bucket is labelled by its first day inside the window; a bucket cut by the
    # window (first, or still running) is hatched and says "partial" on hover
    x = [pd.Timestamp(d).strftime("%Y-%m-%d") for d in df["bucket_from"]]
    starts = [pd.Timestamp(d).strftime("%Y-%m-%d") for d in df["period_start"]]
    partial = [bool(v) for v in df["is_partial"]]
    hover = [f"{a} – {pd.Timestamp(b):%Y-%m-%d}" + (" 部分 partial" if p else "")
             for a, b, p in zip(x, df["bucket_to"], partial)]
    fig = go.Figure()
    fig.add_bar(x=x, y=df["reported_count"].tolist(), name="事件数 tickets",
                marker={"color": ACCENT,
                        "pattern": {"shape": ["/" if p else "" for p in partial]}},
                customdata=starts, hovertext=hover,
                text=[f"{int(v):,}" for v in df["reported_count"]],
                textposition="outside" if len(df) <= 40 else "none", cliponaxis=False)
    # a partial bucket's rate is hollow, as its bar is hatched: a running month's young
    # tickets are not yet closed, and its rate is not a whole month's
    symbols = ["circle-open" if p else "circle" for p in partial]
    for column, name, colour in (("closure_pct", "办结率 closure %", _theme.MUTED),
                                 ("on_time_pct", "按时办结率 on-time %", PCT_COLOUR)):
        fig.add_scatter(x=x, y=df[column].tolist(), name=name, yaxis="y2",
                        mode="lines+markers", line={"color": colour},
                        marker={"symbol": symbols, "size": 8}, customdata=starts,
                        hovertext=hover)
    # 280 px: with the filter bar above, the whole chart is in view at 1366x768
    fig = _base(fig, height=280)
    fig.update_layout(
        showlegend=True,
        legend={"orientation": "h", "y": 1.12, "x": 0},
        margin={"l": 56, "r": 48, "t": 36, "b": 36},
        yaxis={"title": {"text": "事件数 tickets", "font": {"size": 12}}},
        yaxis2={"overlaying": "y", "side": "right", "showgrid": False,
                "tickmode": "linear", "title": {"text": "%", "font": {"size": 12}},
                **pct_axis(list(df["closure_pct"]) + list(df["on_time_pct"]))},
        xaxis={"type": "category"},
        hovermode="x unified",
    )
    return fig


def figure_close_time(df: pd.DataFrame) -> go.Figure:
    """Median and 90th-percentile hours to close per level (grouped bars)."""
    if df.empty:
        return empty_figure()
    levels = [int(v) for v in df["level"]]
    labels = [value_label("level", v) for v in levels]
    fig = go.Figure()
    for column, name, colour in (
        ("median_close_hours", "中位数 median", ACCENT),
        ("p90_close_hours", "90分位 p90", _theme.AT_RISK),
    ):
        vals = [None if pd.isna(v) else float(v) for v in df[column]]
        fig.add_bar(x=labels, y=vals, name=name, marker={"color": colour},
                    customdata=levels, text=[fmt_number(v, True) for v in vals],
                    textposition="outside", cliponaxis=False)
    fig = _base(fig, height=300)
    fig.update_layout(showlegend=True, barmode="group",
                      legend={"orientation": "h", "y": 1.12, "x": 0},
                      margin={"l": 56, "r": 48, "t": 36, "b": 36},
                      yaxis={"title": {"text": "小时 hours", "font": {"size": 12}}},
                      xaxis={"type": "category"})
    return fig


def figure_pivot_heatmap(table: pd.DataFrame, *, pct: bool, worse_high: bool,
                         title: str, partial_mark: str = "（部分）") -> go.Figure:
    """The breakdown's pivot (rows x columns, totals left out) as a heatmap.

    Cividis (readable with any colour-vision deficiency and in greyscale), each cell's
    value printed on it, rows in the table's order (worst first at the top). A row or
    column whose label carries `partial_mark` (a period cut by the dates or still
    running) is outlined dashed. `worse_high` darkens the good end, so the eye lands on
    the worst cells whatever the measure's direction.
    """
    rows, cols = table.iloc[:-1], list(table.columns[1:-1])  # drop the totals
    if rows.empty or not cols:
        return empty_figure()
    ylabels = [safe_label(v) for v in rows.iloc[:, 0]]
    xlabels = [safe_label(c) for c in cols]
    raw = [list(r) for r in rows[cols].itertuples(index=False)]
    z = [[None if v is None or pd.isna(v) else float(v) for v in r] for r in raw]
    # as the table prints them: counts whole, rates and hours to one place
    text = [["" if f is None else fmt_number(f, pct or isinstance(v, float))
             for v, f in zip(r, zr)] for r, zr in zip(raw, z)]
    fig = go.Figure(go.Heatmap(
        z=z, x=xlabels, y=ylabels, text=text, texttemplate="%{text}",
        textfont={"size": 11}, colorscale="Cividis", reversescale=not worse_high,
        colorbar={"title": {"text": title, "side": "right"}, "thickness": 12},
        hovertemplate="%{y} · %{x}: %{text}<extra></extra>", xgap=2, ygap=2))
    dashed = {"color": _theme.AT_RISK, "dash": "dash", "width": 2}
    for i, name in enumerate(xlabels):
        if partial_mark in name:
            fig.add_shape(type="rect", xref="x", yref="paper", x0=i - 0.5, x1=i + 0.5,
                          y0=0, y1=1, line=dashed)
    for i, name in enumerate(ylabels):
        if partial_mark in name:
            fig.add_shape(type="rect", xref="paper", yref="y", x0=0, x1=1,
                          y0=i - 0.5, y1=i + 0.5, line=dashed)
    fig = _base(fig, height=max(240, 28 * len(ylabels) + 110))
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    fig.update_xaxes(type="category", side="top", automargin=True)
    fig.update_layout(margin={"l": 56, "r": 24, "t": 48, "b": 12})
    return fig
