"""A first load into an empty warehouse goes straight from the file into `tickets`,
unstaged; it must store exactly what the staged load stores, deadlines and marts included."""

from __future__ import annotations

import logging

import duckdb

from pipelines import derived
from pipelines.loader import load_files
from tests.factories import ticket_row, write_csv

# what the staged load makes after the insert, from the tickets and the calendar
COMPARED = ["tickets", "dim_calendar", "sla_rule", "ticket_close_hours",
            "ticket_summary_daily", "wall_closure_monthly", "ticket_dimension_values",
            "open_tickets", "open_tickets_since"]


def _tickets() -> list[dict[str, str]]:
    """Tickets of several years, every level, days before holidays, some not accepted,
    one still open, a phone number to mask and a handler outside the choices; one older
    and one later than the calendar a first load counts deadlines on."""
    rows = []
    for i, day in enumerate(["2012-05-04", "2024-12-31", "2025-01-27", "2025-09-30",
                             "2025-10-08", "2025-12-31", "2026-11-30", "2027-12-31"]):
        for level in (1, 2, 3, 4):
            rows.append(ticket_row(
                ticket_id=f"F{i}{level}", level=level, reported_at=f"{day} 09:00:00",
                accepted_at="" if level == 2 else f"{day} 09:30:00",
                responded_at=f"{day} 10:00:00", closed_at=f"{day} 18:00:00",
                updated_at=f"{day} 18:00:00", handler="街道办" if level == 3 else "property",
                description=f"{level}号楼漏水 联系13812345678"))
    rows.append(ticket_row(ticket_id="OPEN", closed_at="", updated_at=""))
    return rows


def _tables(settings) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        # a counted mart's figures are its rows and pending rows summed (migration 0021)
        return {t: con.execute(f"select * from ({derived.counted_sql(con, t)}) order by all"
                               if t in derived.COUNTED_MARTS
                               else f"select * from {t} order by all").fetchall()
                for t in COMPARED}
    finally:
        con.close()


def test_first_load__stores_what_the_staged_load_stores(make_settings, tmp_path, caplog):
    rows = _tickets()
    clean = write_csv(tmp_path / "clean.csv", rows)
    # the same tickets and one bad row: quarantined, so this load is staged
    mixed = write_csv(tmp_path / "mixed.csv", [*rows, ticket_row(ticket_id="BAD", level=9)])
    first, staged = make_settings(db_path=tmp_path / "a.duckdb"), \
        make_settings(db_path=tmp_path / "b.duckdb")
    with caplog.at_level(logging.INFO, logger="pipelines.loader"):
        (direct,) = load_files(first, "tickets", [clean])
    assert "not inserted straight" not in caplog.text
    with caplog.at_level(logging.INFO, logger="pipelines.loader"):
        (usual,) = load_files(staged, "tickets", [mixed])
    assert "not inserted straight from the file" in caplog.text

    assert (direct.rows_read, direct.inserted, direct.quarantined) == (len(rows), len(rows), 0)
    assert (usual.inserted, usual.quarantined) == (len(rows), 1)
    assert direct.warnings == usual.warnings and any("街道办" in w for w in direct.warnings)
    assert direct.newest_record_at == usual.newest_record_at
    con = duckdb.connect(str(first.db_path), read_only=True)
    try:  # every ticket has its deadline
        assert con.execute("select count(*) from tickets where due_on is null or "
                           "deadline_at is null").fetchall() == [(0,)]
    finally:
        con.close()
    assert _tables(first) == _tables(staged)
