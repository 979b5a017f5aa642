"""Figures for any window, generated from the declarations in `catalog`.

This is the reference computation: the wall's, the explorer's and the exports' queries
use the same macros and marts and must agree with it (tests/unit/test_metrics_agree.py).
Ticket figures cover any window; participation a month, the ledger a month (money exact)
and the population the newest snapshot.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from pipelines.metrics.catalog import BY_ID, METRICS, Metric
from pipelines.metrics.windows import Window
from pipelines.queries import QueryError
from pipelines.sources import SOURCES

_SCOPE = "($community is null or community = $community)"
# a compound's figures count in the one community mart compound_community places it in
_COMPOUND_SCOPE = ("($community is null or compound in (select compound from "
                   "compound_community where community = $community))")


def _ticket_metrics() -> tuple[list[Metric], list[Metric]]:
    windowed = [m for m in METRICS if m.source == "tickets"]
    snapshot = [m for m in METRICS if m.source == "tickets_open_at($as_of)"]
    return windowed, snapshot


def ticket_figures_sql() -> str:
    """One statement computing every ticket metric for $start..$end judged at $as_of."""
    windowed, snapshot = _ticket_metrics()
    w_cols = ",\n        ".join(f'{m.sql} as "{m.id}"' for m in windowed)
    s_cols = ",\n        ".join(f'{m.sql} as "{m.id}"' for m in snapshot)
    return f"""
with windowed as (
    select
        {w_cols}
    from tickets
    where in_window(reported_at, $start, $end) and {_SCOPE}
),
snapshot as (
    select
        {s_cols}
    from tickets_open_at($as_of)
    where {_SCOPE}
)
select * from windowed cross join snapshot
"""


def ticket_figures(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    *,
    community: str | None = None,
    response_hours: int = 6,
) -> dict[str, Any]:
    """{metric id: value} for every ticket metric over `window` (one community or all).

    Raises:
        QueryError: the statement failed.
    """
    params = {**window.params(), "community": community, "response_hours": response_hours}
    try:
        rel = con.execute(ticket_figures_sql(), params)
        names = [d[0] for d in rel.description]
        row = rel.fetchall()[0]
    except duckdb.Error as e:
        raise QueryError(f"query metrics:ticket_figures failed: {e}") from e
    return dict(zip(names, row))


# how many tickets a rate metric is judged on (its denominator): a rule needs enough of them
RATE_BASES = {
    "response_timeout_pct": "count(*)",
    "satisfaction_pct": "count(*) filter (where satisfaction is not null)",
}


def community_figures_sql(metric_ids: tuple[str, ...]) -> str:
    """One statement computing the ticket metrics `metric_ids` per community for
    $start..$end judged at $as_of, with each rate's base as "<id>:base"."""
    chosen = [BY_ID[i] for i in metric_ids]
    windowed = [f'{m.sql} as "{m.id}"' for m in chosen if m.source == "tickets"]
    windowed += [f'{RATE_BASES[m.id]} as "{m.id}:base"' for m in chosen
                 if m.id in RATE_BASES]
    snapshot = [f'{m.sql} as "{m.id}"' for m in chosen
                if m.source == "tickets_open_at($as_of)"]
    parts = []
    if windowed:
        parts.append(f"select community, {', '.join(windowed)} from tickets "
                     "where in_window(reported_at, $start, $end) group by community")
    if snapshot:
        parts.append(f"select community, {', '.join(snapshot)} "
                     "from tickets_open_at($as_of) group by community")
    if not parts:
        raise ValueError("community_figures needs at least one ticket metric")
    joined = " full join ".join(f"({p}) using (community)" if i else f"({p})"
                               for i, p in enumerate(parts))
    return f"select * from {joined} order by community"


def community_figures(
    con: duckdb.DuckDBPyConnection, window: Window, metric_ids: tuple[str, ...], *,
    response_hours: int = 6,
) -> dict[str, dict[str, Any]]:
    """{community: {metric id: value, "<rate id>:base": tickets judged}} over `window`:
    the figures `ticket_figures(..., community=c)` gives for each community, in one
    statement (the early-warning rules judge these, so a warning states the wall's
    number). A community with no ticket in a part has None there.

    Raises:
        QueryError: the statement failed.
        KeyError: an unknown metric id.
    """
    sql = community_figures_sql(metric_ids)
    given = {**window.params(), "response_hours": response_hours}
    # DuckDB refuses parameters a statement does not use
    params = {k: v for k, v in given.items() if f"${k}" in sql}
    try:
        rel = con.execute(sql, params)
        names = [d[0] for d in rel.description]
        rows = rel.fetchall()
    except duckdb.Error as e:
        raise QueryError(f"query metrics:community_figures failed: {e}") from e
    return {r[0]: dict(zip(names[1:], r[1:])) for r in rows}


def data_cutoff(
    con: duckdb.DuckDBPyConnection, now: datetime, *, table: str = "tickets",
    column: str = SOURCES["tickets"].data_time,
) -> datetime | None:
    """The newest record of `table` at or before `now` (None: no record yet).

    A figure's to-date window ends here, not at the wall clock: "today" compared with
    last year runs to the same hour of the newest ticket on both sides. For tickets it
    is the newest `reported_at`, the source's `data_time`, which is also its freshness
    data time (the load records it): the wall's badge, the status page, `/healthz` and
    the figures' "截至" name one instant.
    """
    if (table, column) not in _CUTOFF_COLUMNS:
        raise ValueError(f"no data cut-off is defined for {table}.{column}")
    try:
        # the last week first: zone maps skip the rest of a large, time-ordered table
        for since in (now - timedelta(days=7), None):
            found = con.execute(_CUTOFF_COLUMNS[(table, column)],
                                {"now": now, "since": since}).fetchall()[0][0]
            if found is not None:
                return found
        return None
    except duckdb.Error as e:
        raise QueryError(f"query metrics:data_cutoff({table}) failed: {e}") from e


def ticket_judged_at(con: duckdb.DuckDBPyConnection, now: datetime) -> datetime:
    """The instant live ticket figures are judged at: the data cut-off (the newest report
    by `now`), else `now` when there is no ticket yet. The wall's clock and the explorer's
    live views both stop here, so a running window and its comparisons are judged as long
    after their ends as the data reaches, not as the wall clock has run since the last
    load, and a figure stays put between loads."""
    cutoff = data_cutoff(con, now)
    return now if cutoff is None else min(cutoff, now)


def participation_cutoff(con: duckdb.DuckDBPyConnection, now: datetime) -> datetime | None:
    """The newest ballot or engagement event at or before `now` (None: none yet).

    The participation figures' running month ends here, as the ticket figures' does at
    the newest ticket: a late or paused feed reads "截至" its newest act, not the clock.
    """
    found = [data_cutoff(con, now, table=t, column=c)
             for t, c in (("ballots", "cast_at"), ("engagement", "occurred_at"))]
    return max((f for f in found if f is not None), default=None)


# the allowed (table, column) pairs and their statements: never built from input
_CUTOFF_COLUMNS = {
    ("tickets", "reported_at"):
        "select max(reported_at) from tickets where reported_at <= $now"
        " and ($since is null or reported_at >= $since)",
    ("ballots", "cast_at"):
        "select max(cast_at) from ballots where cast_at <= $now"
        " and ($since is null or cast_at >= $since)",
    ("engagement", "occurred_at"):
        "select max(occurred_at) from engagement where occurred_at <= $now"
        " and ($since is null or occurred_at >= $since)",
    ("residents", "updated_at"):
        "select max(updated_at) from residents where updated_at <= $now"
        " and ($since is null or updated_at >= $since)",
}


def _one_row(con: duckdb.DuckDBPyConnection, name: str, sql: str,
             params: dict[str, Any]) -> dict[str, Any]:
    try:
        rel = con.execute(sql, params)
        names = [d[0] for d in rel.description]
        row = rel.fetchall()[0]
    except duckdb.Error as e:
        raise QueryError(f"query metrics:{name} failed: {e}") from e
    return dict(zip(names, row))


def participation_figures_sql() -> str:
    """participation_pct (and its counts) over the compounds in scope, months in
    [$month_from, $month_to]: the declaration's expression over participation_monthly."""
    m = BY_ID["participation_pct"]
    return f"""
select
    {m.sql} as "participation_pct",
    cast(sum(participating_households) as bigint) as participating_households,
    cast(sum(households) as bigint) as households
from {m.source}
where month >= $month_from and month <= $month_to and {_COMPOUND_SCOPE}
    and ($compound is null or compound = $compound)
"""


def participation_figures(con: duckdb.DuckDBPyConnection, month: date, *,
                          community: str | None = None,
                          compound: str | None = None) -> dict[str, Any]:
    """{participation_pct, participating_households, households} for the month holding
    `month`, over one community's compounds (or one compound, or all).

    Raises:
        QueryError: the statement failed.
    """
    first = month.replace(day=1)
    return _one_row(con, "participation_figures", participation_figures_sql(),
                    {"month_from": first, "month_to": first, "community": community,
                     "compound": compound})


def vote_figures(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """{vote_id: {turnout_owners_pct, approval_owners_pct, turnout_area_pct,
    approval_area_pct}} from mart vote_results (percentages unrounded: a surface rounds
    once; the legal thresholds are tested exactly in the mart). A tally does not depend
    on the clock."""
    cols = ", ".join(BY_ID[i].sql for i in ("turnout_owners_pct", "approval_owners_pct"))
    sql = (f"select vote_id, {cols}, turnout_area_pct, approval_area_pct "
           f"from {BY_ID['turnout_owners_pct'].source}")
    try:
        rel = con.execute(sql)
        names = [d[0] for d in rel.description]
        rows = rel.fetchall()
    except duckdb.Error as e:
        raise QueryError(f"query metrics:vote_figures failed: {e}") from e
    return {r[0]: dict(zip(names[1:], r[1:])) for r in rows}


def ledger_figures_sql() -> str:
    """income, expense and balance (exact decimals) over the compounds in scope for
    the month $month: the declarations' expressions over ledger_monthly."""
    cols = ",\n    ".join(f'{BY_ID[i].sql} as "{i}"' for i in ("income", "expense", "balance"))
    return f"""
select
    {cols}
from {BY_ID["income"].source}
where month = $month and {_COMPOUND_SCOPE}
"""


def ledger_figures(con: duckdb.DuckDBPyConnection, month: date, *,
                   community: str | None = None) -> dict[str, Any]:
    """{income, expense, balance} of the month holding `month` (Decimal; None: no
    statement). The balance is a closing figure: show it only for a final month.

    Raises:
        QueryError: the statement failed.
    """
    return _one_row(con, "ledger_figures", ledger_figures_sql(),
                    {"month": month.replace(day=1), "community": community})


def population_figures(con: duckdb.DuckDBPyConnection, *,
                       community: str | None = None) -> dict[str, int]:
    """{residents, key_group_people, "kg:<code>": n, ...} before suppression, over one
    community (where each resident lives) or all. Shown counts of 1..k-1 are suppressed
    by the surfaces (`suppress`); this is the figure they must agree with.

    Raises:
        QueryError: the statement failed.
    """
    sql = (f"select measure, cast(sum(value) as bigint) from "
           f"{BY_ID['residents'].source} where {_SCOPE} group by measure")
    try:
        rows = con.execute(sql, {"community": community}).fetchall()
    except duckdb.Error as e:
        raise QueryError(f"query metrics:population_figures failed: {e}") from e
    return dict(rows)


def suppress(value: int | None, k: int) -> int | None:
    """A count as it may be shown: None (suppressed) when 1..k-1, else the count."""
    return None if value is not None and 1 <= value < k else value
