"""Query layer for exports (and the explorer): one function per report.

Each report is one `sql/queries/exports__<report>.sql`. Its function returns an Arrow
table (exact DECIMAL values) for the given period and filters; `pipelines.exports` writes
the same SQL with the same parameters straight to CSV with DuckDB's COPY, so a file and
a screen built from these functions always show the same figures.

Every report takes `date_from`/`date_to` (dates, inclusive), `as_of` (the local time the
figures are computed at: "closed by now", "overdue now") and optional `community` /
`compound` filters; a few take a rule from settings (`response_hours`, `small_count`,
`key_groups`). A report may leave some out (`Report.uses_period`, `uses_as_of`,
`filters`): DuckDB rejects unused parameters, so each binds exactly what its SQL uses.

`population_summary` has one column per key group of `WALL_KEY_GROUPS`. A column list
that depends on configuration cannot be a bound parameter (DuckDB's PIVOT needs its
values in the text), so `report_sql` writes the codes into the file's `/*key_groups*/`
marker as quoted string literals; they come from settings, never from a request.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.queries import QueryError, rows, sql_text
from pipelines.settings import Settings, parse_key_groups

if TYPE_CHECKING:  # DuckDB imports pyarrow when asked for a table: the CLI needs none
    import pyarrow as pa

logger = logging.getLogger(__name__)

_COMMON = ("date_from", "date_to", "as_of", "community", "compound")


@dataclass(frozen=True)
class Report:
    """A report: its query, the parameters it binds and how it can be split.

    settings_params: parameters filled from settings (see `settings_values`).
    uses_period / uses_as_of: whether the query reads the period and `as_of`
        (a snapshot such as population_summary reads neither).
    filters: the optional filters the report accepts (community, compound).
    subject: what its rows are about (tickets, participation, votes, ledger, population);
        `exports__split_<subject>.sql` returns the values a split export writes one file
        for.
    metrics: the catalogue's metrics (pipelines/metrics/catalog.py) its columns carry;
        /metrics and docs/metrics.md say where each metric is shown from these.
    """

    name: str
    description: str
    settings_params: tuple[str, ...] = ()
    uses_as_of: bool = True
    uses_period: bool = True
    filters: tuple[str, ...] = ("community", "compound")
    splits: tuple[str, ...] = ("community", "compound")
    subject: str = "tickets"
    metrics: tuple[str, ...] = ()

    @property
    def query(self) -> str:
        """The named query behind the report."""
        return f"exports__{self.name}"

    @property
    def split_query(self) -> str:
        """The named query listing the values a split export writes one file for."""
        return f"exports__split_{self.subject}"

    @property
    def params(self) -> tuple[str, ...]:
        """Every parameter the query binds (DuckDB rejects missing and unused ones)."""
        used = {"date_from": self.uses_period, "date_to": self.uses_period,
                "as_of": self.uses_as_of}
        common = tuple(p for p in _COMMON if used.get(p, p in self.filters))
        return common + self.settings_params


REPORTS: dict[str, Report] = {
    r.name: r
    for r in (
        Report("closure_rates", "Closure, on-time and satisfaction rates per community "
               "and level",
               metrics=("reported", "closed", "overdue", "closure_pct", "on_time_pct",
                        "satisfaction_pct")),
        Report("incident_levels", "Tickets per community, category and level",
               uses_as_of=False, metrics=("reported",)),
        Report("overdue_tickets", "Open tickets past their deadline, one row each",
               metrics=("overdue_open",)),
        Report("response_times", "Hours to respond and to close, late responses and "
               "escalations per community and level", settings_params=("response_hours",),
               metrics=("reported", "median_close_hours", "p90_close_hours", "escalations")),
        Report("participation", "Household participation, ballots, questionnaires and "
               "opinions per compound and month", uses_as_of=False,
               subject="participation", metrics=("participation_pct",)),
        Report("vote_results", "Turnout, approval and state of each vote open or closing "
               "in the period", subject="votes",
               metrics=("turnout_owners_pct", "approval_owners_pct")),
        Report("ledger_statement", "Monthly public-accounts statement per compound: "
               "opening, income, expense, adjustment, closing", uses_as_of=False,
               subject="ledger", metrics=("income", "expense", "balance")),
        Report("ledger_entries", "Every ledger line of a compound's month, adjustments "
               "marked, for the notice board", uses_as_of=False,
               subject="ledger"),
        Report("population_summary", "Residents, households and key groups per grid, "
               "small counts suppressed (a snapshot: the period is ignored)",
               settings_params=("small_count", "key_groups"), uses_as_of=False,
               uses_period=False, filters=("community",), splits=("community",),
               subject="population", metrics=("residents", "key_group_count")),
        Report("warnings", "Early warnings (rules and anomalies) active at any moment of "
               "the period, with their evidence and 口径, most severe first",
               uses_as_of=False, subject="warnings"),
    )
}

# Reports whose rows are tickets (the others read population, votes and the ledger).
TICKET_REPORTS = tuple(r.name for r in REPORTS.values() if r.subject == "tickets")

_KEY_GROUPS_MARKER = "/*key_groups*/"
_RESERVED_COLUMNS = {"community", "grid", "residents", "households"}


def settings_values(settings: Settings) -> dict[str, Any]:
    """The settings reports may bind, by parameter name (`Report.settings_params`)."""
    return {"response_hours": settings.response_hours,
            "small_count": settings.small_count,
            "key_groups": list(parse_key_groups(settings.key_groups))}


def report_sql(report: str, params: dict[str, Any]) -> str:
    """The SQL text of `report` for `params`.

    Only population_summary's key-group column list is written into the text (as quoted
    literals in place of `/*key_groups*/`); every value is still bound as a parameter.

    Raises:
        ValueError: a key-group code that cannot be a column name.
    """
    sql = sql_text(REPORTS[report].query)
    if _KEY_GROUPS_MARKER not in sql:
        return sql
    codes = list(params["key_groups"])
    for code in codes:
        if not isinstance(code, str) or not code.isidentifier():
            raise ValueError(f"key group code {code!r} cannot be a column name")
        if code in _RESERVED_COLUMNS:
            raise ValueError(f"key group code {code!r} clashes with a column of the "
                             "report; rename it in WALL_KEY_GROUPS")
    if len(set(codes)) != len(codes):
        raise ValueError(f"key group codes repeat: {codes}")
    literals = "".join(", '" + code.replace("'", "''") + "'" for code in codes)
    return sql.replace(_KEY_GROUPS_MARKER, literals)


def report_params(
    report: str,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    as_of: dt.datetime | None = None,
    community: str | None = None,
    compound: str | None = None,
    **settings_values: Any,
) -> dict[str, Any]:
    """The exact parameter dict for `report`'s query.

    Raises:
        KeyError: unknown report.
        ValueError: a parameter the report needs is missing, a filter it does not take
            was given, or the period is reversed.
    """
    spec = REPORTS[report]
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ValueError(f"period ends ({date_to}) before it starts ({date_from})")
    params: dict[str, Any] = dict(date_from=date_from, date_to=date_to, as_of=as_of,
                                  community=community, compound=compound)
    for name in ("community", "compound"):
        if params[name] is not None and name not in spec.filters:
            raise ValueError(f"report {report} cannot be filtered by {name} "
                             f"(filters: {', '.join(spec.filters)})")
    for name in ("date_from", "date_to", "as_of"):
        if name in spec.params and params[name] is None:
            raise ValueError(f"report {report} needs {name}")
    for name in spec.settings_params:
        if settings_values.get(name) is None:
            raise ValueError(f"report {report} needs {name}")
        params[name] = settings_values[name]
    return {name: params[name] for name in spec.params}


def report_table(con: duckdb.DuckDBPyConnection, report: str, **kwargs: Any) -> pa.Table:
    """Any report by name, for the explorer's "export what I see"."""
    params = report_params(report, **kwargs)
    sql = report_sql(report, params)
    try:
        return con.sql(sql, params=params).to_arrow_table()
    except duckdb.Error as e:
        logger.error("query %s failed with params %r: %s", REPORTS[report].query, params, e)
        raise QueryError(f"query {REPORTS[report].query} failed: {e}") from e


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
    period = dict(date_from=date_from, date_to=date_to) if spec.uses_period else {}
    found = rows(con, spec.split_query, dimension=dimension, **period)
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


def participation(con: duckdb.DuckDBPyConnection, *, date_from: dt.date,
                  date_to: dt.date, community: str | None = None,
                  compound: str | None = None) -> pa.Table:
    """Per compound and month overlapping the period: households, participating
    households, the participation rate (decimal(9,4), half up), ballots, questionnaires
    and opinions (from participation_monthly)."""
    return report_table(con, "participation", date_from=date_from, date_to=date_to,
                        community=community, compound=compound)


def vote_results(con: duckdb.DuckDBPyConnection, *, date_from: dt.date, date_to: dt.date,
                 as_of: dt.datetime, community: str | None = None,
                 compound: str | None = None) -> pa.Table:
    """Each vote open at some time in the period: turnout and approval by owners and by
    area (decimal(9,4), half up) and its state at `as_of` (open, passed, failed)."""
    return report_table(con, "vote_results", date_from=date_from, date_to=date_to,
                        as_of=as_of, community=community, compound=compound)


def ledger_statement(con: duckdb.DuckDBPyConnection, *, date_from: dt.date,
                     date_to: dt.date, community: str | None = None,
                     compound: str | None = None) -> pa.Table:
    """Per compound and month overlapping the period: opening, income, expense,
    adjustment and closing (decimal(18,2)), and the publication date."""
    return report_table(con, "ledger_statement", date_from=date_from, date_to=date_to,
                        community=community, compound=compound)


def ledger_entries(con: duckdb.DuckDBPyConnection, *, date_from: dt.date,
                   date_to: dt.date, community: str | None = None,
                   compound: str | None = None) -> pa.Table:
    """Every ledger line shown in a compound's statement of a month overlapping the
    period, from the journal: the month's own entries and the adjustments posted to it."""
    return report_table(con, "ledger_entries", date_from=date_from, date_to=date_to,
                        community=community, compound=compound)


def population_summary(con: duckdb.DuckDBPyConnection, *, small_count: int,
                       key_groups: Sequence[str] | None = None,
                       community: str | None = None) -> pa.Table:
    """Residents, households and one column per key group, per grid with community and
    sub-district totals, as text: counts 1..small_count-1 read '<k', complements '—'.

    key_groups: the key-group codes, one column each (default: WALL_KEY_GROUPS' default).
    """
    if key_groups is None:
        key_groups = list(parse_key_groups(Settings.__dataclass_fields__[
            "key_groups"].default))
    return report_table(con, "population_summary", small_count=small_count,
                        key_groups=list(key_groups), community=community)
