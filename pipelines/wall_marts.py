"""Derived tables of the LED wall (migration 0005), rebuilt inside the load's write.

Called by `pipelines.derived.refresh`, so they never disagree with what was loaded:

- tickets: wall_closure_monthly, the settled closure counts per month and community
  behind the closure view's 12-month trend;
- population: wall_population_cells, people per community before suppression, behind
  the population view.

Each is one grouped scan (about a second at 10 million tickets or a million residents),
replacing a scan per wall render. The SQL lives in pipelines/sql/marts/wall_*.sql.
"""

from __future__ import annotations

import logging

import duckdb

from pipelines.marts import mart_sql

logger = logging.getLogger(__name__)

TICKET_MARTS = ("wall_closure_monthly",)
POPULATION_MARTS = ("wall_population_cells",)


def _rebuild(con: duckdb.DuckDBPyConnection, table: str) -> None:
    con.execute(f"delete from {table}")
    con.execute(f"insert into {table} by name {mart_sql(table)}")


def refresh_wall_tickets(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the wall's ticket marts from tickets as they stand (deadlines applied)."""
    for table in TICKET_MARTS:
        _rebuild(con, table)


def refresh_wall_population(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the wall's population marts (after residents.key_groups is refreshed)."""
    for table in POPULATION_MARTS:
        _rebuild(con, table)


def refresh_wall_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every wall mart (after migration 0005, and in the benchmark generator)."""
    refresh_wall_tickets(con)
    refresh_wall_population(con)
