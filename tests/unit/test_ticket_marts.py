"""After a tickets load the ticket marts hold exactly what a rebuild from `tickets` would,
though a load updates them only for the tickets it adds or replaces (pipelines/derived.py):
moved between months and communities, a value's last ticket gone, a new value, duplicates
and unchanged rows, a new time limit that changes every ticket's deadline, and the open tickets' horizon
moving on and back."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines import derived
from pipelines.loader import load_files
from pipelines.settings import parse_sla
from tests.factories import ticket_row, write_csv

MARTS = ("ticket_dimension_values", "wall_closure_monthly", "open_tickets_since",
         "open_tickets", "ticket_summary_daily", "ticket_close_hours")


def stored_and_rebuilt(settings) -> dict[str, tuple[list, list]]:
    """Per mart: its rows as stored, and the rows its SQL gives over `tickets` now."""
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        every = {"months": None, "since": None, "until": None}
        # a counted mart's figures are its rows and pending rows summed (migration 0021)
        stored = {m: derived.counted_sql(con, m) if m in derived.COUNTED_MARTS
                  else f"select * from {m}" for m in MARTS}
        return {m: (con.execute(f"select * from ({stored[m]}) order by all").fetchall(),
                    con.execute(f"select * from ({derived.mart_sql(m)}) order by all",
                                every if m == "wall_closure_monthly" else {}).fetchall())
                for m in MARTS}
    finally:
        con.close()


def assert_as_rebuilt(settings) -> None:
    for mart, (stored, rebuilt) in stored_and_rebuilt(settings).items():
        assert stored == rebuilt, mart


def load(settings, tmp_path, name, rows):
    return load_files(settings, "tickets", [write_csv(tmp_path / name, rows)])


def test_ticket_marts__equal_a_rebuild_after_updates_that_move_tickets(settings, tmp_path,
                                                                    merge_every_load):
    base = [ticket_row(ticket_id=f"A{m}{i}", reported_at=f"2025-0{m}-1{i} 09:00:00",
                       accepted_at="", responded_at="", closed_at="", updated_at="",
                       community=c, grid=f"{c}第{i}网格")
            for i in range(4) for m, c in ((6, "龙塔社区"), (7, "望江社区"))]
    base.append(ticket_row(ticket_id="ONLY", grid="孤网格", handler="street"))
    load(settings, tmp_path, "base.csv", base)
    assert_as_rebuilt(settings)
    (report,) = load(settings, tmp_path, "update.csv", [
        # June to August, 龙塔 to a community not seen before, closed on time
        ticket_row(ticket_id="A60", reported_at="2025-08-01 09:00:00", community="新社区",
                   grid="新社区第1网格", closed_at="2025-08-01 10:00:00"),
        # the only ticket of its grid and handler takes others: those values go
        ticket_row(ticket_id="ONLY", grid="龙塔社区第1网格", handler="property"),
        # an unchanged row, a new ticket, and a duplicate whose later row wins
        base[3], ticket_row(ticket_id="NEW", reported_at="2025-07-30 23:59:59"),
        ticket_row(ticket_id="A61", category="环境卫生"),
        ticket_row(ticket_id="A61", category="物业维修"),
    ])
    assert (report.updated, report.inserted, report.unchanged, report.duplicates) == \
        (3, 1, 1, 1)
    assert_as_rebuilt(settings)
    offered = {(d, v) for d, v, _ in stored_and_rebuilt(settings)[MARTS[0]][0]}
    assert ("grid", "孤网格") not in offered and ("handler", "street") not in offered
    assert ("community", "新社区") in offered


def test_ticket_marts__a_new_time_limit_recounts_months_the_load_did_not_touch(
        make_settings, tmp_path):
    june = ticket_row(ticket_id="J", level="2", reported_at="2025-06-02 09:00:00",
                      accepted_at="2025-06-02 09:00:00", closed_at="2025-06-04 12:00:00",
                      updated_at="2025-06-04 12:00:00")
    load(make_settings(), tmp_path, "june.csv", [june])
    on_time = "select on_time_count from wall_closure_monthly where month = '2025-06-01'"
    con = duckdb.connect(str(make_settings().db_path), read_only=True)
    assert con.execute(on_time).fetchall() == [(1,)]  # 3 days allowed, closed in 2
    con.close()
    # one day allowed from now on: June's ticket is late, though this load is September's
    stricter = make_settings(sla=parse_sla("1=same_day,2=days:1,3=workdays:5,4=workdays:15"))
    load(stricter, tmp_path, "september.csv", [ticket_row(ticket_id="S")])
    con = duckdb.connect(str(stricter.db_path), read_only=True)
    assert con.execute(on_time).fetchall() == [(0,)]
    con.close()
    assert_as_rebuilt(stricter)


def test_ticket_marts__a_month_whose_latest_closure_moves_earlier_settles_earlier(
        settings, tmp_path):
    # settled_after is June's latest report or closure: A's closure on the 20th, until
    # an update closes A on the 3rd; then B's closure on the 5th (a maximum cannot be
    # moved by a difference: the month is recounted)
    a, b = (ticket_row(ticket_id=t, reported_at="2025-06-02 09:00:00",
                       accepted_at="2025-06-02 09:00:00", responded_at="",
                       closed_at=f"2025-06-{day} 12:00:00",
                       updated_at=f"2025-06-{day} 12:00:00")
            for t, day in (("A", 20), ("B", "05")))
    load(settings, tmp_path, "june.csv", [a, b])
    settled = "select distinct settled_after from wall_closure_monthly"
    con = duckdb.connect(str(settings.db_path), read_only=True)
    assert con.execute(settled).fetchall() == [(dt.datetime(2025, 6, 20, 12),)]
    con.close()
    (report,) = load(settings, tmp_path, "update.csv", [
        {**a, "closed_at": "2025-06-03 12:00:00", "updated_at": "2025-06-21 08:00:00"}])
    assert report.updated == 1
    con = duckdb.connect(str(settings.db_path), read_only=True)
    assert con.execute(settled).fetchall() == [(dt.datetime(2025, 6, 5, 12),)]
    con.close()
    assert_as_rebuilt(settings)


def open_ids(settings) -> set[str]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return {t for (t,) in con.execute("select ticket_id from open_tickets").fetchall()}
    finally:
        con.close()


def test_open_tickets__equal_a_rebuild_as_the_horizon_moves_on_and_back(
        settings, tmp_path, monkeypatch):
    rebuilt = []
    rebuild = derived._rebuild
    monkeypatch.setattr(derived, "_rebuild",
                        lambda con, table, params=None: (rebuilt.append(table),
                                                         rebuild(con, table, params)))

    def ticket(ticket_id, reported, closed, updated=None):
        return ticket_row(ticket_id=ticket_id, reported_at=reported, accepted_at=reported,
                          responded_at="", closed_at=closed,
                          updated_at=updated or closed or reported)

    # the horizon is the day before the newest report's day: 09-22 00:00
    base = [ticket("OPEN", "2025-09-01 09:00:00", ""),
            ticket("SHUT20", "2025-09-01 09:00:00", "2025-09-20 12:00:00"),
            ticket("SHUT22", "2025-09-02 09:00:00", "2025-09-22 12:00:00"),
            ticket("SHUT23", "2025-09-03 09:00:00", "2025-09-23 12:00:00"),
            ticket("NEWEST", "2025-09-23 09:00:00", "")]
    load(settings, tmp_path, "base.csv", base)
    assert open_ids(settings) == {"OPEN", "SHUT22", "SHUT23", "NEWEST"}
    assert_as_rebuilt(settings)

    # a report two days on moves the horizon to 09-24: SHUT22 and SHUT23 leave; OPEN,
    # closed after the horizon, stays; SHUT20, reopened, comes back
    rebuilt.clear()
    load(settings, tmp_path, "later.csv", [
        ticket("LATER", "2025-09-25 08:00:00", ""),
        ticket("OPEN", "2025-09-01 09:00:00", "2025-09-24 12:00:00"),
        ticket("SHUT20", "2025-09-01 09:00:00", "", updated="2025-09-25 07:00:00")])
    assert "open_tickets" not in rebuilt  # moved by the load's rows
    assert open_ids(settings) == {"OPEN", "SHUT20", "NEWEST", "LATER"}
    assert_as_rebuilt(settings)

    # the newest day's ticket is closed (a center's regular update): the horizon stays,
    # so the open tickets are moved by the load's rows, not rebuilt
    rebuilt.clear()
    load(settings, tmp_path, "closed.csv", [
        ticket("LATER", "2025-09-25 08:00:00", "2025-09-25 18:00:00")])
    assert "open_tickets" not in rebuilt
    assert open_ids(settings) == {"OPEN", "SHUT20", "NEWEST", "LATER"}
    assert_as_rebuilt(settings)

    # reopened, and then the newest day's only ticket moves back to 09-20: the horizon
    # goes back to 09-22
    # (rebuilt), and SHUT22 and SHUT23 return
    rebuilt.clear()
    load(settings, tmp_path, "back.csv", [
        ticket("LATER", "2025-09-20 08:00:00", "", updated="2025-09-26 09:00:00")])
    assert "open_tickets" in rebuilt
    assert open_ids(settings) == {"OPEN", "SHUT20", "SHUT22", "SHUT23", "NEWEST", "LATER"}
    assert_as_rebuilt(settings)
def test_summary_marts__move_with_a_load_that_changes_level_closure_and_rating(
        settings, tmp_path, merge_every_load):
    # the explorer summary's marts (migration 0020): per reported day, community,
    # category, level, closure day, deadline day or hours to close
    base = [ticket_row(ticket_id=f"S{i}", reported_at=f"2025-06-0{i + 1} 09:00:00",
                       accepted_at=f"2025-06-0{i + 1} 09:00:00", responded_at="",
                       closed_at=f"2025-06-0{i + 1} 1{i}:00:00", satisfaction="")
            for i in range(4)]
    load(settings, tmp_path, "base.csv", base)
    assert_as_rebuilt(settings)
    (report,) = load(settings, tmp_path, "update.csv", [
        # a level 3, closed days later, rated; reopened (closure gone); moved to
        # another category and day; and a new ticket in an existing key
        {**base[0], "level": "3", "closed_at": "2025-06-05 08:00:00",
         "satisfaction": "satisfied", "updated_at": "2025-10-01 08:00:00"},
        {**base[1], "closed_at": "", "updated_at": "2025-10-01 08:00:00"},
        {**base[2], "category": "环境卫生", "reported_at": "2025-06-02 09:00:00",
         "updated_at": "2025-10-01 08:00:00"},
        {**base[3], "ticket_id": "S9"},
    ])
    assert (report.updated, report.inserted) == (3, 1)
    assert_as_rebuilt(settings)


def test_summary_marts__a_load_moves_only_the_keys_it_touches(settings, tmp_path):
    # a row planted in a day the load does not touch stays: the load moved counts,
    # it did not rebuild the marts (a rebuild at 10M costs seconds of CPU)
    load(settings, tmp_path, "base.csv", [ticket_row(ticket_id="K1")])
    con = duckdb.connect(str(settings.db_path))
    con.execute("insert into ticket_close_hours values "
                "('2020-01-01', '城市管理', 1, '2020-01-01', 1.0, 7)")
    con.close()
    load(settings, tmp_path, "more.csv", [ticket_row(ticket_id="K2")])
    con = duckdb.connect(str(settings.db_path), read_only=True)
    assert con.execute("select ticket_count from ticket_close_hours "
                       "where reported_on = '2020-01-01'").fetchall() == [(7,)]
    # the load's own key moved: two tickets reported 09:00, closed 15:00 (6 h)
    assert con.execute(f"select ticket_count from "
                       f"({derived.counted_sql(con, 'ticket_close_hours')}) where "
                       "reported_on = '2025-09-23'").fetchall() == [(2,)]
    assert con.execute(f"select rollup, reported_count from "
                       f"({derived.counted_sql(con, 'ticket_summary_daily')}) where "
                       "reported_on = '2025-09-23' order by 1").fetchall() == [
        (0, 2), (1, 2), (2, 2), (3, 2)]
    con.close()


@pytest.fixture(params=["pending", "merged"])
def merge_every_load(request, monkeypatch):
    """Run with the load's changes left pending (the default for small loads) or merged
    into the marts at every load."""
    if request.param == "merged":
        monkeypatch.setattr(derived, "PENDING_MERGE_ROWS", 1)
    return request.param == "merged"


def test_summary_marts__pending_rows_are_merged_when_many(settings, tmp_path,
                                                         merge_every_load):
    # migration 0021: a load appends its changes to the pending rows; once they are
    # many they move into the mart, which then holds exactly a rebuild's rows
    base = [ticket_row(ticket_id=f"P{i}", reported_at=f"2025-06-0{i + 1} 09:00:00",
                       closed_at=f"2025-06-0{i + 1} 1{i}:00:00") for i in range(4)]
    load(settings, tmp_path, "base.csv", base)
    load(settings, tmp_path, "update.csv", [
        {**base[0], "closed_at": "2025-06-03 08:00:00", "updated_at": "2025-10-01 08:00:00"},
        {**base[1], "closed_at": "", "updated_at": "2025-10-01 08:00:00"},
        ticket_row(ticket_id="P9", reported_at="2025-06-01 09:00:00",
                   closed_at="2025-06-01 10:00:00")])
    assert_as_rebuilt(settings)
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        for mart in derived.COUNTED_MARTS:
            (pending,), = con.execute(f"select count(*) from {mart}_pending").fetchall()
            stored = con.execute(f"select * from {mart} order by all").fetchall()
            rebuilt = con.execute(f"select * from ({derived.mart_sql(mart)}) "
                                  "order by all").fetchall()
            if merge_every_load:
                assert (pending, stored) == (0, rebuilt), mart
            else:  # the mart is the first load's; the update is all pending
                assert pending > 0 and stored != rebuilt, mart
    finally:
        con.close()
