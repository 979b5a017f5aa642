"""Ticket figures for any window, generated from the declarations in `catalog`.

This is the reference computation: the wall's, the explorer's and the exports' queries
use the same macros and must agree with it (tests/unit/test_metrics_agree.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from pipelines.metrics.catalog import METRICS, Metric
from pipelines.metrics.windows import Window
from pipelines.queries import QueryError

_SCOPE = "($community is null or community = $community)"


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


def data_cutoff(
    con: duckdb.DuckDBPyConnection, now: datetime, *, table: str = "tickets",
    column: str = "reported_at",
) -> datetime | None:
    """The newest record of `table` at or before `now` (None: no record yet).

    A figure's to-date window ends here, not at the wall clock: "today" compared with
    last year runs to the same hour of the newest ticket on both sides.
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


# the allowed (table, column) pairs and their statements: never built from input
_CUTOFF_COLUMNS = {
    ("tickets", "reported_at"):
        "select max(reported_at) from tickets where reported_at <= $now"
        " and ($since is null or reported_at >= $since)",
}
