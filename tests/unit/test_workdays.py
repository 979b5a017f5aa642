"""Unit tests for pipelines/workdays.py: dim_calendar, sla_rule and deadlines in SQL."""

from __future__ import annotations

import datetime as dt
import logging

import chinese_calendar
import duckdb
import pytest

from pipelines import warehouse, workdays
from pipelines.settings import Settings, SlaRule

END_OF_DAY = dt.time(23, 59, 59, 999999)


@pytest.fixture
def con():
    con = duckdb.connect()
    warehouse.migrate(con)
    yield con
    con.close()


def add_ticket(con, ticket_id, level, accepted_at, reported_at=None, load_id=1):
    """Insert a minimal ticket; reported_at defaults to accepted_at."""
    con.execute(
        """
        insert into tickets (
            ticket_id, reported_at, accepted_at, level,
            category, community, row_hash, load_id,
        )
        values (
            $id, $reported_at, $accepted_at, $level,
            'urban', 'c1', hash($id), $load_id,
        )
        """,
        {
            "id": ticket_id,
            "reported_at": reported_at or accepted_at,
            "accepted_at": accepted_at,
            "level": level,
            "load_id": load_id,
        },
    )


def deadlines(con) -> dict[str, tuple[dt.date, dt.datetime, bool]]:
    rows = con.execute(
        "select ticket_id, due_on, deadline_at, is_calendar_fallback from tickets"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def write_calendar(tmp_path, text: str):
    path = tmp_path / "calendar.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_apply_deadlines__level3_spans_national_day_2025(con):
    """2025: Oct 1-8 off; Sun Sep 28 and Sat Oct 11 are make-up working days."""
    add_ticket(con, "across-holiday", 3, at("2025-09-29 10:00"))
    add_ticket(con, "make-up-sunday", 3, at("2025-09-23 16:30"))
    assert workdays.refresh_calendar(con, Settings(), 2025, 2025) == []

    got = deadlines(con)
    assert got["across-holiday"] == (
        dt.date(2025, 10, 13),
        dt.datetime.combine(dt.date(2025, 10, 13), END_OF_DAY),
        False,
    )
    assert got["make-up-sunday"][0] == dt.date(2025, 9, 29)


def test_apply_deadlines__default_levels_and_reported_at_when_not_accepted(con):
    add_ticket(con, "l1", 1, at("2025-09-29 10:00"))
    add_ticket(con, "l2", 2, at("2025-09-29 10:00"))
    add_ticket(con, "l4", 4, at("2025-09-29 10:00"))
    add_ticket(con, "l2-reported", 2, None, reported_at=at("2025-12-30 08:00"))
    workdays.refresh_calendar(con, Settings(), 2025, 2025)

    got = {k: v[0] for k, v in deadlines(con).items()}
    assert got == {
        "l1": dt.date(2025, 9, 29),
        "l2": dt.date(2025, 10, 2),  # calendar days: holidays count
        "l4": dt.date(2025, 10, 27),
        "l2-reported": dt.date(2026, 1, 2),
    }


def test_apply_deadlines__workdays_match_chinesecalendar_every_day(con):
    """Every start day of 2024-2026, against the package's own working-day search."""
    con.execute(
        """
        insert into tickets (
            ticket_id, reported_at, accepted_at, level,
            category, community, row_hash, load_id,
        )
        select
            level || '@' || cast(start_at as date),
            start_at + interval 9 hour,
            start_at + interval 9 hour,
            level,
            'urban',
            'c1',
            hash(level, start_at),
            1,
        from
            range(date '2024-01-01', date '2027-01-01', interval 1 day)
                as days (start_at),
            (values (3), (4)) as levels (level)
        """
    )
    workdays.refresh_calendar(con, Settings(), 2024, 2026)

    got = deadlines(con)
    assert len(got) == 2 * 1096
    for key, (due_on, _, _) in got.items():
        level, _, start = key.partition("@")
        n = {"3": 5, "4": 15}[level]
        # find_workday(n - 1, d + 1) is the n-th working day strictly after d
        after = dt.date.fromisoformat(start) + dt.timedelta(days=1)
        if after + dt.timedelta(days=2 * n + 31) < dt.date(2027, 1, 1):
            assert due_on == chinese_calendar.find_workday(n - 1, after), key


def test_apply_deadlines__closed_on_last_second_is_on_time(con):
    add_ticket(con, "t", 1, at("2025-03-03 18:00"))
    workdays.refresh_calendar(con, Settings(), 2025, 2025)

    on_time = con.execute(
        "select $closed_at <= deadline_at, $late <= deadline_at from tickets",
        {"closed_at": at("2025-03-03 23:59:59"), "late": at("2025-03-04 00:00:00")},
    ).fetchone()
    assert on_time == (True, False)


@pytest.mark.parametrize(
    ("accepted_at", "due_on"),
    [
        ("2027-03-01 09:00", dt.date(2027, 3, 8)),  # Monday + 5 working days, Mon-Fri
        ("2030-01-04 09:00", dt.date(2030, 1, 11)),  # Friday
    ],
)
def test_refresh_calendar__unknown_year_falls_back_loudly(con, accepted_at, due_on):
    add_ticket(con, "t", 3, at(accepted_at))
    year = due_on.year
    warnings = workdays.refresh_calendar(con, Settings(), year, year)

    assert any(w.startswith(f"工作日历未知 {year} 年") for w in warnings)
    assert "Monday–Friday" in warnings[0]
    assert warnings == workdays.calendar_warnings(con)
    assert con.execute(
        "select bool_or(is_official) from dim_calendar where year(day) = $year",
        {"year": year},
    ).fetchone() == (False,)
    assert deadlines(con)["t"][0::2] == (due_on, True)


def test_refresh_calendar__deadline_into_unknown_year_is_flagged(con):
    """A level-4 ticket of late December 2026 counts working days in 2027."""
    add_ticket(con, "crosses", 4, at("2026-12-28 09:00"))
    add_ticket(con, "inside", 4, at("2026-11-02 09:00"))
    add_ticket(con, "calendar-days", 2, at("2026-12-30 09:00"))
    warnings = workdays.refresh_calendar(con, Settings(), 2026, 2026)

    assert [w.split(":")[0] for w in warnings] == ["工作日历未知 2027 年"]
    flags = {k: v[2] for k, v in deadlines(con).items()}
    assert flags == {"crosses": True, "inside": False, "calendar-days": False}


def test_refresh_calendar__calendar_file_makes_year_official(con, tmp_path):
    path = write_calendar(
        tmp_path,
        """
        [2027]
        holidays = ["2027-01-01", "2027-02-05..2027-02-11 春节"]
        workdays = ["2027-02-14"]
        """,
    )
    add_ticket(con, "t", 3, at("2027-02-04 09:00"))
    warnings = workdays.refresh_calendar(con, Settings(calendar_file=path), 2027, 2027)

    assert not any("2027" in w for w in warnings)
    assert any("2028" in w for w in warnings)  # the year after is still unknown
    # Feb 5-11 off; Fri Feb 12 (1), make-up Sun Feb 14 (2), Feb 15, 16, 17 (5)
    assert deadlines(con)["t"][0::2] == (dt.date(2027, 2, 17), False)
    days = [dt.date(2027, 1, 1), dt.date(2027, 2, 8), dt.date(2027, 2, 14)]
    notes = dict(
        con.execute(
            "select day, note from dim_calendar "
            "where list_contains($days, day) and is_official",
            {"days": days},
        ).fetchall()
    )
    assert notes == {
        dt.date(2027, 1, 1): "节假日",
        dt.date(2027, 2, 8): "春节",
        dt.date(2027, 2, 14): "调休",
    }


def test_refresh_calendar__official_notes_name_holidays_and_make_up_days(con):
    workdays.refresh_calendar(con, Settings(), 2025, 2025)

    days = [dt.date(2025, 10, 1), dt.date(2025, 10, 11), dt.date(2025, 10, 12)]
    rows = con.execute(
        "select day, is_workday, note from dim_calendar "
        "where list_contains($days, day)",
        {"days": days},
    ).fetchall()
    assert sorted(rows) == [
        (dt.date(2025, 10, 1), False, "国庆节"),
        (dt.date(2025, 10, 11), True, "调休"),
        (dt.date(2025, 10, 12), False, None),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[2027]\nholidays = ["2028-01-01"]', "not in 2027"),
        ('[2027]\nholidays = ["2027-02-30"]', "not a date"),
        ('[2027]\nholidays = ["2027-02-11..2027-02-05"]', "ends before"),
        ('[2027]\nholidays = ["2027-02-14"]\nworkdays = ["2027-02-14"]', "both"),
        ('[2027]\nholiday = ["2027-02-14"]', "unknown keys"),
        ('holidays = ["2027-02-14"]', "must be years"),
    ],
)
def test_read_calendar_file__rejects_mistakes_naming_them(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        workdays.read_calendar_file(write_calendar(tmp_path, text))


def test_apply_deadlines__custom_sla_changes_deadlines(con):
    sla = (
        SlaRule(1, "days", 1),
        SlaRule(2, "workdays", 0),
        SlaRule(3, "days", 10),
        SlaRule(4, "same_day", 0),
    )
    add_ticket(con, "l1", 1, at("2025-09-29 10:00"))
    add_ticket(con, "l2-holiday", 2, at("2025-10-04 10:00"))  # off: next working day
    add_ticket(con, "l2-workday", 2, at("2025-09-30 10:00"))
    add_ticket(con, "l3", 3, at("2025-09-29 10:00"))
    add_ticket(con, "l4", 4, at("2025-09-29 10:00"))
    workdays.refresh_calendar(con, Settings(sla=sla), 2025, 2025)

    rules = con.execute("select level, kind, n from sla_rule order by level").fetchall()
    assert rules == [(r.level, r.kind, r.n) for r in sla]
    assert {k: v[0] for k, v in deadlines(con).items()} == {
        "l1": dt.date(2025, 9, 30),
        "l2-holiday": dt.date(2025, 10, 9),
        "l2-workday": dt.date(2025, 9, 30),
        "l3": dt.date(2025, 10, 9),
        "l4": dt.date(2025, 9, 29),
    }


def test_refresh_calendar__rejects_invalid_sla(con):
    sla = (SlaRule(1, "hours", 6),) + Settings().sla[1:]
    with pytest.raises(ValueError, match="hours"):
        workdays.refresh_calendar(con, Settings(sla=sla), 2025, 2025)


def test_refresh_calendar__unchanged_leaves_tickets_alone(con):
    add_ticket(con, "t", 3, at("2025-09-29 10:00"))
    workdays.refresh_calendar(con, Settings(), 2025, 2025)
    # a date no computation gives: still there means "not recomputed"
    con.execute("update tickets set due_on = date '2000-01-01'")

    workdays.refresh_calendar(con, Settings(), 2025, 2025)
    assert deadlines(con)["t"][0] == dt.date(2000, 1, 1)

    faster = (SlaRule(3, "workdays", 1),) + Settings().sla[:2] + Settings().sla[3:]
    workdays.refresh_calendar(con, Settings(sla=faster), 2025, 2025)
    assert deadlines(con)["t"][0] == dt.date(2025, 9, 30)


def test_refresh_calendar__never_shrinks_and_covers_long_limits(con):
    workdays.refresh_calendar(con, Settings(), 2025, 2025)
    long = Settings().sla[:3] + (SlaRule(4, "workdays", 400),)
    workdays.refresh_calendar(con, Settings(sla=long), 2020, 2020)

    first, last, gaps = con.execute(
        "select min(day), max(day), max(day) - min(day) + 1 - count(*) "
        "from dim_calendar"
    ).fetchone()
    assert (first, last, gaps) == (dt.date(2019, 1, 1), dt.date(2026, 12, 31), 0)
    # 400 working days after 2020-12-31 still land inside the calendar
    add_ticket(con, "t", 4, at("2020-12-31 10:00"))
    workdays.apply_deadlines(con)
    assert deadlines(con)["t"][0] is not None


def test_apply_deadlines__only_the_given_load(con, caplog):
    add_ticket(con, "old", 3, at("2025-09-29 10:00"), load_id=1)
    workdays.refresh_calendar(con, Settings(), 2025, 2025)
    add_ticket(con, "new", 3, at("2025-09-23 10:00"), load_id=2)
    add_ticket(con, "outside", 3, at("2031-01-06 10:00"), load_id=2)
    con.execute("update tickets set due_on = null where ticket_id = 'old'")

    with caplog.at_level(logging.WARNING, logger="pipelines.workdays"):
        workdays.apply_deadlines(con, load_id=2)

    got = {k: v[0] for k, v in deadlines(con).items()}
    assert got == {"old": None, "new": dt.date(2025, 9, 29), "outside": None}
    assert "1 tickets (load 2) have no deadline" in caplog.text
