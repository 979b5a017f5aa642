""""Open at now" is defined once (macro tickets_open_at, migration 0019) and read from
the small open_tickets mart when the instant allows: at every instant it gives exactly
the tickets reported by then and not closed by then, after each load, and the wall's
figures are the same from the mart as from the whole tickets table."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import duckdb
import pytest

from pipelines.loader import load_files
from pipelines.queries import wall
from tests.factories import ticket_row, write_csv

CUTOFF = datetime(2025, 9, 23, 9, 0)  # the newest report
HORIZON = datetime(2025, 9, 22)  # the day before the cut-off's day
COLUMNS = ("ticket_id, reported_at, accepted_at, responded_at, escalated_at, closed_at, "
           "level, category, community, grid, compound, source, handler, satisfaction, "
           "due_on, deadline_at")
# the cut-off, the alarm strip's hour before it, the horizon and either side of it,
# a clock after the cut-off, and a month back (a comparison: the tickets table)
INSTANTS = (CUTOFF, CUTOFF - timedelta(hours=1), HORIZON, HORIZON - timedelta(seconds=1),
            datetime(2025, 9, 22, 11), datetime(2025, 9, 23, 15), datetime(2025, 9, 12),
            datetime(2025, 8, 20))


def _open(**kw) -> dict:
    return ticket_row(closed_at="", updated_at="", responded_at="", accepted_at="", **kw)


FIRST_LOAD = [
    _open(ticket_id="OPEN", level="2", reported_at="2025-09-10 09:00:00"),
    # open at the cut-off, closed after it (the data's cut-off is not the wall clock)
    ticket_row(ticket_id="CLOSED_AFTER_CUTOFF", level="3",
               reported_at="2025-09-20 09:00:00", closed_at="2025-09-23 11:00:00"),
    ticket_row(ticket_id="CLOSED_BEFORE_HORIZON", reported_at="2025-09-01 09:00:00",
               closed_at="2025-09-15 10:00:00"),
    ticket_row(ticket_id="CLOSED_AFTER_HORIZON", reported_at="2025-09-21 09:00:00",
               closed_at="2025-09-22 12:00:00"),
    _open(ticket_id="ESCALATED", level="4", reported_at="2025-09-05 09:00:00",
          escalated_at="2025-09-06 09:00:00"),
    _open(ticket_id="OLD_OPEN", reported_at="2024-12-01 09:00:00"),
    _open(ticket_id="NEWEST", reported_at="2025-09-23 09:00:00"),
]


def _load(settings, tmp_path, name: str, rows: list[dict]) -> None:
    load_files(settings, "tickets", [write_csv(tmp_path / name, rows)])


def _open_rows(con, as_of: datetime) -> tuple[list, list]:
    """(tickets_open_at(as_of), the same by independent SQL over every ticket)."""
    macro = con.execute(f"select {COLUMNS} from tickets_open_at($t) order by ticket_id",
                        {"t": as_of}).fetchall()
    direct = con.execute(
        f"select {COLUMNS} from tickets where reported_at <= $t "
        "and (closed_at is null or closed_at > $t) order by ticket_id", {"t": as_of}
    ).fetchall()
    return macro, direct


@pytest.fixture
def loaded(settings, tmp_path):
    _load(settings, tmp_path, "first.csv", FIRST_LOAD)
    return settings


def test_tickets_open_at__equals_the_definition_at_every_instant(loaded):
    con = duckdb.connect(str(loaded.db_path), read_only=True)
    try:
        assert con.execute("select horizon_at from open_tickets_since").fetchall() == \
            [(HORIZON,)]
        for as_of in INSTANTS:
            macro, direct = _open_rows(con, as_of)
            assert macro == direct, as_of
        ids = [r[0] for r in _open_rows(con, CUTOFF)[0]]
        assert ids == ["CLOSED_AFTER_CUTOFF", "ESCALATED", "NEWEST", "OLD_OPEN", "OPEN"]
    finally:
        con.close()


def test_open_tickets__holds_every_ticket_not_closed_by_the_horizon(loaded):
    con = duckdb.connect(str(loaded.db_path), read_only=True)
    try:
        held = [r[0] for r in con.execute(
            "select ticket_id from open_tickets order by ticket_id").fetchall()]
    finally:
        con.close()
    assert held == ["CLOSED_AFTER_CUTOFF", "CLOSED_AFTER_HORIZON", "ESCALATED", "NEWEST",
                    "OLD_OPEN", "OPEN"]


def test_open_tickets__a_later_load_that_closes_reopens_and_adds_moves_it(
        loaded, tmp_path):
    _load(loaded, tmp_path, "second.csv", [
        ticket_row(ticket_id="OPEN", level="2", reported_at="2025-09-10 09:00:00",
                   closed_at="2025-09-24 08:00:00"),
        # reopened: its closure withdrawn by the source system
        _open(ticket_id="CLOSED_BEFORE_HORIZON", reported_at="2025-09-01 09:00:00"),
        _open(ticket_id="LATER", reported_at="2025-09-25 10:00:00"),
    ])
    con = duckdb.connect(str(loaded.db_path), read_only=True)
    try:
        assert con.execute("select horizon_at from open_tickets_since").fetchall() == \
            [(datetime(2025, 9, 24),)]
        for as_of in (*INSTANTS, datetime(2025, 9, 25, 10), datetime(2025, 9, 24, 7)):
            macro, direct = _open_rows(con, as_of)
            assert macro == direct, as_of
        ids = [r[0] for r in _open_rows(con, datetime(2025, 9, 25, 10))[0]]
        assert ids == ["CLOSED_BEFORE_HORIZON", "ESCALATED", "LATER", "NEWEST", "OLD_OPEN"]
    finally:
        con.close()


def _ticket_views(db, now: datetime, settings) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = wall.existing_tables(con)
        out = {(v, c): wall.wall_view_data(con, v, now=now, settings=settings,
                                           tables=tables, filters={"community": c})
               for v in ("levels", "closure", "map") for c in (None, "龙塔社区")}
        out["alarms"] = wall.alarm_data(con, wall.Clock.at(now), settings=settings,
                                        tables=tables)
        return out
    finally:
        con.close()


def test_wall_figures__the_same_from_the_mart_as_from_every_ticket(loaded, tmp_path):
    # without a horizon tickets_open_at reads the tickets table: migration 0006's reading
    whole = tmp_path / "whole.duckdb"
    shutil.copy(loaded.db_path, whole)
    con = duckdb.connect(str(whole))
    con.execute("delete from open_tickets_since")
    con.execute("delete from open_tickets")
    con.close()
    for now in (datetime(2025, 9, 12), CUTOFF + timedelta(hours=3)):
        from_mart = _ticket_views(loaded.db_path, now, loaded)
        assert from_mart == _ticket_views(whole, now, loaded), now
    # at the cut-off (09:00) CLOSED_AFTER_CUTOFF (closed at 11:00) is still open
    levels = from_mart[("levels", None)]
    assert levels["cutoff"] == CUTOFF and levels["open_total"] == 5
    assert [r["ticket_id"] for r in levels["serious"]] == ["CLOSED_AFTER_CUTOFF",
                                                           "ESCALATED"]
