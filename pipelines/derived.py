"""Derived data refreshed inside every load's write, so it is never out of step.

tickets: before the insert, the working-day calendar for the years loaded, so that each new
or changed ticket goes in with its deadline (pipelines/workdays.py); after it, the explorer's filter options
(ticket_dimension_values) and the wall's closure months (pipelines/wall_marts.py).
Population, participation and the ledger: pipelines/marts.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import duckdb

from pipelines import marts, wall_marts, workdays
from pipelines.settings import Settings, local_now

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InsertExtras:
    """Columns a load's insert computes on the way in: `join` SQL after `from _typed t`,
    and the expression of each extra target column."""

    join: str = ""
    columns: dict[str, str] = field(default_factory=dict)


def _tickets_insert(con: duckdb.DuckDBPyConnection, settings: Settings) -> InsertExtras:
    # The calendar must cover this load's tickets before they go in with their deadlines.
    first, last = con.execute(
        "select min(year(reported_at)), max(year(coalesce(closed_at, reported_at))) "
        "from _typed where _reason = ''").fetchall()[0]
    this_year = local_now(settings).year
    workdays.refresh_calendar(
        con, settings, min(first or this_year, this_year), max(last or this_year, this_year))
    workdays.stage_due_days(con)
    return InsertExtras(workdays.DEADLINE_JOIN.format(t="t"), workdays.DEADLINE_COLUMNS)


def _tickets(con: duckdb.DuckDBPyConnection, settings: Settings, load_id: int) -> list[str]:
    # Tickets whose start date is outside the calendar went in without a deadline:
    # apply_deadlines counts them in a logged warning.
    pending = con.execute(
        "select count(*) from tickets where load_id = $id and due_on is null",
        {"id": load_id}).fetchall()[0][0]
    if pending:
        workdays.apply_deadlines(con, load_id)
    marts.refresh_ticket_options(con)
    wall_marts.refresh_wall_tickets(con)  # after deadlines: the closure trend uses them
    # Say so only when this load's deadlines really were counted Monday-Friday.
    fallback = con.execute(
        """
        select year(due_on) as year, count(*) from tickets
        where load_id = $id and is_calendar_fallback group by all order by year
        """, {"id": load_id}).fetchall()
    return [f"{n:,} ticket(s) due in {year}: " + workdays.fallback_warning(year)
            for year, n in fallback]


_REFRESH = {"tickets": _tickets}


# Population, participation and ledger (issue 3): the SQL lives in pipelines/sql/marts/.
def _population(con, settings: Settings, load_id: int) -> list[str]:
    warnings = marts.refresh_key_groups(con, settings)
    marts.refresh_population_counts(con)
    wall_marts.refresh_wall_population(con)  # after key groups
    return warnings + marts.refresh_participation(con, settings)


def _votes(con, settings: Settings, load_id: int) -> list[str]:
    marts.refresh_acts(con)  # ballots count under their vote's compound
    return marts.refresh_vote_results(con, settings)


def _ballots(con, settings: Settings, load_id: int) -> list[str]:
    return marts.refresh_vote_results(con, settings) + marts.refresh_participation(
        con, settings)


def _engagement(con, settings: Settings, load_id: int) -> list[str]:
    return marts.refresh_participation(con, settings)


def _ledger(con, settings: Settings, load_id: int) -> list[str]:
    return marts.refresh_ledger(con, settings, load_id)


def _ledger_balances(con, settings: Settings, load_id: int) -> list[str]:
    return marts.refresh_ledger(con, settings, load_id, post=False)


_REFRESH.update(population=_population, votes=_votes, ballots=_ballots,
                engagement=_engagement, ledger=_ledger, ledger_balances=_ledger_balances)


_INSERT = {"tickets": _tickets_insert}


def insert_extras(con: duckdb.DuckDBPyConnection, settings: Settings,
                  source: str) -> InsertExtras:
    """Before a load of `source` inserts its rows (staged in `_typed`, aliased `t`): bring
    what they are computed from up to date and return the join and columns to add."""
    step = _INSERT.get(source)
    return step(con, settings) if step else InsertExtras()


def refresh(con: duckdb.DuckDBPyConnection, settings: Settings, source: str,
            load_id: int) -> list[str]:
    """Bring derived tables up to date after a load of `source`; return warnings."""
    step = _REFRESH.get(source)
    return step(con, settings, load_id) if step else []
