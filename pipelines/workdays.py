"""Pipeline layer: the working-day calendar (dim_calendar), time limits (sla_rule) and
ticket deadlines computed from them in the warehouse.

Working days follow the official Chinese calendar, public holidays and make-up working
days (调休) included, from the `chinesecalendar` package. `Settings.calendar_file` (TOML,
see docs/calendar.md) adds years the package does not know yet, or corrects a year it
knows. A year known to neither falls back to Monday-Friday: its rows carry
is_official = false, refresh_calendar and calendar_warnings return a warning for it, and
deadlines that count working days through it are marked is_calendar_fallback. Nothing
stops on Jan 1 of an unknown year.

Deadlines are a join, not a Python loop: dim_calendar numbers the working days
(workdays_through), so "the n-th working day after d" is the working day whose number is
d's + n.
"""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from pathlib import Path

import chinese_calendar
import duckdb

from pipelines.settings import Settings

logger = logging.getLogger(__name__)

_HOLIDAY_NAMES = {h.value: h.chinese for h in chinese_calendar.Holiday}
_MAKE_UP_NOTE = "调休"
_CONFIGURED_HOLIDAY_NOTE = "节假日"
_SLA_KINDS = ("same_day", "days", "workdays")

# One row per (level, start day): when that ticket is due. Tickets join this small table
# on equality, so the UPDATE is one hash join however many tickets there are.
_DUE_DAYS_SQL = """
with calendar as (
    select
        *,
        -- a deadline is a fallback when any day it counts through is not official
        count(*) filter (where not is_official) over (order by day) as fallback_through,
    from dim_calendar
),

workdays as (
    select * from calendar where is_workday
),

due_days as (
    select
        r.level,
        s.day as start_on,
        case r.kind
            when 'same_day' then s.day
            when 'days' then s.day + r.n
            else w.day
        end as due_on,
        r.kind = 'workdays'
        and (not s.is_official or w.fallback_through > s.fallback_through)
            as is_calendar_fallback,
    from sla_rule as r
    cross join calendar as s
    -- workdays:0 on a day off means the next working day, not the one before
    left join workdays as w
        on r.kind = 'workdays'
        and w.workdays_through = s.workdays_through
            + greatest(r.n, case when s.is_workday then 0 else 1 end)
)

select * from due_days
"""

_APPLY_DEADLINES_SQL = f"""
update tickets as t
set
    due_on = due.due_on,
    -- the last microsecond of due_on: a ticket is on time iff closed_at <= deadline_at
    deadline_at = due.due_on + interval 1 day - interval 1 microsecond,
    is_calendar_fallback = coalesce(due.is_calendar_fallback, false),
from ({_DUE_DAYS_SQL}) as due
where
    t.level = due.level
    and cast(coalesce(t.accepted_at, t.reported_at) as date) = due.start_on
    and ($load_id is null or t.load_id = $load_id)
"""

# The same deadline, computed while a load inserts its tickets (no UPDATE afterwards):
# `stage_due_days` makes the temp table _due_days, the insert joins it as `due`.
DEADLINE_JOIN = """
left join _due_days as due
    on due.level = {t}.level
    and due.start_on = cast(coalesce({t}.accepted_at, {t}.reported_at) as date)
"""
DEADLINE_COLUMNS = {
    "due_on": "due.due_on",
    "deadline_at": "due.due_on + interval 1 day - interval 1 microsecond",
    "is_calendar_fallback": "coalesce(due.is_calendar_fallback, false)",
}

_MISSING_DEADLINES_SQL = """
select count(*)
from tickets
where
    ($load_id is null or load_id = $load_id)
    and due_on is null
"""


def fallback_warning(year: int) -> str:
    """The loud, bilingual message for a year counted Monday-Friday."""
    return (
        f"工作日历未知 {year} 年: working-day calendar does not know {year}; deadlines use "
        f"Monday–Friday (add [{year}] to the calendar file, WALL_CALENDAR_FILE)"
    )


def _parse_day(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a date (YYYY-MM-DD)") from None


def _expand_entry(
    entry: object, year: int, where: str
) -> tuple[list[dt.date], str | None]:
    """Days and optional name of one entry: 'YYYY-MM-DD' or 'FROM..TO', then a name."""
    if not isinstance(entry, str):
        raise ValueError(f"{where}: {entry!r} is not a string")
    span, _, name = entry.strip().partition(" ")
    first_text, _, last_text = span.partition("..")
    first = _parse_day(first_text, where)
    last = _parse_day(last_text, where) if last_text else first
    if last < first:
        raise ValueError(f"{where}: range {span!r} ends before it starts")
    if first.year != year or last.year != year:
        raise ValueError(f"{where}: {span!r} is not in {year}")
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return days, name.strip() or None


def read_calendar_file(path: Path | None) -> dict[int, dict[dt.date, tuple[bool, str]]]:
    """Read the calendar TOML (format in docs/calendar.md).

    Args:
        path: the file, or None when none is configured.

    Returns:
        Per configured year, the days it sets: day -> (is_workday, note).

    Raises:
        ValueError: naming the file and the entry that is wrong (unknown key, bad date,
            a date outside its year, or a day listed both as holiday and working day).
    """
    if path is None:
        return {}
    try:
        with open(path, "rb") as f:
            document = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"calendar file {path}: {e}") from e
    years: dict[int, dict[dt.date, tuple[bool, str]]] = {}
    for key, section in document.items():
        where = f"calendar file {path}, [{key}]"
        if not (key.isdigit() and len(key) == 4 and isinstance(section, dict)):
            raise ValueError(f"{where}: sections must be years, like [2027]")
        unknown = set(section) - {"holidays", "workdays"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        year = int(key)
        days: dict[dt.date, tuple[bool, str]] = {}
        for list_name, is_workday in (("holidays", False), ("workdays", True)):
            entries = section.get(list_name, [])
            if not isinstance(entries, list):
                raise ValueError(f"{where}: {list_name} must be a list of strings")
            for entry in entries:
                entry_days, name = _expand_entry(entry, year, f"{where} {list_name}")
                default = _MAKE_UP_NOTE if is_workday else _CONFIGURED_HOLIDAY_NOTE
                for day in entry_days:
                    if day in days and days[day][0] != is_workday:
                        raise ValueError(
                            f"{where}: {day} is both a holiday and a workday"
                        )
                    days[day] = (is_workday, name or default)
        years[year] = days
    return years


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _package_day(day: dt.date) -> tuple[bool, str | None]:
    """(is_workday, note) from the official calendar; note names the holiday or '调休'.

    Reads the package's public `workdays` / `holidays` tables directly: its per-call
    functions re-check the supported range each time, 200 µs a day.
    """
    if day in chinese_calendar.workdays:
        return True, _MAKE_UP_NOTE
    name = chinese_calendar.holidays.get(day)
    if name is not None:
        return False, _HOLIDAY_NAMES.get(name, name)
    return day.weekday() < 5, None


def calendar_rows(
    first_day: dt.date, last_day: dt.date, configured: dict[int, dict[dt.date, tuple]]
) -> dict[str, list]:
    """dim_calendar columns without workdays_through, one row per day first_day..last_day.

    A year is official when the package or the calendar file knows it; configured days
    override the package's. Other years count Monday-Friday and are not official.
    """
    columns: dict[str, list] = {
        "day": [],
        "is_workday": [],
        "is_official": [],
        "note": [],
    }
    known: dict[int, bool] = {}
    day = first_day
    while day <= last_day:
        if day.year not in known:
            known[day.year] = _package_knows(day.year)
        in_file = configured.get(day.year)
        if day in (in_file or {}):
            is_workday, note = in_file[day]
        elif known[day.year]:
            is_workday, note = _package_day(day)
        else:
            is_workday, note = day.weekday() < 5, None
        columns["day"].append(day)
        columns["is_workday"].append(is_workday)
        columns["is_official"].append(known[day.year] or in_file is not None)
        columns["note"].append(note)
        day += dt.timedelta(days=1)
    return columns


def _check_sla(settings: Settings) -> list[dict]:
    rules = [{"level": r.level, "kind": r.kind, "n": r.n} for r in settings.sla]
    for rule in rules:
        if rule["kind"] not in _SLA_KINDS or rule["n"] < 0:
            raise ValueError(
                f"time limit {rule}: kind must be one of {_SLA_KINDS}, n >= 0"
            )
    if sorted(r["level"] for r in rules) != [1, 2, 3, 4]:
        raise ValueError(f"time limits must give levels 1-4 once each: {rules}")
    return sorted(rules, key=lambda r: r["level"])


def refresh_calendar(
    con: duckdb.DuckDBPyConnection, settings: Settings, first_year: int, last_year: int,
    recompute: bool = True,
) -> list[str]:
    """(Re)build dim_calendar and sla_rule; re-apply all deadlines only if they changed.

    The calendar covers first_year - 1 .. last_year + 1 (further when a time limit
    counts so many working days that it could run past that), joined with the years it
    already covers, so it never shrinks under tickets loaded before. When the rebuilt
    calendar and time limits equal what the warehouse holds, nothing is written;
    otherwise both tables are replaced and every ticket's deadline is recomputed (new
    calendar file, new SLA setting, a new year). Call it inside the write transaction.

    Args:
        con: a read-write connection to a migrated warehouse.
        settings: time limits (`sla`) and the optional `calendar_file`.
        first_year: the earliest year of the tickets being loaded.
        last_year: the latest year of those tickets, or the current year if later.
        recompute: False when the stored deadlines were counted with these very days
            and time limits already (a first load, see derived._tickets_inserted).

    Returns:
        One warning per year in the calendar that fell back to Monday-Friday.

    Raises:
        ValueError: an invalid calendar file or time limit setting.
    """
    rules = _check_sla(settings)
    configured = read_calendar_file(settings.calendar_file)
    longest = max((r["n"] for r in rules if r["kind"] == "workdays"), default=0)
    # n working days never take more than 2n + 31 calendar days, holidays included
    last_day = max(
        dt.date(last_year + 1, 12, 31),
        dt.date(last_year, 12, 31) + dt.timedelta(days=2 * longest + 31),
    )
    first_day = dt.date(first_year - 1, 1, 1)
    held_first, held_last = con.execute(
        "select min(day), max(day) from dim_calendar"
    ).fetchall()[0]
    if held_first is not None:
        first_day, last_day = min(first_day, held_first), max(last_day, held_last)

    columns = calendar_rows(first_day, last_day, configured)
    held_rows = con.execute(
        "select day, is_workday, is_official, note from dim_calendar order by day"
    ).fetchall()
    held_rules = con.execute(
        "select level, kind, n from sla_rule order by level"
    ).fetchall()
    new_rows = list(zip(*columns.values()))
    new_rules = [(r["level"], r["kind"], r["n"]) for r in rules]
    if held_rows == new_rows and held_rules == new_rules:
        logger.info("calendar %s..%s and time limits unchanged", first_day, last_day)
    else:
        con.execute("delete from dim_calendar")
        con.execute(
            """
            insert into dim_calendar
            select
                day,
                is_workday,
                is_official,
                note,
                cast(sum(cast(is_workday as integer)) over (order by day) as integer),
            from (
                select
                    unnest($day) as day,
                    unnest($is_workday) as is_workday,
                    unnest($is_official) as is_official,
                    unnest($note::varchar[]) as note
            )
            """,
            columns,
        )
        con.execute("delete from sla_rule")
        con.executemany("insert into sla_rule values ($level, $kind, $n)", rules)
        logger.info("calendar rebuilt %s..%s%s", first_day, last_day,
                    "; recomputing all deadlines" if recompute else "")
        if recompute:
            apply_deadlines(con)

    warnings = calendar_warnings(con)
    for warning in warnings:
        logger.info(warning)
    return warnings


def apply_deadlines(con: duckdb.DuckDBPyConnection, load_id: int | None = None) -> None:
    """Set due_on, deadline_at and is_calendar_fallback in one set-based UPDATE.

    The clock starts on the date of accepted_at, or of reported_at when accepted_at is
    missing. deadline_at is the last microsecond of due_on (23:59:59.999999), so a
    ticket is on time iff closed_at <= deadline_at. Call refresh_calendar first: a
    ticket whose start date is outside dim_calendar is left as it was, one whose
    working-day deadline runs past its end gets due_on null; tickets left without a
    deadline are counted in a logged warning.

    Args:
        con: a read-write connection; dim_calendar and sla_rule already built.
        load_id: only the tickets of this load; all tickets when None.
    """
    params = {"load_id": load_id}
    con.execute(_APPLY_DEADLINES_SQL, params)
    missing = con.execute(_MISSING_DEADLINES_SQL, params).fetchall()[0][0]
    if missing:
        logger.warning(
            "%d tickets (load %s) have no deadline: dates outside dim_calendar",
            missing,
            "all" if load_id is None else load_id,
        )


def stage_due_days(con: duckdb.DuckDBPyConnection) -> None:
    """Create temp table _due_days (level, start_on, due_on, is_calendar_fallback) from the
    current dim_calendar and sla_rule, for an insert to join with DEADLINE_JOIN."""
    con.execute(f"create or replace temp table _due_days as {_DUE_DAYS_SQL}")


def calendar_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One warning per dim_calendar year that fell back to Monday-Friday, oldest first.

    Args:
        con: any connection to the warehouse (read-only is fine).
    """
    years = con.execute(
        "select distinct year(day) as year from dim_calendar "
        "where not is_official order by year"
    ).fetchall()
    return [fallback_warning(year) for (year,) in years]
