"""SQL- and script-injection strings through every explorer URL parameter and filter.

Nothing breaks (pages render, callbacks and downloads answer 200), nothing leaks (no
injected text reaches SQL, no extra rows appear, the tickets table is intact) and text
only ever travels as data (Dash components escape it; CSV cells are formula-escaped).
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import duckdb
import pytest

from dashboards._downloads import escape_cell
from dashboards._explore_state import (BREAKDOWN_VIEWS, EARLIEST, LATEST, LIST_KEYS, MAX_ROW,
                                      PAGE_SIZE, PRESETS, parse_query)
from pipelines.queries import explore as q
from tests.serving_helpers import find_by_id, pages_request, texts
from tests.unit.test_explore_queries import TODAY, build_explore_warehouse

PAYLOADS = [
    "' or 1=1 --",
    "'; drop table tickets; --",
    "\" or \"\"=\"",
    "青龙社区' union select * from load_log --",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "=HYPERLINK(\"http://evil\",\"x\")",
    "${7*7}{{7*7}}",
    "1; select 1",
    "%27%20or%201%3D1",
    "\x00null",
]
KEYS = ("from", "to", *LIST_KEYS, "grain", "measure", "sort", "asof", "row", "preset",
        "ticket", "bview")


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return build_explore_warehouse(tmp_path_factory.mktemp("inject"))


@pytest.fixture(scope="module")
def client(settings):
    import dash

    from app import create_app, reset_pages_state

    app = create_app(settings)
    yield app.server.test_client()
    reset_pages_state()
    dash._pages.PAGE_REGISTRY.clear()


@pytest.fixture(scope="module")
def con(settings):
    c = duckdb.connect(str(settings.db_path), read_only=True)
    yield c
    c.close()


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("key", KEYS)
def test_parse_query__payload_is_data_or_ignored(key, payload):
    query = ({key: payload, "from": "2026-01-01", "to": "2026-03-01"}
             if key not in ("from", "to") else {key: payload})
    if key == "bview":  # a view of a two-dimension breakdown
        query["by2"] = "level"
    state, notices = parse_query(query, TODAY, options={})
    # the state only ever holds validated values or the payload as an opaque value
    assert state.sort in {f"{c}:{d}" for c in q.SORTS for d in q.SORT_DIRECTIONS}
    assert state.grain in q.GRAINS
    assert all(isinstance(v, int) and 1 <= v <= 4 for v in state.get("level"))
    assert set(state.get("status")) <= set(q.STATUSES)
    assert 0 <= state.row <= MAX_ROW and state.row % PAGE_SIZE == 0
    assert state.preset is None or state.preset in PRESETS
    assert state.bview in BREAKDOWN_VIEWS
    if key in ("from", "to", "asof", "level", "status", "row", "preset", "bview"):
        assert notices, "a malformed value must say it was ignored"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_queries__payload_in_every_filter_matches_nothing(con, payload):
    before = con.execute("select count(*) from tickets").fetchone()[0]
    values = {field: (payload,) for key, field in q.FILTER_FIELDS.items()
              if key not in ("level", "status")}
    f = q.TicketFilters(dt.date(2025, 1, 1), dt.date(2026, 12, 31), **values)
    now = dt.datetime(2026, 11, 20, 12)
    assert q.ticket_summary(con, f, now=now)["reported_count"].tolist() == [0, 0, 0]
    assert q.ticket_trend(con, f, now=now).empty
    for dim in q.DIMENSIONS:
        assert q.ticket_breakdown(con, f.without("community"), dimension=dim,
                                  now=now).empty
    page, total = q.ticket_page(con, q.TicketFilters(dt.date(2025, 1, 1),
                                                     dt.date(2026, 12, 31)),
                                now=now, sort=payload, text_filters={
                                    c: payload for c in q.TEXT_FILTERS})
    assert total == 0 and page.empty
    assert q.ticket_detail(con, payload) is None
    assert con.execute("select count(*) from tickets").fetchone()[0] == before


@pytest.mark.parametrize("payload", PAYLOADS)
def test_download__payload_in_every_parameter(client, payload):
    for name in ("tickets", "summary", "trend", "community", "close_time"):
        query = [(k, payload) for k in KEYS]
        r = client.get(f"/download/explore/{name}.csv", query_string=query)
        assert r.status_code == 200, (name, r.status_code)
        text = r.get_data().decode("utf-8")
        assert text.startswith("\ufeff")
        # the only rows possible are aggregates of nothing: no ticket leaks through
        assert "T20" not in text
    traversal = client.get("/download/explore/..%2Fapp.py.csv")
    assert traversal.mimetype != "text/csv"  # not a download (Dash's page shell)
    assert b"create_app" not in traversal.get_data()
    assert client.get("/download/explore/tickets;drop.csv").status_code == 404


@pytest.mark.parametrize("query", [
    "asof=9999-12-31T23:59", "to=9999-12-31", "from=0001-01-01", "asof=0001-01-01T00:00",
    "from=1900-01-01&to=2199-12-31"])
def test_download_and_page__dates_at_the_ends_of_the_calendar(client, query):
    """A date near the end of Python's calendar used to overflow the comparison periods'
    arithmetic (a 500); it is ignored with a notice, and the widest range allowed works."""
    for name in ("summary", "trend", "close_time"):
        r = client.get(f"/download/explore/{name}.csv?{query}")
        assert r.status_code == 200, (name, query, r.get_data()[:300])
    page = client.get(f"/explore/tickets?{query}")
    assert page.status_code == 200
    state, notices = parse_query(dict(p.split("=") for p in query.split("&")),
                                 dt.date(2026, 12, 5))
    assert state.date_from >= EARLIEST and state.date_to <= LATEST
    assert (state.asof is None or EARLIEST <= state.asof.date() <= LATEST)
    assert bool(notices) == ("1900-01-01" not in query), notices


def _callback(client, output: str, inputs: list[tuple[str, str, object]],
              state: list[tuple[str, str, object]] = ()) -> dict:
    """POST one callback as Dash's renderer does; its answer for `output` ("id.prop")."""
    out_id, out_prop = output.rsplit(".", 1)
    r = client.post("/_dash-update-component", json={
        "output": output, "outputs": {"id": out_id, "property": out_prop},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"]})
    assert r.status_code == 200, (output, r.status_code, r.get_data()[:300])
    return r.get_json()["response"][out_id][out_prop]


@pytest.mark.parametrize("payload", PAYLOADS[:6])
def test_pages__payloads_render_as_text_and_match_no_ticket(settings, client, payload):
    # The page as the browser gets it: Dash's pages callback on the hostile URL.
    search = "?" + urlencode([(k, payload) for k in KEYS])
    r = client.post("/_dash-update-component", json=pages_request("/explore/tickets", search))
    assert r.status_code == 200
    page = r.get_json()["response"]["_pages_content"]["children"]
    # text is data inside JSON props (React escapes it); no dangerouslySetInnerHTML
    assert "dangerously" not in json.dumps(page, ensure_ascii=False)
    assert find_by_id(page, "explore-table-slot") is not None  # the page, not an error
    state = find_by_id(page, "explore-state")["props"]["data"]
    notices = " ".join(texts(find_by_id(page, "explore-notices")))
    assert "ignored" in notices or "忽略" in notices, notices  # malformed dates are named

    # The page's summary (built with it) and its table's callback, fed the state the
    # hostile URL produced: they answer, and the payload, used as a filter value,
    # matches no ticket.
    summary = find_by_id(page, "explore-summary")
    assert find_by_id(summary, "explore-empty") is not None, texts(summary)[:20]
    sort_column, direction = state["sort"].split(":")
    rows = _callback(client, "explore-table.getRowsResponse",
                     [("explore-table", "getRowsRequest", {
                         "startRow": 0, "endRow": PAGE_SIZE,
                         "sortModel": [{"colId": sort_column, "sort": direction}],
                         "filterModel": {c: {"filterType": "text", "type": "contains",
                                             "filter": payload} for c in q.TEXT_FILTERS}})],
                     [("explore-state", "data", state)])
    assert rows == {"rowData": [], "rowCount": 0}
    # the same state with no filter but the payload in the table's text filters
    state["values"] = {}
    rows = _callback(client, "explore-table.getRowsResponse",
                     [("explore-table", "getRowsRequest", {
                         "startRow": 0, "endRow": PAGE_SIZE,
                         "sortModel": [{"colId": sort_column, "sort": direction}],
                         "filterModel": {c: {"filterType": "text", "type": "contains",
                                             "filter": payload} for c in q.TEXT_FILTERS}})],
                     [("explore-state", "data", state)])
    assert rows == {"rowData": [], "rowCount": 0}


def test_escape_cell__formula_prefixes():
    assert escape_cell("=1+1") == "'=1+1"
    assert escape_cell("+86") == "'+86"
    assert escape_cell("-2") == "'-2"
    assert escape_cell("@SUM(A1)") == "'@SUM(A1)"
    assert escape_cell("龙塔社区") == "龙塔社区"
    assert escape_cell(-2) == -2
