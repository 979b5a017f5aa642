"""Honest charts: the largest bar on top, levels 1-4 in order, percentage axes fitted to
their values, and a ticket timeline that can never show a negative step."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from dashboards import _explore_figures as figs
from tests.unit.test_explore_queries import NOW, build_explore_warehouse


def _bars(values: dict, dimension: str = "category") -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({"value": list(values), "reported_count": list(values.values()),
                         "closure_pct": [90.0] * n, "on_time_pct": [90.0] * n,
                         "satisfaction_pct": [90.0] * n, "overdue_count": [0] * n})


def test_horizontal_bars_put_the_largest_at_the_top():
    fig = figs.figure_breakdown(_bars({"a": 5, "b": 300, "c": 40}), "category", "reported")
    assert list(fig.layout.yaxis.categoryarray) == ["b", "c", "a"]
    assert fig.layout.yaxis.autorange == "reversed"  # the first category drawn on top


def test_pivot_heatmap_prints_values_in_cividis_and_outlines_the_partial_period():
    from plotly.colors import sequential

    pivot = pd.DataFrame(
        [["物业维修", 120.5, None, 118.0], ["城市管理", 30.0, 41.2, 33.3],
         ["合计", 80.1, 41.2, 77.7]],
        columns=["类别", "2026年9月", "2026年10月（部分）", "合计"])
    fig = figs.figure_pivot_heatmap(pivot, pct=False, worse_high=True, title="P90")
    cells = fig.data[0]
    # the totals are the table's, not cells: left out; rows keep the table's order
    assert list(cells.x) == ["2026年9月", "2026年10月（部分）"]
    assert list(cells.y) == ["物业维修", "城市管理"]
    assert fig.layout.yaxis.autorange == "reversed"
    assert [list(r) for r in cells.text] == [["120.5", ""], ["30.0", "41.2"]]
    assert cells.texttemplate == "%{text}"
    assert [c for _, c in cells.colorscale] == [c for c in sequential.Cividis]
    assert cells.reversescale is False  # worse is higher: the brightest cells
    dashed = [s for s in fig.layout.shapes if s.line.dash == "dash"]
    assert [(s.x0, s.x1, s.yref) for s in dashed] == [(0.5, 1.5, "paper")]


def test_the_level_chart_reads_1_to_4_whatever_the_counts():
    fig = figs.figure_breakdown(_bars({4: 1, 1: 1135, 3: 29, 2: 18}), "level", "reported",
                                horizontal=False)
    assert list(fig.data[0].customdata) == [1, 2, 3, 4]
    assert list(fig.layout.xaxis.categoryarray) == list(fig.data[0].x)


def test_trend_percentage_axis_fits_an_83_to_96_swing():
    df = pd.DataFrame({"period_start": pd.to_datetime(["2026-01-01", "2026-02-01"]),
                       "bucket_from": pd.to_datetime(["2026-01-01", "2026-02-01"]),
                       "bucket_to": pd.to_datetime(["2026-01-31", "2026-02-28"]),
                       "is_partial": [False, False], "reported_count": [10, 12],
                       "closure_pct": [83.0, 96.0], "on_time_pct": [88.0, 91.5]})
    axis = figs.figure_trend(df).layout.yaxis2
    low, high = axis.range
    assert 75 <= low <= 83 and 96 < high <= 100
    assert axis.dtick in (1, 2, 5)  # round ticks, not 18.8, 37.6, ...
    # bars start at zero: their length is the value
    assert figs.pct_axis([83.0, 96.0], zero=True)["range"][0] == 0


def test_trend_rates_of_a_partial_bucket_are_hollow_like_its_hatched_bar():
    df = pd.DataFrame({"period_start": pd.to_datetime(["2026-11-01", "2026-12-01"]),
                       "bucket_from": pd.to_datetime(["2026-11-01", "2026-12-01"]),
                       "bucket_to": pd.to_datetime(["2026-11-30", "2026-12-03"]),
                       "is_partial": [False, True], "reported_count": [4110, 273],
                       "closure_pct": [98.1, 89.5], "on_time_pct": [91.8, 90.2]})
    bars, *rates = figs.figure_trend(df).data
    assert list(bars.marker.pattern.shape) == ["", "/"]
    assert [r.name for r in rates] == ["办结率 closure %", "按时办结率 on-time %"]
    for rate in rates:
        assert list(rate.marker.symbol) == ["circle", "circle-open"]
        assert "partial" in rate.hovertext[1] and "partial" not in rate.hovertext[0]


def _text(component) -> str:
    if isinstance(component, (str, int, float)):
        return str(component)
    children = getattr(component, "children", None)
    if children is None:
        return ""
    if not isinstance(children, (list, tuple)):
        children = [children]
    return " ".join(_text(c) for c in children)


def test_timeline_steps_run_in_time_order_for_every_demo_ticket(tmp_path_factory):
    """3.7 % of demo tickets were escalated or answered out of the declared step order
    and showed '+-98 分钟'."""
    from dashboards._explore_timeline import timeline

    settings = build_explore_warehouse(tmp_path_factory.mktemp("timeline"))
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        cur = con.execute("select * from tickets")
        names = [d[0] for d in cur.description]
        tickets = [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()
    out_of_order = 0
    for t in tickets:
        steps = [t[k] for k in ("reported_at", "accepted_at", "responded_at",
                                "escalated_at", "closed_at") if t[k] and t[k] <= NOW]
        out_of_order += steps != sorted(steps)
        text = _text(timeline(t, NOW))
        assert "+-" not in text, t["ticket_id"]
    assert out_of_order > 0  # the demo has such tickets, so the check bites


@pytest.mark.parametrize("escalated", [dt.datetime(2026, 5, 1, 9, 30)])
def test_a_step_taken_early_is_drawn_where_it_happened(escalated):
    from dashboards._explore_timeline import timeline

    t = {"ticket_id": "T1", "level": 3, "category": "物业维修", "community": "c",
         "grid": None, "compound": None, "handler": "property", "description": "",
         "reported_at": dt.datetime(2026, 5, 1, 9, 0),
         "accepted_at": dt.datetime(2026, 5, 1, 10, 0),
         "responded_at": dt.datetime(2026, 5, 1, 11, 0), "escalated_at": escalated,
         "closed_at": dt.datetime(2026, 5, 2, 9, 0),
         "deadline_at": dt.datetime(2026, 5, 8, 23, 59), "due_on": None}
    text = _text(timeline(t, NOW))
    assert text.index("升级督办") < text.index("受理")
    assert "+30 分钟" in text and "+-" not in text
