"""/explore/warnings view state: the URL reproduces the view, bad values are dropped with
a notice, and each warning links to the explorer page behind it with filters that page
understands."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboards._explore_state import parse_query
from pipelines.queries import warnings as wq

TODAY = dt.date(2026, 12, 3)


@pytest.fixture(scope="module")
def page():
    from dashboards import _warnings_view

    return _warnings_view


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_parse_view__defaults_to_active_warnings_of_the_last_90_days(page):
    view, notices = page.parse_view({}, TODAY)
    assert (view.status, view.date_to, view.date_from) == (
        wq.ACTIVE, TODAY, TODAY - dt.timedelta(days=89))
    assert notices == []


def test_parse_view__the_url_it_writes_reproduces_the_view(page):
    for query in ({"status": "all", "kind": ["anomaly"], "community": ["龙塔社区", "和平社区"]},
                  {"status": ["resolved"], "severity": ["critical", "high"],
                   "from": "2026-10-01", "to": "2026-10-31"}):
        view, _ = page.parse_view(query, TODAY)
        again, notices = page.parse_view(query_of(view.search()), TODAY)
        assert again == view and notices == []
    view, _ = page.parse_view({"status": "all"}, TODAY)
    assert view.status == () and "status=all" in view.search()


def test_parse_view__drops_unknown_values_with_a_notice(page):
    view, notices = page.parse_view(
        {"severity": ["red", "high"], "kind": "x' or 1=1", "from": "yesterday"}, TODAY)
    assert (view.severity, view.kind) == (("high",), ())
    assert len(notices) == 3


def warning(**values) -> dict:
    base = dict(rule_id="level4_open", community="龙塔社区", grid="龙塔社区第2网格",
                category="物业维修", compound="金桂苑", vote_id=None, source=None,
                subject="T2026000123", window_from=dt.datetime(2026, 12, 1, 8, 30),
                window_to=dt.datetime(2026, 12, 3, 9, 0))
    base.update(values)
    return base


def test_drill_link__tickets_behind_a_rule_open_in_the_ticket_explorer(page):
    link = page.drill_link(warning())
    assert link.startswith("/explore/tickets?")
    state, notices = parse_query(query_of(link), TODAY)
    assert notices == []
    assert (state.date_from, state.date_to) == (dt.date(2026, 12, 1), dt.date(2026, 12, 3))
    assert state.get("community") == ("龙塔社区",) and state.get("category") == ("物业维修",)
    assert state.get("level") == (4,) and state.get("status") == ("open",)


def test_drill_link__a_surge_shows_its_cell_over_its_window(page):
    link = page.drill_link(warning(rule_id="surge_week", subject=None,
                                   window_from=dt.datetime(2026, 11, 27)))
    state, _ = parse_query(query_of(link), TODAY)
    assert (state.date_from, state.get("grid")) == (dt.date(2026, 11, 27),
                                                    ("龙塔社区第2网格",))
    assert state.get("level") == ()


def test_drill_link__ledger_and_vote_warnings_open_their_own_pages(page):
    link = page.drill_link(warning(rule_id="expense_spike", subject="2026-02"))
    assert link.startswith("/explore/accounts?")
    assert query_of(link) == {"from": ["2026-02-01"], "to": ["2026-02-28"],
                              "compound": ["金桂苑"]}
    link = page.drill_link(warning(rule_id="vote_at_risk", vote_id="V1", subject="增设充电桩"))
    assert link.startswith("/explore/participation?")
    assert query_of(link) == {"compound": ["金桂苑"], "state": ["open"]}
    assert page.drill_link(warning(rule_id="source_stale", source="tickets")) == "/status"


def test_warning_list__the_exports_rows_filtered_most_severe_then_active_then_newest():
    import duckdb

    from pipelines import warehouse

    con = duckdb.connect()
    warehouse.migrate(con)
    day = dt.datetime(2026, 12, 1, 9)
    for key, severity, status, seen, community in (
        ("a", "high", "resolved", day, "龙塔社区"),
        ("b", "high", "ongoing", day - dt.timedelta(days=2), "龙塔社区"),
        ("c", "high", "new", day, "龙塔社区"),
        ("d", "critical", "resolved", day, "枫林社区"),
        ("e", "medium", "resolved", day - dt.timedelta(days=200), "龙塔社区"),  # before
    ):
        con.execute(
            "insert into warnings (warning_id, warning_key, kind, rule_id, severity, "
            "community, title, unit, definition, first_seen_at, last_seen_at, "
            "resolved_at, status) values ($k, $k, 'rule', 'overdue_open', $sev, $c, $k, "
            "'tickets', '', $seen, $seen, $res, $st)",
            {"k": key, "sev": severity, "c": community, "seen": seen, "st": status,
             "res": seen if status == "resolved" else None})
    period = {"date_from": TODAY - dt.timedelta(days=30), "date_to": TODAY}
    everything = wq.warning_list(con, wq.WarningFilters(**period))
    assert everything["warning_id"].to_pylist() == ["d", "c", "b", "a"]
    active_here = wq.warning_list(con, wq.WarningFilters(
        **period, statuses=wq.ACTIVE, communities=("龙塔社区",)), max_rows=1)
    assert active_here["warning_id"].to_pylist() == ["c"]


def test_parse_view__a_preset_sets_the_dates_and_the_link_keeps_the_preset(page):
    view, notices = page.parse_view({"preset": "last_month", "from": "2025-01-01"}, TODAY)
    assert (view.date_from, view.date_to) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert notices == [] and query_of(view.search())["preset"] == ["last_month"]
    assert "from" not in query_of(view.search())
    later, _ = page.parse_view(query_of(view.search()), dt.date(2027, 1, 5))
    assert later.date_from == dt.date(2026, 12, 1)  # still "上月", a month on
    view, notices = page.parse_view({"preset": "fortnight"}, TODAY)
    assert view.preset is None and view.date_to == TODAY and len(notices) == 1
