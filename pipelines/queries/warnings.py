"""Query layer for early warnings (/explore/warnings): the list under the page's filters.

The warnings themselves are computed by the pipeline (pipelines/warnings_engine.py);
this module only reads the `warnings` table. Filter values travel as bound lists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.queries import rows
from pipelines.queries.exports import report_table

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
    """Warnings active in the period under the filters, most severe first, then the
    active before the resolved and the newest first (exact evidence as Decimal).

    The rows are the `warnings` export's for the period (one query for both), narrowed
    here: the warnings table holds episodes, not tickets, so it is small.
    """
    table = report_table(con, "warnings", date_from=f.date_from, date_to=f.date_to)
    for column, chosen in (("status", f.statuses), ("severity", f.severities),
                           ("kind", f.kinds), ("community", f.communities)):
        if chosen:
            table = table.filter(pc.fill_null(
                pc.is_in(table[column], value_set=pa.array(chosen, pa.string())), False))
    rank = pc.index_in(table["severity"], value_set=pa.array(SEVERITIES))
    resolved = pc.equal(table["status"], "resolved")
    ordered = table.append_column("_rank", rank).append_column("_resolved", resolved)
    ordered = ordered.sort_by([("_rank", "ascending"), ("_resolved", "ascending"),
                               ("first_seen_at", "descending"),
                               ("warning_id", "ascending")])
    return ordered.drop_columns(["_rank", "_resolved"]).slice(0, max_rows)


def warning_communities(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Communities that have had a warning (filter options)."""
    return [c for (c,) in rows(con, "warnings__communities")]
