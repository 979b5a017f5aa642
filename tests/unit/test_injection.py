"""SQL- and script-injection strings through every explorer URL parameter and filter.

Nothing breaks (pages render, callbacks and downloads answer 200), nothing leaks (no
injected text reaches SQL, no extra rows appear, the tickets table is intact) and text
only ever travels as data (Dash components escape it; CSV cells are formula-escaped).
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from dashboards import _data
from dashboards._downloads import escape_cell
from dashboards._explore_state import LIST_KEYS, MAX_ROW, PAGE_SIZE, parse_query
from pipelines.queries import explore as q
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
KEYS = ("from", "to", *LIST_KEYS, "grain", "measure", "sort", "asof", "row")


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
    state, notices = parse_query({key: payload, "from": "2026-01-01", "to": "2026-03-01"}
                                 if key not in ("from", "to") else {key: payload},
                                 TODAY, options={})
    # the state only ever holds validated values or the payload as an opaque value
    assert state.sort in {f"{c}:{d}" for c in q.SORTS for d in q.SORT_DIRECTIONS}
    assert state.grain in q.GRAINS
    assert all(isinstance(v, int) and 1 <= v <= 4 for v in state.get("level"))
    assert set(state.get("status")) <= set(q.STATUSES)
    assert 0 <= state.row <= MAX_ROW and state.row % PAGE_SIZE == 0
    if key in ("from", "to", "asof", "level", "status", "row"):
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


@pytest.mark.parametrize("payload", PAYLOADS[:6])
def test_pages__layout_renders_payloads_as_text(settings, client, payload):
    import dashboards.explore_tickets as page

    _data.configure(settings)
    query = {k: payload for k in KEYS}
    tree = page.layout(**query)
    rendered = json.dumps(tree.to_plotly_json(), default=lambda o: o.to_plotly_json()
                          if hasattr(o, "to_plotly_json") else str(o), ensure_ascii=False)
    # text is data inside JSON props (React escapes it); no dangerouslySetInnerHTML
    assert "dangerously" not in rendered
    r = client.get("/explore/tickets", query_string=[(k, payload) for k in KEYS])
    assert r.status_code == 200


def test_escape_cell__formula_prefixes():
    assert escape_cell("=1+1") == "'=1+1"
    assert escape_cell("+86") == "'+86"
    assert escape_cell("-2") == "'-2"
    assert escape_cell("@SUM(A1)") == "'@SUM(A1)"
    assert escape_cell("龙塔社区") == "龙塔社区"
    assert escape_cell(-2) == -2
