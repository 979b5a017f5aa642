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
    out["breakdown"] = _json(page.show_breakdown(store))
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
        page.show_breakdown(store)
    assert sorted(calls) == ["ticket_breakdown", "ticket_measure_breakdown",
                             "ticket_trend"]
    # another view (other dates) is computed, not served from the first one's
    later = dict(store, date_from=(NOW.date() - dt.timedelta(days=9)).isoformat())
    page.show_chart(True, later, {"index": "trend"})
    assert calls.count("ticket_trend") == 2
