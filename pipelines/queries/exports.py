"""Query layer for exports (and the explorer): one function per report.

Each report is one `sql/queries/exports__<report>.sql`. Its function returns an Arrow
table (exact DECIMAL values) for the given period and filters; `pipelines.exports` writes
the same SQL with the same parameters straight to CSV with DuckDB's COPY, so a file and
a screen built from these functions always show the same figures.

Every report takes `date_from`/`date_to` (dates, inclusive), `as_of` (the local time the
figures are computed at: "closed by now", "overdue now") and optional `community` /
`compound` filters; a few take a rule from settings (`response_hours`, `small_count`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.queries import arrow, rows

logger = logging.getLogger(__name__)

_COMMON = ("date_from", "date_to", "as_of", "community", "compound")


@dataclass(frozen=True)
class Report:
    """A report: its query, the parameters it binds and how it can be split.

    settings_params: parameters filled from `Settings` fields of the same name.
    split_query: query returning the values a split export writes one file for.
    """

    name: str
    description: str
    settings_params: tuple[str, ...] = ()
    uses_as_of: bool = True
    splits: tuple[str, ...] = ("community", "compound")
    split_query: str = "exports__split_tickets"

    @property
    def query(self) -> str:
        """The named query behind the report."""
        return f"exports__{self.name}"

    @property
    def params(self) -> tuple[str, ...]:
        """Every parameter the query binds (DuckDB rejects missing and unused ones)."""
        common = _COMMON if self.uses_as_of else tuple(p for p in _COMMON if p != "as_of")
        return common + self.settings_params


REPORTS: dict[str, Report] = {
    r.name: r
    for r in (
        Report("closure_rates", "Closure, on-time and satisfaction rates per community "
               "and level"),
        Report("incident_levels", "Tickets per community, category and level",
               uses_as_of=False),
        Report("overdue_tickets", "Open tickets past their deadline, one row each"),
        Report("response_times", "Hours to respond and to close, late responses and "
               "escalations per community and level", settings_params=("response_hours",)),
    )
}


def report_params(
    report: str,
    *,
    date_from: dt.date,
    date_to: dt.date,
    as_of: dt.datetime,
    community: str | None = None,
    compound: str | None = None,
    **settings_values: Any,
) -> dict[str, Any]:
    """The exact parameter dict for `report`'s query.

    Raises:
        KeyError: unknown report.
        ValueError: a settings parameter the report needs is missing, or the period is
            reversed.
    """
    spec = REPORTS[report]
    if date_to < date_from:
        raise ValueError(f"period ends ({date_to}) before it starts ({date_from})")
    params: dict[str, Any] = dict(date_from=date_from, date_to=date_to, as_of=as_of,
                                  community=community, compound=compound)
    for name in spec.settings_params:
        if settings_values.get(name) is None:
            raise ValueError(f"report {report} needs {name}")
        params[name] = settings_values[name]
    return {name: params[name] for name in spec.params}


def report_table(con: duckdb.DuckDBPyConnection, report: str, **kwargs: Any) -> pa.Table:
    """Any report by name, for the explorer's "export what I see"."""
    return arrow(con, REPORTS[report].query, **report_params(report, **kwargs))


def split_values(
    con: duckdb.DuckDBPyConnection,
    report: str,
    dimension: str,
    *,
    date_from: dt.date,
    date_to: dt.date,
) -> list[str]:
    """The values of `dimension` a split export writes one file for, sorted.

    Raises:
        ValueError: the report cannot be split by `dimension` (allow-list).
    """
    spec = REPORTS[report]
    if dimension not in spec.splits:
        raise ValueError(f"report {report} can be split by {', '.join(spec.splits)}, "
                         f"not {dimension!r}")
    found = rows(con, spec.split_query, dimension=dimension, date_from=date_from,
                 date_to=date_to)
    return [value for (value,) in found]


def closure_rates(con: duckdb.DuckDBPyConnection, *, date_from: dt.date, date_to: dt.date,
                  as_of: dt.datetime, community: str | None = None,
                  compound: str | None = None) -> pa.Table:
    """Per community and level: tickets reported in the period, closed, closed on time,
    rated, satisfied, and the three rates (decimal(9,4), half up)."""
    return report_table(con, "closure_rates", date_from=date_from, date_to=date_to,
                        as_of=as_of, community=community, compound=compound)


def incident_levels(con: duckdb.DuckDBPyConnection, *, date_from: dt.date,
                    date_to: dt.date, as_of: dt.datetime, community: str | None = None,
                    compound: str | None = None) -> pa.Table:
    """Tickets reported in the period per community, category and level."""
    return report_table(con, "incident_levels", date_from=date_from, date_to=date_to,
                        as_of=as_of, community=community, compound=compound)


def overdue_tickets(con: duckdb.DuckDBPyConnection, *, date_from: dt.date,
                    date_to: dt.date, as_of: dt.datetime, community: str | None = None,
                    compound: str | None = None) -> pa.Table:
    """Tickets reported in the period, open at `as_of` and past their deadline."""
    return report_table(con, "overdue_tickets", date_from=date_from, date_to=date_to,
                        as_of=as_of, community=community, compound=compound)


def response_times(con: duckdb.DuckDBPyConnection, *, date_from: dt.date,
                   date_to: dt.date, as_of: dt.datetime, response_hours: int,
                   community: str | None = None, compound: str | None = None) -> pa.Table:
    """Per community and level: median/p90 hours to respond and close, late responses,
    unanswered tickets over the limit and escalations."""
    return report_table(con, "response_times", date_from=date_from, date_to=date_to,
                        as_of=as_of, community=community, compound=compound,
                        response_hours=response_hours)
