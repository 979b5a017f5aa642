"""Derived data refreshed inside every load's write, so it is never out of step.

tickets: the working-day calendar for the years loaded, and each new or changed ticket's
deadline (pipelines/workdays.py), then the explorer's filter options
(ticket_dimension_values) and the wall's closure months (pipelines/wall_marts.py).
Population, participation and the ledger: pipelines/marts.py.
"""

from __future__ import annotations

import logging

import duckdb

from pipelines import marts, wall_marts, workdays
from pipelines.settings import Settings, local_now

logger = logging.getLogger(__name__)


def _tickets(con: duckdb.DuckDBPyConnection, settings: Settings, load_id: int) -> list[str]:
    first, last = con.execute(
        "select min(year(reported_at)), max(year(coalesce(closed_at, reported_at))) "
        "from tickets where load_id = $id", {"id": load_id}).fetchall()[0]
    this_year = local_now(settings).year
    workdays.refresh_calendar(
        con, settings, min(first or this_year, this_year), max(last or this_year, this_year))
    # A changed calendar or time limit has just recomputed every deadline; otherwise only
    # this load's new and changed tickets (inserted without one) need theirs.
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


def refresh(con: duckdb.DuckDBPyConnection, settings: Settings, source: str,
            load_id: int) -> list[str]:
    """Bring derived tables up to date after a load of `source`; return warnings."""
    step = _REFRESH.get(source)
    return step(con, settings, load_id) if step else []
