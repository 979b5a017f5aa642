"""The explorer's URL state: the table's sort and position (`sort=`, `row=`).

Parsing is checked the way test_injection checks every key: only validated values reach
the state, anything else is dropped (with a notice) and never raises.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

import pytest

from dashboards._explore_state import (MAX_ROW, ExploreState, parse_query,
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
