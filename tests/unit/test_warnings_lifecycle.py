"""Warnings through real loads: a condition that persists is one warning (new, then
ongoing), one that clears is resolved, and reloading the same file changes nothing but
the time it was last seen. The evaluation clock is pinned, so the runs are exact.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines import warnings_engine
from pipelines.loader import load_files
from tests.factories import ticket_row, write_csv

T0 = dt.datetime(2025, 9, 24, 8, 0)


@pytest.fixture
def clock(monkeypatch):
    """Set the evaluation time of the next load: clock(datetime)."""
    def set_clock(at: dt.datetime) -> None:
        monkeypatch.setattr(warnings_engine, "local_now", lambda settings: at)
    return set_clock


def load(settings, tmp_path, name: str, rows: list[dict]) -> None:
    load_files(settings, "tickets", [write_csv(tmp_path / f"{name}.csv", rows)])


def level4(settings) -> dict[str, tuple]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        rows = con.execute(
            "select subject, status, first_seen_at, last_seen_at, resolved_at "
            "from warnings where rule_id = 'level4_open' order by subject, first_seen_at"
        ).fetchall()
    finally:
        con.close()
    return {r[0]: r[1:] for r in rows}


def all_warnings(settings) -> list[tuple]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return con.execute("select * exclude (status, last_seen_at, load_id) "
                           "from warnings order by warning_id").fetchall()
    finally:
        con.close()


def test_lifecycle__new_then_ongoing_then_resolved_across_three_loads(settings, tmp_path,
                                                                      clock):
    t1, t2, t3 = T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2)
    open_a = ticket_row(ticket_id="T-A", level="4", closed_at="", updated_at="")
    open_b = ticket_row(ticket_id="T-B", level="4", closed_at="", updated_at="")
    clock(t1)
    load(settings, tmp_path, "1", [open_a, open_b])
    assert level4(settings) == {"T-A": ("new", t1, t1, None), "T-B": ("new", t1, t1, None)}

    clock(t2)  # T-B closed; T-A still open
    closed_b = {**open_b, "closed_at": "2025-09-24 08:30:00",
                "updated_at": "2025-09-24 08:30:00"}
    load(settings, tmp_path, "2", [open_a, closed_b])
    assert level4(settings) == {"T-A": ("ongoing", t1, t2, None),
                                "T-B": ("resolved", t1, t1, t2)}

    clock(t3)  # a third level-4 event opens; T-A persists, still one warning
    open_c = ticket_row(ticket_id="T-C", level="4", closed_at="", updated_at="")
    load(settings, tmp_path, "3", [open_a, closed_b, open_c])
    assert level4(settings) == {"T-A": ("ongoing", t1, t3, None),
                                "T-B": ("resolved", t1, t1, t2),
                                "T-C": ("new", t3, t3, None)}


def test_lifecycle__a_condition_that_returns_is_a_new_episode(settings, tmp_path, clock):
    open_a = ticket_row(ticket_id="T-A", level="4", closed_at="", updated_at="")
    clock(T0)
    load(settings, tmp_path, "1", [open_a])
    clock(T0 + dt.timedelta(hours=1))
    con = duckdb.connect(str(settings.db_path))
    try:
        config = warnings_engine.load_config(settings.warnings_file)
        warnings_engine.store(con, [], T0 + dt.timedelta(hours=1), None)  # cleared
        found = warnings_engine.compute(con, settings, config, T0 + dt.timedelta(hours=2))
        warnings_engine.store(con, found, T0 + dt.timedelta(hours=2), None)
        rows = con.execute("select status, first_seen_at from warnings where "
                           "subject = 'T-A' order by first_seen_at").fetchall()
    finally:
        con.close()
    assert rows == [("resolved", T0), ("new", T0 + dt.timedelta(hours=2))]


def test_reload__the_same_file_gives_the_same_warnings(settings, tmp_path, clock):
    rows = [ticket_row(ticket_id="T-A", level="4", closed_at="", updated_at=""),
            ticket_row(ticket_id="T-B", level="3", closed_at="", updated_at="",
                       responded_at=""),
            *[ticket_row(closed_at="", updated_at="", reported_at="2025-09-01 09:00:00")
              for _ in range(12)]]  # overdue: a community above 10
    clock(T0)
    load(settings, tmp_path, "1", rows)
    first = all_warnings(settings)
    assert {w[3] for w in first} >= {"level4_open", "level3_unanswered", "overdue_open"}
    load(settings, tmp_path, "1", rows)  # the same file again, same evaluation time
    assert all_warnings(settings) == first
