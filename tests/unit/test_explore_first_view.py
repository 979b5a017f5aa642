"""The ticket explorer's first view: every worker and every rebuild of the page in the
same minute reads the charts' and the breakdown's frames once, and draws them exactly as
a fresh computation does."""

from __future__ import annotations

import datetime as dt
import json

import plotly.utils
import pytest

from pipelines.queries import RESULTS
from pipelines.queries import explore as q
from tests.unit.test_explore_queries import NOW, build_explore_warehouse

CHARTS = ("trend", "level", "category", "grid", "close_time", "sat_handler")
VIEWS = {  # URL query -> a view analysts open
    "default": {},
    "filtered": {"level": "1", "category": None, "grain": "week"},
    "pivot": {"by": "period", "by2": "level", "bmeasure": "p90_close_hours",
              "grain": "month"},
}


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    import dash

    from app import create_app, reset_pages_state
    from dashboards import explore_tickets

    settings = build_explore_warehouse(tmp_path_factory.mktemp("first"))
    create_app(settings)
    yield explore_tickets
    reset_pages_state()
    dash._pages.PAGE_REGISTRY.clear()


def _store(page, query: dict) -> dict:
    from dataclasses import replace

    from dashboards._explore_state import parse_query

    query = {k: v for k, v in query.items() if v is not None}
    state, _ = parse_query(query, NOW.date(), {})
    return replace(state, asof=NOW).to_store()


def _json(value) -> str:
    return json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True)


def _draw(page, store: dict) -> dict[str, str]:
    out = {c: _json(page.show_chart(True, store, {"index": c}).figure) for c in CHARTS}
    out["breakdown"] = _json(page.breakdown(page._state(store)))
    return out


@pytest.mark.parametrize("view", VIEWS)
def test_another_worker_draws_the_first_view_as_a_fresh_computation_does(page, view,
                                                                          monkeypatch):
    store = _store(page, VIEWS[view])
    RESULTS.clear()
    computed = _draw(page, store)
    # another worker: nothing in its own memory, the frames from the shared file
    RESULTS.clear()
    monkeypatch.setattr(q, "ticket_trend", _refuse)
    monkeypatch.setattr(q, "ticket_breakdown", _refuse)
    monkeypatch.setattr(q, "close_time_by_level", _refuse)
    monkeypatch.setattr(q, "ticket_measure_breakdown", _refuse)
    assert _draw(page, store) == computed


def _refuse(*args, **kwargs):
    raise AssertionError("read the tickets again for a view already computed")


def test_a_rebuilt_page_reads_the_tickets_once_per_view(page, monkeypatch):
    calls: list[str] = []

    def counting(fn):
        def wrapper(*args, **kwargs):
            calls.append(fn.__name__)
            return fn(*args, **kwargs)
        return wrapper

    for name in ("ticket_trend", "ticket_breakdown", "ticket_measure_breakdown"):
        monkeypatch.setattr(q, name, counting(getattr(q, name)))
    RESULTS.clear()
    # dates no other test draws: nothing for them in the shared file yet
    store = dict(_store(page, {}), date_from=(NOW.date() - dt.timedelta(days=20)).isoformat())
    for _ in range(3):  # a sort, a breakdown measure, a scroll: the page rebuilds
        page.show_chart(True, store, {"index": "trend"})
        page.show_chart(True, store, {"index": "category"})
        page.breakdown(page._state(store))
    assert sorted(calls) == ["ticket_breakdown", "ticket_measure_breakdown",
                             "ticket_trend"]
    # another view (other dates) is computed, not served from the first one's
    later = dict(store, date_from=(NOW.date() - dt.timedelta(days=9)).isoformat())
    page.show_chart(True, later, {"index": "trend"})
    assert calls.count("ticket_trend") == 2


def _find(component, id_):
    """The component of a layout tree whose id is `id_`, or None."""
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if hasattr(child, "to_plotly_json") and (found := _find(child, id_)) is not None:
            return found
    return None


def test_the_page_comes_with_its_first_chart_summary_and_breakdown(page):
    """The server sends the page with the first chart drawn, the summary and the
    breakdown table filled: as callbacks they were three requests after the page, each
    answer more work for the browser."""
    RESULTS.clear()
    layout = page.layout(asof=NOW.isoformat())
    trend = _find(layout, {"type": "explore-chart", "index": "trend"})
    assert trend is not None and trend.figure.data, "the first chart is not drawn"
    assert _find(layout, "explore-summary-table") is not None
    assert _find(layout, "explore-breakdown-table") is not None
    store = _find(layout, "explore-state").data
    assert _json(trend.figure) == _json(page.show_chart(True, store, {"index": "trend"}).figure)


def test_a_summary_that_cannot_be_read_leaves_the_rest_of_the_page(page, monkeypatch,
                                                                   caplog):
    """One panel's failure (here the summary's query) shows in that panel with a
    reference to the log line; the chart and the breakdown still show."""
    from pipelines.queries import QueryError

    def failing(*args, **kwargs):
        raise QueryError("query ticket_summary failed: planted")

    monkeypatch.setattr(q, "ticket_summary", failing)
    RESULTS.clear()
    # an as-of no other test asks: no summary for it in the shared file
    layout = page.layout(asof=(NOW - dt.timedelta(hours=5)).isoformat())
    failed = _find(layout, "explore-summary-unavailable")
    assert failed is not None, "the summary's failure did not show in its panel"
    ref = failed.children[1].children.split()[-1]
    assert any(ref in r.getMessage() and r.exc_info for r in caplog.records)
    assert "planted" not in json.dumps(failed.to_plotly_json(), default=str)
    assert _find(layout, {"type": "explore-chart", "index": "trend"}) is not None
    assert _find(layout, "explore-breakdown-table") is not None


def test_a_page_rebuilt_for_the_same_view_builds_its_panels_once(page, monkeypatch):
    """Another analyst's, a second tab's or Back's request for a view already drawn
    reuses its chart, summary and breakdown, a minute later too: a live view is judged
    at the data cut-off, which only a load moves. Another data version builds them
    afresh."""
    import duckdb

    from dashboards import _data
    from pipelines import queries

    con = duckdb.connect(str(_data.settings().db_path), read_only=True)
    try:
        (cutoff,), = con.execute("select max(reported_at) from tickets").fetchall()
    finally:
        con.close()

    built: list[str] = []

    def counting(name):
        real = getattr(page, name)

        def wrapper(*args):
            built.append(name)
            return real(*args)
        return wrapper

    for name in ("drawn_chart", "summary", "breakdown"):
        monkeypatch.setattr(page, name, counting(name))
    minute = [cutoff + dt.timedelta(hours=2)]
    monkeypatch.setattr(page, "local_now", lambda settings: minute[0])
    RESULTS.clear()
    once = ["breakdown", "drawn_chart", "summary"]
    for _ in range(3):
        page.layout()
    assert sorted(built) == once
    minute[0] += dt.timedelta(minutes=1)
    page.layout()
    assert sorted(built) == once
    real_version = queries.current_version
    monkeypatch.setattr(queries, "current_version", lambda con: real_version(con) + "+")
    page.layout()
    assert sorted(built) == sorted(once * 2)


def test_a_pivot_is_built_for_each_request_not_kept(page, monkeypatch):
    """A two-dimension breakdown (up to 500 x 500 cells) is not held in memory."""
    built: list[str] = []
    real = page.breakdown
    monkeypatch.setattr(page, "breakdown", lambda state: built.append("b") or real(state))
    RESULTS.clear()
    for _ in range(2):
        page.layout(asof=(NOW - dt.timedelta(hours=9)).isoformat(), by="level", by2="period")
    assert built == ["b", "b"]


def test_the_ticket_table_names_handlers_statuses_and_ratings_in_chinese(page):
    """The table's handler, status and rating read in Chinese (物业, 已办结, 满意), as the
    ticket list file names them, not as stored codes."""
    store = _store(page, {})
    answer = page.table_rows({"startRow": 0, "endRow": 100,
                              "sortModel": [{"colId": "reported_at", "sort": "desc"}]}, store)
    con = page._data.reader().cursor()
    try:
        stored = dict(((t, (h, s)) for t, h, s in con.execute(
            "select ticket_id, handler, satisfaction from tickets").fetchall()))
    finally:
        con.close()
    rows = answer["rowData"]
    handlers = {"property": "物业", "community": "社区", "department": "部门",
                "self_governance": "居民自治"}
    ratings = {"satisfied": "满意", "unsatisfied": "不满意"}
    assert rows and {r["handler"] for r in rows} <= set(handlers.values())
    for r in rows:
        handler, rating = stored[r["ticket_id"]]
        assert r["handler"] == handlers[handler]
        assert r["satisfaction"] == (None if rating is None else ratings[rating])
        assert r["status"] in ("在办", "已办结", "超期未办结")
    assert any(r["satisfaction"] for r in rows)


def test_a_live_page_is_judged_at_the_data_cutoff_as_the_wall_says_it(page, monkeypatch):
    """Without `asof` the page states the instant it judges at, and that instant is the
    tickets' newest report (the wall's 截至), not the clock a day later."""
    import duckdb

    from dashboards import _data
    from dashboards._components import fmt_time

    con = duckdb.connect(str(_data.settings().db_path), read_only=True)
    try:
        (cutoff,), = con.execute("select max(reported_at) from tickets").fetchall()
    finally:
        con.close()
    monkeypatch.setattr(page, "local_now", lambda _s: cutoff + dt.timedelta(days=1))
    meta = _find(page.layout(), "explore-asof")
    text = " ".join(c if isinstance(c, str) else str(getattr(c, "children", ""))
                    for c in meta.children)
    assert f"统计时点 {fmt_time(cutoff)}" in text, text
    assert f"figures as of {fmt_time(cutoff)}" in text, text
