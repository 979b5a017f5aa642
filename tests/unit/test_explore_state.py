"""The explorer's URL state: the table's sort and position (`sort=`, `row=`).

Parsing is checked the way test_injection checks every key: only validated values reach
the state, anything else is dropped (with a notice) and never raises.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

import pytest

from dashboards._explore_state import (MAX_ROW, ExploreState, parse_query, preset_label,
                                       sort_from_columns)

TODAY = dt.date(2026, 11, 20)
VIEW = {"from": "2026-01-01", "to": "2026-06-30"}


@pytest.mark.parametrize(("raw", "row"), [
    ("0", 0), ("50", 50), ("149", 100), (str(MAX_ROW), MAX_ROW),
])
def test_parse_query__row_rounds_down_to_its_page(raw, row):
    state, notices = parse_query({**VIEW, "row": raw}, TODAY)
    assert state.row == row and notices == []


@pytest.mark.parametrize("raw", [
    "-50", "abc", "1e3", "50.0", " 50", "0x10", "²", "٣", str(MAX_ROW + 1), "9" * 40, "",
])
def test_parse_query__bad_row_is_ignored_with_a_notice(raw):
    state, notices = parse_query({**VIEW, "row": raw}, TODAY)
    assert state.row == 0
    if raw:  # an empty value is no value
        assert any("row=" in n.en for n in notices)


def test_parse_query__repeated_row_takes_the_last():
    state, _ = parse_query({**VIEW, "row": ["100", "250"]}, TODAY)
    assert state.row == 250


def test_search__row_round_trips_and_the_top_is_not_written():
    state, _ = parse_query({**VIEW, "sort": "closed_at:asc", "row": "300"}, TODAY)
    assert state.search().endswith("&sort=closed_at%3Aasc&row=300")
    again, _ = parse_query(dict(parse_qsl(state.search().lstrip("?"))), TODAY)
    assert again == state
    top, _ = parse_query(VIEW, TODAY)
    assert "row" not in top.search() and "sort" not in top.search()


def test_store__keeps_the_row():
    state, _ = parse_query({**VIEW, "row": "450"}, TODAY)
    assert ExploreState.from_store(state.to_store()) == state
    old = state.to_store()
    del old["row"]  # a store written before `row` existed
    assert ExploreState.from_store(old).row == 0


@pytest.mark.parametrize(("columns", "sort"), [
    ([{"colId": "closed_at", "sort": "asc", "sortIndex": 0}], "closed_at:asc"),
    ([{"colId": "ticket_id", "sort": "desc", "sortIndex": None}], "ticket_id:desc"),
    ([{"colId": "level", "sort": "asc", "sortIndex": 1},
      {"colId": "category", "sort": "desc", "sortIndex": 0},
      {"colId": "grid", "sort": None}], "category:desc"),
    # third header click: no column sorted -> the default
    ([{"colId": "closed_at", "sort": None}, {"colId": "level"}], "reported_at:desc"),
    ([], "reported_at:desc"),
    (None, "reported_at:desc"),
    # not allow-listed or malformed: the default, never the raw text
    ([{"colId": "description", "sort": "asc", "sortIndex": 0}], "reported_at:desc"),
    ([{"colId": "level; drop table tickets", "sort": "asc"}], "reported_at:desc"),
    ([{"colId": "level", "sort": "sideways"}], "reported_at:desc"),
    (["level", 3, None], "reported_at:desc"),
])
def test_sort_from_columns(columns, sort):
    assert sort_from_columns(columns) == sort


def test_sort_from_columns__round_trips_through_the_url():
    sort = sort_from_columns([{"colId": "deadline_at", "sort": "desc", "sortIndex": 0}])
    state, _ = parse_query({**VIEW, "sort": sort}, TODAY)
    assert state.sort == "deadline_at:desc" and "sort=deadline_at%3Adesc" in state.search()


# ------------------------------------------------------------------ time
def test_parse_query__default_window_ends_at_the_asof_not_today():
    state, notices = parse_query({"asof": "2026-11-20T12:00"}, dt.date(2026, 12, 3))
    assert (state.date_from, state.date_to) == (dt.date(2026, 8, 23), dt.date(2026, 11, 20))
    assert notices == [] and not state.explicit_dates


@pytest.mark.parametrize(("preset", "dates", "running"), [
    ("today", ("2026-11-20", "2026-11-20"), True),
    ("this_week", ("2026-11-16", "2026-11-20"), True),  # 11-20 is a Friday
    ("last_week", ("2026-11-09", "2026-11-15"), False),
    ("this_month", ("2026-11-01", "2026-11-20"), True),
    ("last_month", ("2026-10-01", "2026-10-31"), False),
    ("this_quarter", ("2026-10-01", "2026-11-20"), True),
    ("last_quarter", ("2026-07-01", "2026-09-30"), False),
    ("ytd", ("2026-01-01", "2026-11-20"), True),
    ("last_30", ("2026-10-22", "2026-11-20"), True),
    ("last_90", ("2026-08-23", "2026-11-20"), True),
])
def test_presets__dates_at_the_asof_and_running_ones_marked(preset, dates, running):
    state, notices = parse_query({"preset": preset, "asof": "2026-11-20T12:00"},
                                 dt.date(2026, 12, 3))
    assert notices == [] and state.preset == preset
    assert (state.date_from.isoformat(), state.date_to.isoformat()) == dates
    assert preset_label(preset).endswith("（至今）") is running


def test_preset__the_link_keeps_the_preset_not_the_dates():
    state, _ = parse_query({"preset": "last_month", "from": "2025-01-01"}, TODAY)
    assert (state.date_from, state.date_to) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert dict(parse_qsl(state.search()[1:])) == {"preset": "last_month"}
    later, _ = parse_query(dict(parse_qsl(state.search()[1:])), dt.date(2027, 1, 5))
    assert later.date_from == dt.date(2026, 12, 1)  # still "上月", a month on
    assert ExploreState.from_store(state.to_store()) == state


def test_preset__unknown_is_ignored_with_a_notice():
    state, notices = parse_query({"preset": "fortnight"}, TODAY)
    assert state.preset is None and any("preset" in n.en for n in notices)


def test_freeze__pins_the_asof_and_resolves_the_preset_into_dates():
    state, _ = parse_query({"preset": "this_month", "level": "3"}, TODAY)
    frozen = state.frozen(dt.datetime(2026, 11, 20, 9, 30, 15, 123))
    query = dict(parse_qsl(frozen.search()[1:]))
    assert query == {"from": "2026-11-01", "to": "2026-11-20", "level": "3",
                     "asof": "2026-11-20T09:30:15"}
    reopened, _ = parse_query(query, dt.date(2027, 3, 1))
    assert (reopened.date_from, reopened.date_to, reopened.asof) == (
        frozen.date_from, frozen.date_to, frozen.asof)
    assert "asof" not in dict(parse_qsl(reopened.live().search()[1:]))


def test_date_change__drops_the_preset_and_keeps_the_open_ticket():
    state, _ = parse_query({"preset": "last_month", "ticket": "T-000123"}, TODAY)
    moved = state.with_dates(dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert moved.preset is None and moved.ticket == "T-000123"
    assert dict(parse_qsl(moved.search()[1:]))["ticket"] == "T-000123"
    assert "ticket" not in moved.view_only().search()


def test_time_controls__asof_field_freeze_and_preset():
    from dashboards._explore_time import apply_time

    now = dt.datetime(2026, 12, 3, 9, 15)
    state, _ = parse_query({"preset": "last_month"}, now.date())
    typed = apply_time(state, "asof-input", "2026-11-20 12:00", now)
    # 上月 of the typed instant, not of today
    assert typed.asof == dt.datetime(2026, 11, 20, 12) and typed.date_from == dt.date(
        2026, 10, 1)
    assert apply_time(state, "asof-input", "20 Nov", now) is None  # malformed: no move
    assert apply_time(typed, "asof-input", "", now).asof is None  # empty: live
    frozen = apply_time(state, "freeze", 1, now)
    assert (frozen.asof, frozen.preset, frozen.date_to) == (now, None, dt.date(2026, 11, 30))
    assert apply_time(state, "preset", None, now).preset is None


def test_bview__the_heatmap_choice_is_in_the_link_and_needs_two_dimensions():
    state, notices = parse_query({"by": "category", "by2": "level", "bview": "heatmap"},
                                 TODAY)
    assert state.bview == "heatmap" and notices == []
    assert dict(parse_qsl(state.search()[1:]))["bview"] == "heatmap"
    assert parse_query(dict(parse_qsl(state.search()[1:])), TODAY)[0].bview == "heatmap"
    assert ExploreState.from_store(state.to_store()) == state
    # one dimension has no heatmap; the default pivot is not written
    assert parse_query({"bview": "heatmap"}, TODAY)[0].bview == "pivot"
    assert "bview" not in parse_query({"by2": "level"}, TODAY)[0].search()
    state, notices = parse_query({"by2": "level", "bview": "<svg>"}, TODAY)
    assert state.bview == "pivot" and len(notices) == 1
