"""Query layer for the status page: what the warehouse holds and how fresh it is.

Every function runs one `sql/queries/status__<what>.sql` through `pipelines.queries`.
Table names come from DuckDB's catalogue (`duckdb_tables()`), never from a request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from pipelines.queries import frame, rows

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WarehouseMeta:
    """Which warehouse this is: its schema version, data version and last write time."""

    schema_version: int
    data_version: int
    written_at: datetime | None


def warehouse_meta(con: duckdb.DuckDBPyConnection) -> WarehouseMeta:
    """Schema version, data version and time of the last write.

    Raises:
        QueryError: when the bookkeeping tables cannot be read.
    """
    schema_version, data_version, written_at = rows(con, "status__meta")[0]
    return WarehouseMeta(int(schema_version or 0), int(data_version), written_at)


def table_sizes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every table in the warehouse: table_name, row_count, column_count, comment.

    Table names come from the catalogue and are bound as parameters, one count each.
    """
    tables = frame(con, "status__tables")
    counts = [
        rows(con, "status__row_count", table_name=name)[0][0]
        for name in tables["table_name"]
    ]
    tables.insert(1, "row_count", pd.Series(counts, index=tables.index, dtype="int64"))
    return tables


def recent_loads(con: duckdb.DuckDBPyConnection, *, limit: int = 20) -> pd.DataFrame:
    """The `limit` most recent rows of load_log, newest first."""
    return frame(con, "status__load_log", limit=limit)


def unofficial_calendar_years(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int]]:
    """(year, day count) for years whose working days fell back to Monday-Friday."""
    return [(int(y), int(n)) for y, n in rows(con, "status__calendar_warnings")]


def quarantine_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Quarantined rows counted by source and reason, largest first."""
    return frame(con, "status__quarantine")
