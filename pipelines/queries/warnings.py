"""Query layer for early warnings (/explore/warnings): the list under the page's filters.

The warnings themselves are computed by the pipeline (pipelines/warnings_engine.py);
this module only reads the `warnings` table. Filter values travel as bound lists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from pipelines.queries import arrow, rows

STATUSES = ("new", "ongoing", "resolved")
ACTIVE = ("new", "ongoing")
SEVERITIES = ("critical", "high", "medium")
KINDS = ("rule", "anomaly")
MAX_ROWS = 500


@dataclass(frozen=True)
class WarningFilters:
    """The explorer's filters; an empty tuple means no filter. Dates are inclusive."""

    date_from: dt.date
    date_to: dt.date
    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()


def warning_list(con: duckdb.DuckDBPyConnection, f: WarningFilters,
                 max_rows: int = MAX_ROWS) -> pa.Table:
    """Warnings active in the period under the filters, most severe first (exact
    evidence as Decimal)."""
    return arrow(con, "warnings__list", date_from=f.date_from, date_to=f.date_to,
                 statuses=list(f.statuses), severities=list(f.severities),
                 kinds=list(f.kinds), communities=list(f.communities),
                 max_rows=max_rows)


def warning_communities(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Communities that have had a warning (filter options)."""
    return [c for (c,) in rows(con, "warnings__communities")]
