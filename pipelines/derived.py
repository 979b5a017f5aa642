"""Derived data, rebuilt inside every load's write so it is never out of step.

Each derived table is a `Step`: a name, the tables (or steps) it reads, the tables it
writes, and how it runs. A SQL mart is `pipelines/sql/marts/<name>.sql`, whose first line
declares its inputs (`-- depends on: residents, compounds`); a Python step declares them
in `STEPS`. The rebuild order is computed from those declarations (graphlib), never from
call order: after a load, every step downstream of the loaded table runs, each after the
steps it reads. An input that is neither a loaded table nor another step's output, or a
cycle, is a `DependencyError` at import.

Before a tickets load inserts its rows, `insert_extras` brings the working-day calendar
up to date, so that each new or changed ticket goes in with its deadline
(pipelines/workdays.py).
"""

from __future__ import annotations

import datetime as dt
import graphlib
import importlib
import logging
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines import warnings_rules, workdays
from pipelines.settings import Settings, local_now, parse_key_groups
from pipelines.sources import SOURCES

logger = logging.getLogger(__name__)

MARTS_DIR = Path(__file__).parent / "sql" / "marts"
KEY_GROUP_SEPARATORS = "[;；、,，/]"
# Tables written outside this module: the loaded ones, and the working-day calendar.
BASE_TABLES = frozenset({s.table for s in SOURCES.values()} | {"dim_calendar", "sla_rule"})
_DEPENDS = re.compile(r"--\s*depends on:\s*(.*)")


class DependencyError(ValueError):
    """The declared inputs of the derived steps cannot be ordered."""


@dataclass(frozen=True)
class Context:
    """What a step may need to know about the load that triggered it."""

    settings: Settings
    table: str  # the table the load wrote
    load_id: int


Run = Callable[[duckdb.DuckDBPyConnection, "Context | None"], list[str]]


@dataclass(frozen=True)
class Step:
    """One derived table (or change to a table), its declared inputs and outputs.

    run(con, ctx) rebuilds it and returns warnings for the load log; ctx is None when a
    migration fills a new table from the data already loaded (only steps with
    `needs_load=False` run then).
    """

    name: str
    inputs: tuple[str, ...]
    run: Run
    outputs: tuple[str, ...] = ()
    needs_load: bool = False

    @property
    def writes(self) -> tuple[str, ...]:
        """The names other steps may list as inputs to run after this one."""
        return (self.name, *self.outputs)


def mart_sql(name: str) -> str:
    """The text of pipelines/sql/marts/<name>.sql."""
    return (MARTS_DIR / f"{name}.sql").read_text(encoding="utf-8")


def declared_inputs(name: str) -> tuple[str, ...]:
    """The inputs a mart's SQL file declares on its first line (`-- depends on: a, b`).

    Raises:
        DependencyError: the file does not start with the declaration.
    """
    first = mart_sql(name).split("\n", 1)[0]
    m = _DEPENDS.fullmatch(first.strip())
    if not m:
        raise DependencyError(f"pipelines/sql/marts/{name}.sql: the first line must be "
                              "'-- depends on: <table or step>, ...'")
    return tuple(n.strip() for n in m.group(1).split(",") if n.strip())


def _rebuild(con: duckdb.DuckDBPyConnection, table: str, params: dict | None = None) -> None:
    """Replace every row of `table` with its mart query (same name)."""
    con.execute(f"delete from {table}")
    con.execute(f"insert into {table} by name {mart_sql(table)}", params or {})


def sql_mart(name: str, params: Callable[[Context], dict] | None = None,
             check: Callable[[duckdb.DuckDBPyConnection], list[str]] | None = None) -> Step:
    """A step that rebuilds table `name` from pipelines/sql/marts/<name>.sql.

    params: bound parameters from the load's context; check: warnings after the rebuild.
    """
    def run(con: duckdb.DuckDBPyConnection, ctx: Context | None) -> list[str]:
        _rebuild(con, name, params(ctx) if params else None)
        return check(con) if check else []

    return Step(name, declared_inputs(name), run, needs_load=params is not None)


# ---------------------------------------------------------------- tickets
@dataclass(frozen=True)
class InsertExtras:
    """Columns a load's insert computes on the way in: `join` SQL after `from _typed t`,
    and the expression of each extra target column."""

    join: str = ""
    columns: dict[str, str] = field(default_factory=dict)


# The stored versions of the tickets a load replaces, kept before they are deleted so
# that the ticket marts can be updated for what changed (see `_ticket_changes`).
REPLACED = "_tickets_replaced"
# What the incremental ticket marts read of a ticket.
_TICKET_MART_COLUMNS = ("reported_at, community, grid, compound, category, source, handler, "
                        "closed_at, deadline_at, level, satisfaction")


def _calendar_fingerprint(con: duckdb.DuckDBPyConnection) -> tuple:
    return con.execute(
        "select (select md5(coalesce(string_agg(concat_ws('|', day, is_workday, "
        "is_official, note), ',' order by day), '')) from dim_calendar), "
        "(select md5(coalesce(string_agg(concat_ws('|', level, kind, n), ',' "
        "order by level), '')) from sla_rule)").fetchall()[0]


def _tickets_insert(con: duckdb.DuckDBPyConnection, settings: Settings) -> InsertExtras:
    # The calendar must cover this load's tickets before they go in with their deadlines.
    first, last = con.execute(
        "select min(year(reported_at)), max(year(coalesce(closed_at, reported_at))) "
        "from _typed where _reason = ''").fetchall()[0]
    this_year = local_now(settings).year
    before = _calendar_fingerprint(con)
    workdays.refresh_calendar(
        con, settings, min(first or this_year, this_year), max(last or this_year, this_year))
    con.execute(f"drop table if exists {REPLACED}")
    if _calendar_fingerprint(con) == before:
        # Only this load's tickets change: keep the rows it replaces (classified, not
        # yet deleted). A new calendar or time limit recomputed every ticket's deadline:
        # then there is no such table and the marts are rebuilt whole.
        low, high = con.execute("select min(ticket_id), max(ticket_id) from _classified "
                                "where _class = 'updated'").fetchall()[0]
        # the keys' range as constants lets zone maps skip the other row groups (a
        # semi join alone read every ticket_id: 0.16 s of CPU at 10M)
        con.execute(f"create temp table {REPLACED} as select {_TICKET_MART_COLUMNS} "
                    "from tickets where ticket_id between $low and $high and ticket_id in "
                    "(select ticket_id from _classified where _class = 'updated')",
                    {"low": low, "high": high})
    workdays.stage_due_days(con)
    return InsertExtras(workdays.DEADLINE_JOIN.format(t="t"), workdays.DEADLINE_COLUMNS)


# A first load's tickets are counted on a calendar of the years a history usually spans;
# one outside it goes in without a deadline, which the step `ticket_deadlines` then fills.
DIRECT_CALENDAR_YEARS = 10


def _tickets_direct_extras(con: duckdb.DuckDBPyConnection, settings: Settings) -> InsertExtras:
    # The years of the tickets are known only once they are in: deadlines come from a
    # calendar of the last DIRECT_CALENDAR_YEARS years (a day's row, hence a deadline
    # counted within the calendar, does not depend on the calendar's range).
    this_year = local_now(settings).year
    workdays.refresh_calendar(con, settings, this_year - DIRECT_CALENDAR_YEARS, this_year)
    workdays.stage_due_days(con)
    return InsertExtras(workdays.DEADLINE_JOIN.format(t="t"), workdays.DEADLINE_COLUMNS)


def _tickets_inserted(con: duckdb.DuckDBPyConnection, settings: Settings,
                      load_id: int) -> None:
    # Then the calendar `_tickets_insert` would have made for the loaded years, without
    # recomputing the deadlines counted on the same days; marts rebuilt whole (no
    # replaced rows).
    first, last = con.execute(
        "select min(year(reported_at)), max(year(coalesce(closed_at, reported_at))) "
        "from tickets where load_id = $id", {"id": load_id}).fetchall()[0]
    this_year = local_now(settings).year
    con.execute("delete from dim_calendar")
    workdays.refresh_calendar(
        con, settings, min(first or this_year, this_year), max(last or this_year, this_year),
        recompute=False)
    con.execute(f"drop table if exists {REPLACED}")


_INSERT = {"tickets": _tickets_insert}
# A load that inserts its rows straight from the file (an empty table: nothing to classify
# against, see loader._insert_directly): its extras before the insert and what follows it.
_DIRECT = {"tickets": (_tickets_direct_extras, _tickets_inserted)}


def can_insert_directly(source: str) -> bool:
    """True when a load of `source` may insert its rows straight from the file: its
    insert computes nothing on the way in, or can without the staged rows."""
    return source not in _INSERT or source in _DIRECT


def direct_extras(con: duckdb.DuckDBPyConnection, settings: Settings,
                  source: str) -> InsertExtras:
    """Before a load of `source` inserts its rows straight from the file (aliased `t`):
    the join and columns to add, as `insert_extras` gives for staged rows."""
    return _DIRECT[source][0](con, settings) if source in _DIRECT else InsertExtras()


def inserted_directly(con: duckdb.DuckDBPyConnection, settings: Settings, source: str,
                      load_id: int) -> None:
    """After a load of `source` inserted its rows straight from the file."""
    if source in _DIRECT:
        _DIRECT[source][1](con, settings, load_id)


def insert_extras(con: duckdb.DuckDBPyConnection, settings: Settings,
                  source: str) -> InsertExtras:
    """Before a load of `source` inserts its rows (staged in `_typed`, aliased `t`): bring
    what they are computed from up to date and return the join and columns to add."""
    step = _INSERT.get(source)
    return step(con, settings) if step else InsertExtras()


def _ticket_deadlines(con: duckdb.DuckDBPyConnection, ctx: Context | None) -> list[str]:
    """Deadlines of tickets that went in without one; warn about Monday-Friday years."""
    # Tickets whose start date is outside the calendar went in without a deadline:
    # apply_deadlines counts them in a logged warning.
    pending = con.execute(
        "select count(*) from tickets where load_id = $id and due_on is null",
        {"id": ctx.load_id}).fetchall()[0][0]
    if pending:
        workdays.apply_deadlines(con, ctx.load_id)
    # Say so only when this load's deadlines really were counted Monday-Friday.
    fallback = con.execute(
        """
        select year(due_on) as year, count(*) from tickets
        where load_id = $id and is_calendar_fallback group by all order by year
        """, {"id": ctx.load_id}).fetchall()
    return [f"{n:,} ticket(s) due in {year}: " + workdays.fallback_warning(year)
            for year, n in fallback]


# ---------------------------------------------------------------- ticket marts
# A load of 1,000 tickets into 10M rebuilt both marts whole (1.6 s of CPU, most of the
# load): after a tickets load they change only where the load's rows are or were.
def _ticket_changes(con: duckdb.DuckDBPyConnection, ctx: Context | None) -> bool:
    """Build `_ticket_changes` (the mart columns of this load's rows, sign +1, and of the
    rows they replaced, sign -1) and return True, or return False when the ticket marts
    must be rebuilt whole (no load, another table loaded, or every deadline recomputed)."""
    if ctx is None or ctx.table != "tickets" or not con.execute(
            "select count(*) from duckdb_tables() where temporary and table_name = $t",
            {"t": REPLACED}).fetchall()[0][0]:
        return False
    con.execute(
        f"create or replace temp table _ticket_changes as "
        f"select {_TICKET_MART_COLUMNS}, 1 as sign from tickets where load_id = $id "
        f"union all select {_TICKET_MART_COLUMNS}, -1 from {REPLACED}", {"id": ctx.load_id})
    return True


def _dimension_values(con: duckdb.DuckDBPyConnection, ctx: Context | None) -> list[str]:
    """ticket_dimension_values: counts moved by this load's changes, else rebuilt."""
    if not _ticket_changes(con, ctx):
        _rebuild(con, "ticket_dimension_values")
        return []
    # the same groups as the mart's SQL, counted over the changes with their signs
    con.execute(
        """
        create or replace temp table _dimension_delta as
        select 'community' as dimension, community as value, sum(sign) as delta
        from _ticket_changes group by all
        union all select 'grid', grid, sum(sign) from _ticket_changes
        where grid is not null group by all
        union all select 'compound', compound, sum(sign) from _ticket_changes
        where compound is not null group by all
        union all select 'category', category, sum(sign) from _ticket_changes group by all
        union all select 'source', source, sum(sign) from _ticket_changes
        where source is not null group by all
        union all select 'handler', handler, sum(sign) from _ticket_changes
        where handler is not null group by all
        """)
    con.execute(
        """
        create or replace temp table _dimension_counts as
        select d.dimension, d.value, coalesce(v.ticket_count, 0) + d.delta as ticket_count
        from _dimension_delta as d left join ticket_dimension_values as v
            on v.dimension = d.dimension and v.value is not distinct from d.value
        where d.delta <> 0
        """)
    con.execute(
        """
        delete from ticket_dimension_values as v using _dimension_counts as c
        where v.dimension = c.dimension and v.value is not distinct from c.value
        """)
    # a value whose last ticket moved away is no longer offered, as after a rebuild
    con.execute("insert into ticket_dimension_values by name "
                "select * from _dimension_counts where ticket_count > 0")
    return []


def _closure_monthly(con: duckdb.DuckDBPyConnection, ctx: Context | None) -> list[str]:
    """wall_closure_monthly: moved by this load's changes (a month recounted when its
    settled_after may have left with a replaced ticket), else rebuilt whole."""
    every = {"months": None, "since": None, "until": None}
    if not _ticket_changes(con, ctx):
        _rebuild(con, "wall_closure_monthly", every)
        return []
    # The mart's own SQL over the added (sign 1) and the replaced (-1) rows alone: the
    # counts they add and take away per month and community, and their latest settling.
    for name, sign in (("_closure_added", 1), ("_closure_removed", -1)):
        con.execute(f"create or replace temp table {name} as with tickets as ("
                    f"select * from _ticket_changes where sign = {sign}) "
                    f"select * from ({mart_sql('wall_closure_monthly')})", every)
    # A count moves by a difference; settled_after, a maximum, only up: a month whose
    # replaced rows settled as late as its settled_after may have lost it, and is
    # recounted from tickets. Before, every changed month was (1,000 tickets updated
    # across 25 months of 10M: 1.0 s of CPU).
    recount = [m for (m,) in con.execute(
        """
        select distinct r.month from _closure_removed as r
        join (select month, max(settled_after) as settled_after from wall_closure_monthly
              group by month) as w using (month)
        where r.settled_after >= w.settled_after order by 1
        """).fetchall()]
    con.execute(
        """
        create or replace temp table _closure_moved as
        with changed as (
            select month, community, reported_count, closed_count, on_time_count,
                overdue_count, settled_after
            from wall_closure_monthly
            where month in (select month from _closure_added
                            union select month from _closure_removed)
            union all select month, community, reported_count, closed_count,
                on_time_count, overdue_count, settled_after from _closure_added
            union all select month, community, -reported_count, -closed_count,
                -on_time_count, -overdue_count, null from _closure_removed
        )
        select month, community, sum(reported_count) as reported_count,
            sum(closed_count) as closed_count, sum(on_time_count) as on_time_count,
            sum(overdue_count) as overdue_count,
            max(max(settled_after)) over (partition by month) as settled_after
        from changed where not list_contains($recount::date[], month)
        group by month, community
        """, {"recount": recount})
    con.execute("delete from wall_closure_monthly where month in (select month from "
                "_closure_moved) or list_contains($recount::date[], month)",
                {"recount": recount})
    # a community whose last ticket of the month moved away has no row, as after a rebuild
    con.execute("insert into wall_closure_monthly by name "
                "select * from _closure_moved where reported_count > 0")
    con.execute("drop table _closure_added; drop table _closure_removed; "
                "drop table _closure_moved")
    if not recount:
        return []
    months = recount
    con.execute(
        f"insert into wall_closure_monthly by name {mart_sql('wall_closure_monthly')}",
        {"months": months, "since": dt.datetime.combine(months[0], dt.time()),
         "until": dt.datetime.combine(_next_month(months[-1]), dt.time())})
    return []


def _horizon_moved_back(con: duckdb.DuckDBPyConnection, horizon: dt.datetime) -> bool:
    """Whether the load replaced a ticket of the newest day and left none of that day."""
    def any_from_newest_day(table: str) -> bool:
        return con.execute(f"select exists (select 1 from {table} where reported_at >= $day)",
                           {"day": horizon + dt.timedelta(days=1)}).fetchall()[0][0]

    return any_from_newest_day(REPLACED) and not any_from_newest_day("tickets")


def _open_tickets(con: duckdb.DuckDBPyConnection, ctx: Context | None) -> list[str]:
    """open_tickets_since and open_tickets: moved by this load's rows, else rebuilt whole.

    A rebuild reads the row groups of every open ticket (0.2-0.5 s at 10M). The horizon
    (the day before the newest report's day) moves on with the load's newest report. It
    can move back only if a replaced ticket was of the newest day, as in a center's
    regular update that closes some of today's tickets; it has moved back only if no
    ticket of that day is left (zone maps read the newest row groups alone: a recount of
    the newest report read all 10M, 0.14 s). Then both are rebuilt, as after a load of
    another table or a recount of every deadline.
    """
    horizon = con.execute("select max(horizon_at) from open_tickets_since").fetchall()[0][0]
    if horizon is None or not _ticket_changes(con, ctx) or _horizon_moved_back(con, horizon):
        _rebuild(con, "open_tickets_since")
        _rebuild(con, "open_tickets")
        return []
    this_load = "with tickets as (select * from main.tickets where load_id = $id) "
    (moved,), = con.execute(f"{this_load}select greatest($old, horizon_at) from "
                            f"({mart_sql('open_tickets_since')})",
                            {"id": ctx.load_id, "old": horizon}).fetchall()
    if moved != horizon:
        con.execute("update open_tickets_since set horizon_at = $h", {"h": moved})
        # a later horizon only drops tickets: those closed by it
        con.execute("delete from open_tickets where closed_at <= $h", {"h": moved})
    con.execute("delete from open_tickets where ticket_id in "
                "(select ticket_id from tickets where load_id = $id)", {"id": ctx.load_id})
    con.execute(f"insert into open_tickets by name {this_load}"
                f"select * from ({mart_sql('open_tickets')})", {"id": ctx.load_id})
    return []


# A counted mart's pending rows (migration 0021) are merged into it once they are this
# many. A merge reads every key column of the mart's days the rows touch (at 10M, 0.14 s
# for rows spread over two years); every summary reads all pending rows of its grain,
# which no zone map narrows (at 10M, 99,999 of them moved the explorer's summary and
# trend by less than their noise of 2 ms, docs/benchmarks.md). A load adds up to 4 rows
# per ticket it changes to ticket_summary_daily (one per grain; a replaced ticket's old
# rows as many again), one merge per ~25,000 tickets; ticket_close_hours has one grain
# (migration 0022), a quarter of that.
PENDING_MERGE_ROWS = 100_000
# The marts of counts migration 0020 added, with their keys (every other column counts).
COUNTED_MARTS = {
    "ticket_summary_daily": ("rollup", "reported_on", "category", "level", "closed_on",
                             "deadline_on"),
    "ticket_close_hours": ("reported_on", "category", "level", "closed_on", "close_hours"),
}


def count_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The count columns of a counted mart (`COUNTED_MARTS`), in the table's order."""
    return [c for (c,) in con.execute(
        "select column_name from duckdb_columns() where table_name = $t "
        "and not internal order by column_index", {"t": table}).fetchall()
        if c not in COUNTED_MARTS[table]]


def counted_sql(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """SQL of a counted mart's figures: per key, its rows and pending rows summed (the
    rows a merge leaves), keys with no ticket left out."""
    keys, counts = COUNTED_MARTS[table], count_columns(con, table)
    return (f"select {', '.join(keys)}, "
            f"{', '.join(f'cast(sum({c}) as bigint) as {c}' for c in counts)} "
            f"from (from {table} union all by name from {table}_pending) "
            f"group by all having sum({counts[0]}) > 0")


def _counted_mart(table: str) -> Run:
    """A step for a mart of counts (`COUNTED_MARTS`): a load's changes are appended to
    its pending table, merged into it when they are many (`_merge_pending`); rebuilt
    whole, pending rows dropped, when the load's changes are not known."""
    keys, pending = COUNTED_MARTS[table], f"{table}_pending"

    def run(con: duckdb.DuckDBPyConnection, ctx: Context | None) -> list[str]:
        if not _ticket_changes(con, ctx):
            _rebuild(con, table)
            con.execute(f"delete from {pending}")
            return []
        # The mart's own SQL over the added rows and over the replaced ones: each count
        # moves by their difference.
        counts = count_columns(con, table)
        con.execute(
            f"insert into {pending} by name select {', '.join(keys)}, "
            f"{', '.join(f'sum(sign * {c}) as {c}' for c in counts)} from ("
            f"select *, 1 as sign from (with tickets as (select * from _ticket_changes "
            f"where sign = 1) {mart_sql(table)}) union all by name "
            f"select *, -1 as sign from (with tickets as (select * from _ticket_changes "
            f"where sign = -1) {mart_sql(table)})) group by all "
            f"having {' or '.join(f'sum(sign * {c}) <> 0' for c in counts)}")
        (rows,), = con.execute(f"select count(*) from {pending}").fetchall()
        if rows >= PENDING_MERGE_ROWS:
            _merge_pending(con, table, counts)
        return []

    return run


def _merge_pending(con: duckdb.DuckDBPyConnection, table: str, counts: list[str]) -> None:
    """Move a counted mart's pending rows into it: each key's stored row moves by the sum
    of its pending rows; a key left with no ticket has no row, as after a rebuild."""
    keys, pending = COUNTED_MARTS[table], f"{table}_pending"
    on = " and ".join(f"m.{k} is not distinct from c.{k}" for k in keys)
    con.execute(
        f"create or replace temp table _counted_delta as "
        f"select {', '.join(keys)}, {', '.join(f'sum({c}) as {c}' for c in counts)} "
        f"from {pending} group by all having {' or '.join(f'sum({c}) <> 0' for c in counts)}")
    # the range of the changed days lets zone maps skip the rest of the mart (recent
    # tickets' rows are in a few row groups of it, not 15M rows at 10M)
    first, last = con.execute(
        "select min(reported_on), max(reported_on) from _counted_delta").fetchall()[0]
    con.execute(
        f"create or replace temp table _counted_moved as "
        f"select m.rowid as stored_row, {', '.join(f'c.{k}' for k in keys)}, "
        f"{', '.join(f'coalesce(m.{c}, 0) + c.{c} as {c}' for c in counts)} "
        f"from _counted_delta as c left join (select rowid, * from {table} where "
        f"reported_on between $first and $last) as m on {on}",
        {"first": first, "last": last})
    # The stored rows were found by the join above: deleting them by row id reads no
    # key column of the mart again (a second join over the hours' 10.7M rows at 10M,
    # before migration 0022, when the days spanned two years: 0.3 s of CPU).
    con.execute(f"delete from {table} where rowid in "
                f"(select stored_row from _counted_moved)")
    con.execute(f"insert into {table} by name select * exclude (stored_row) "
                f"from _counted_moved where {counts[0]} > 0 "
                f"order by {keys[0]}, {keys[1]}")
    con.execute(f"drop table _counted_delta; drop table _counted_moved; "
                f"delete from {pending}")


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


# ---------------------------------------------------------------- population
def refresh_key_groups(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Set residents.key_groups to canonical codes; warn about words not in the vocabulary.

    Every resident is recomputed, so a changed vocabulary applies at the next load.
    """
    vocabulary = parse_key_groups(settings.key_groups)
    terms, codes, ranks = [], [], []
    for rank, (code, names) in enumerate(vocabulary.items()):
        for term in (code, *names):
            terms.append(term.lower())
            codes.append(code)
            ranks.append(rank)
    con.execute(
        f"""
        create or replace temp table _key_group_words as
        with words as (
            select person_id, trim(unnest(regexp_split_to_array(
                key_groups_text, '{KEY_GROUP_SEPARATORS}'))) as word
            from residents where key_groups_text is not null
        ),
        vocabulary as (
            select unnest($terms) as term, unnest($codes) as code, unnest($ranks) as rank
        )
        select w.person_id, w.word, v.code, v.rank
        from words as w left join vocabulary as v on v.term = lower(w.word)
        where w.word <> ''
        """,
        {"terms": terms, "codes": codes, "ranks": ranks},
    )
    con.execute("update residents set key_groups = []::varchar[] "
                "where key_groups is null or len(key_groups) > 0")
    con.execute(
        """
        update residents set key_groups = m.codes
        from (
            select person_id, list(distinct code order by code) as codes
            from _key_group_words where code is not null group by person_id
        ) as m
        where residents.person_id = m.person_id
        """
    )
    unknown = con.execute(
        "select word, count(*) from _key_group_words where code is null "
        "group by word order by 2 desc, 1 limit 5").fetchall()
    con.execute("drop table _key_group_words")
    if not unknown:
        return []
    shown = ", ".join(f"{w!r} ×{n}" for w, n in unknown)
    return [(f"key_groups words not in WALL_KEY_GROUPS, ignored: {shown} "
             "(add them to the vocabulary or map them in [values.key_groups])")]


# ---------------------------------------------------------------- participation
def _unmatched_engagement(con: duckdb.DuckDBPyConnection) -> list[str]:
    unmatched = con.execute(
        """
        select count(*) from engagement as e
        where e.household_id is null
            and not exists (select 1 from residents as r where r.person_id = e.person_id)
        """
    ).fetchall()[0][0]
    if unmatched:
        return [(f"{unmatched:,} engagement event(s) have no household_id and a "
                 "person_id unknown to population: they count for no household's "
                 "participation")]
    return []


def _vote_params(ctx: Context) -> dict:
    return {"as_of": local_now(ctx.settings).replace(microsecond=0)}


# ---------------------------------------------------------------- ledger
def _publish_due_months(con, settings: Settings, today: dt.date, load_id: int) -> None:
    """Record each month whose publication day has come, with its figures, once.

    A month counts as reported, and so can be published, once the compound has postings
    in it or a later month: an opening balance alone publishes nothing, and history
    loaded year by year (oldest first) does not turn the next year into adjustments.
    """
    con.execute(
        """
        insert into ledger_publications
        select
            compound, month, last_day(month) + $days + 1, opening_yuan, income_yuan,
            expense_yuan, adjustment_yuan, closing_yuan, $load_id
        from ledger_monthly as m
        where last_day(month) + $days < $today
            -- only months the office has reported: up to the compound's latest posting
            and month <= (
                select max(posted_month) from ledger_postings as j
                where j.compound = m.compound
            )
            and not exists (
                select 1 from ledger_publications as p
                where p.compound = m.compound and p.month = m.month
            )
        """,
        {"days": settings.ledger_publish_days, "today": today, "load_id": load_id},
    )


def refresh_ledger(con: duckdb.DuckDBPyConnection, settings: Settings, load_id: int,
                   post: bool = True) -> list[str]:
    """Post this load's changes to the journal and rebuild the monthly statement.

    Months due for publication are first recorded from the statement as it stood before
    this load (that is how it stood on their publication day: any later load would have
    recorded them), so a change dated in them becomes an adjustment of the current month.
    """
    today = local_now(settings).date()
    today_month = today.replace(day=1)
    _publish_due_months(con, settings, today, load_id)
    if post:
        con.execute(
            f"insert into ledger_postings by name {mart_sql('ledger_postings')}",
            {"load_id": load_id, "today": today, "today_month": today_month},
        )
        con.execute(
            """
            update ledger_entries set is_adjustment = p.is_adjustment,
                adjusted_on = p.adjusted_on
            from (
                select entry_id, bool_or(is_adjustment) as is_adjustment,
                    max(posted_on) filter (is_adjustment) as adjusted_on
                from ledger_postings group by entry_id
            ) as p
            where ledger_entries.entry_id = p.entry_id and ledger_entries.load_id = $id
            """,
            {"id": load_id},
        )
    _rebuild(con, "ledger_monthly", {"today_month": today_month})
    _publish_due_months(con, settings, today, load_id)
    con.execute(
        """
        update ledger_monthly set is_published = true, published_on = p.published_on
        from ledger_publications as p
        where ledger_monthly.compound = p.compound and ledger_monthly.month = p.month
        """
    )
    return _ledger_warnings(con, load_id)


def _ledger_warnings(con, load_id: int) -> list[str]:
    warnings = []
    adjustments = con.execute(
        "select count(*), sum(income_yuan - expense_yuan) from ledger_postings "
        "where load_id = $id and is_adjustment", {"id": load_id}).fetchall()[0]
    if adjustments[0]:
        warnings.append(
            f"{adjustments[0]:,} change(s) dated in already published months booked as "
            f"adjustments of this month (net {adjustments[1]} yuan); see "
            "`python -m pipelines status`")
    without = [c for (c,) in con.execute(
        "select distinct compound from ledger_postings where compound not in "
        "(select compound from ledger_openings) order by 1 limit 5").fetchall()]
    if without:
        warnings.append("no opening balance (load ledger_balances) for "
                        + ", ".join(without) + ": their statements start at 0.00")
    return warnings


def adjustments_text(con: duckdb.DuckDBPyConnection, limit: int = 10) -> list[str]:
    """Lines for `python -m pipelines status`: ledger adjustments, newest first."""
    total = con.execute(
        "select count(*) from ledger_entries where is_adjustment").fetchall()[0][0]
    if not total:
        return []
    lines = [("ledger adjustments (entries loaded after their month was published): "
              f"{total:,}")]
    for row in con.execute(
            """
            select adjusted_on, compound, entry_id, booked_on, direction, amount_yuan
            from ledger_entries where is_adjustment
            order by adjusted_on desc, compound, entry_id limit $limit
            """, {"limit": limit}).fetchall():
        lines.append("  {} {} {} dated {} {} {}".format(*row))
    return lines


_LEDGER_FILES = ("ledger_postings", "ledger_monthly")
_LEDGER_OUTPUTS = ("ledger_postings", "ledger_monthly", "ledger_publications")


def _ledger_step() -> Step:
    # One step: the journal, the statement and the publications are written in an order
    # that matters (publish before posting, then after the statement is rebuilt).
    reads = {name for f in _LEDGER_FILES for name in declared_inputs(f)}
    return Step(
        "ledger", tuple(sorted(reads - set(_LEDGER_OUTPUTS))),
        lambda con, ctx: refresh_ledger(con, ctx.settings, ctx.load_id,
                                        post=ctx.table == "ledger_entries"),
        outputs=_LEDGER_OUTPUTS, needs_load=True)


def _warnings(con: duckdb.DuckDBPyConnection, ctx: Context) -> list[str]:
    # imported here: numpy and pyarrow.compute are the warnings' alone (see warm_up)
    from pipelines import warnings_engine

    return warnings_engine.refresh(con, ctx.settings, ctx.load_id)


# What the steps after a load's insert import: the warnings (numpy, pyarrow.compute) and
# the detector's quantiles, which a big load almost always needs (warnings_anomalies).
_LATER_IMPORTS = ("pipelines.warnings_engine", "scipy.special")
# Below this, an insert ends before the imports (0.2 s) would: on a thread they would only
# compete with its DuckDB threads for the CPU (a 1,000-ticket update into 10M: no faster).
_WARM_UP_BYTES = 16 << 20
_WARM_UP = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warm-up")


def warm_up(input_bytes: int) -> None:
    """Before an insert of `input_bytes` of files: when it is big, import on a thread what
    the steps after it will import. DuckDB releases the GIL, so the imports (0.3 s of CPU)
    overlap the insert instead of following it.

    A failed import is not reported here: the step that needs the module imports it
    again and raises there.
    """
    missing = [name for name in _LATER_IMPORTS if name not in sys.modules]
    if missing and input_bytes >= _WARM_UP_BYTES:
        _WARM_UP.submit(lambda: [importlib.import_module(name) for name in missing])


# ---------------------------------------------------------------- the declarations
# Listed in no particular order: `ordered` computes the order from the inputs.
STEPS: tuple[Step, ...] = (
    Step("ticket_deadlines", ("tickets", "dim_calendar"), _ticket_deadlines,
         needs_load=True),
    Step("ticket_dimension_values", declared_inputs("ticket_dimension_values"),
         _dimension_values),
    Step("wall_closure_monthly", declared_inputs("wall_closure_monthly"), _closure_monthly),
    # "open at now" (migration 0019): both tables in one step, moved by the load's rows
    Step("open_tickets", tuple(sorted(set(declared_inputs("open_tickets_since"))
                                      | set(declared_inputs("open_tickets"))
                                      - {"open_tickets_since"})),
         _open_tickets, outputs=("open_tickets_since",)),
    # the explorer summary's counts (migrations 0020, 0021): each load's changes
    # appended to the pending rows, merged when they are many
    Step("ticket_summary_daily", declared_inputs("ticket_summary_daily"),
         _counted_mart("ticket_summary_daily"),
         outputs=("ticket_summary_daily_pending",)),
    Step("ticket_close_hours", declared_inputs("ticket_close_hours"),
         _counted_mart("ticket_close_hours"), outputs=("ticket_close_hours_pending",)),
    Step("key_groups", ("residents",),
         lambda con, ctx: refresh_key_groups(con, ctx.settings), needs_load=True),
    sql_mart("compound_community"),
    sql_mart("compound_residents"),
    sql_mart("population_counts"),
    sql_mart("household_acts"),
    sql_mart("compound_daily_acts"),
    sql_mart("participation_monthly", check=_unmatched_engagement),
    sql_mart("vote_results", params=_vote_params),
    _ledger_step(),
    # early warnings (issue 15): after any load whose data a rule or the detector reads
    # (its rules read open tickets through tickets_open_at, that is open_tickets)
    Step("warnings", (*warnings_rules.INPUTS, "open_tickets"), _warnings, needs_load=True),
)

# The marts the explorer and the wall serve from (migrations 0004, 0005, 0007, 0018,
# 0019, 0020): plain SQL over loaded tables, rebuilt from what the tables hold (also by the
# benchmarks).
SERVING_MARTS = ("ticket_dimension_values", "compound_community", "compound_residents",
                 "population_counts", "household_acts", "compound_daily_acts",
                 "wall_closure_monthly", "open_tickets_since", "open_tickets",
                 "ticket_summary_daily", "ticket_close_hours")


def ordered(steps: Iterable[Step], base: Iterable[str] = BASE_TABLES) -> tuple[Step, ...]:
    """`steps` in an order where each runs after every step whose output it reads.

    Raises:
        DependencyError: an input that is neither in `base` nor written by a step, two
            steps writing the same name, or a cycle.
    """
    steps = tuple(steps)
    base = set(base)
    writer: dict[str, Step] = {}
    for step in steps:
        for name in step.writes:
            if name in writer or name in base:
                raise DependencyError(f"{name} is written by two steps or is a loaded "
                                      f"table ({step.name})")
            writer[name] = step
    graph: dict[str, set[str]] = {}
    for step in steps:
        unknown = [n for n in step.inputs if n not in base and n not in writer]
        if unknown:
            raise DependencyError(f"{step.name} depends on {', '.join(unknown)}: neither "
                                  "a loaded table nor written by a derived step")
        graph[step.name] = {writer[n].name for n in step.inputs
                            if n in writer and writer[n] is not step}
    try:
        names = tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        raise DependencyError(f"derived steps depend on each other in a cycle: "
                              f"{' -> '.join(e.args[1])}") from e
    by_name = {s.name: s for s in steps}
    return tuple(by_name[n] for n in names)


ORDER: tuple[Step, ...] = ordered(STEPS)
_BY_NAME: Mapping[str, Step] = {s.name: s for s in ORDER}


def plan(changed: Iterable[str], rebuild: Iterable[str] = ()) -> tuple[Step, ...]:
    """The steps to run, in order, after `changed` tables were written: those that read
    them, directly or through another step, plus the steps named in `rebuild`."""
    dirty, rebuild = set(changed), set(rebuild)
    unknown = rebuild - set(_BY_NAME)
    if unknown:
        raise KeyError(f"not a derived step: {', '.join(sorted(unknown))}")
    chosen = []
    for step in ORDER:
        if step.name in rebuild or dirty.intersection(step.inputs):
            chosen.append(step)
            dirty.update(step.writes)
    return tuple(chosen)


def refresh(con: duckdb.DuckDBPyConnection, settings: Settings, source: str,
            load_id: int) -> list[str]:
    """Bring derived tables up to date after a load of `source`; return warnings."""
    ctx = Context(settings, SOURCES[source].table, load_id)
    warnings: list[str] = []
    for step in plan({ctx.table}):
        warnings += step.run(con, ctx)
    return warnings


def rebuild(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
    """Rebuild the steps writing `tables`, and what reads them, from the data as it
    stands (a migration that adds derived tables; the benchmark generator).

    Steps that need a load (a ledger posting, a vote tally as at now) are left for the
    next load of their inputs.
    """
    tables = set(tables)
    names = {s.name for s in ORDER if tables.intersection(s.writes)}
    for step in plan((), rebuild=names):
        if step.needs_load:
            logger.info("%s: filled by the next load of its inputs", step.name)
            continue
        step.run(con, None)
