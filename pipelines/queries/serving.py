"""Query layer for serving: the cheap facts behind `/healthz`.

One `sql/queries/serving__health.sql` over the bookkeeping tables (`warehouse_meta`,
`load_log`); no fact table is scanned, so health checks can poll every few seconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.queries import rows

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    """What `/healthz` reports about the served warehouse."""

    data_version: int
    written_at: datetime | None
    newest_load_at: datetime | None
    newest_record_at: datetime | None
    failed_load_count: int


def health(con: duckdb.DuckDBPyConnection) -> Health:
    """Data version, last write and newest successful load of the warehouse behind `con`.

    Raises:
        QueryError: when the bookkeeping tables cannot be read.
    """
    version, written_at, newest_load, newest_record, failed = rows(
        con, "serving__health"
    )[0]
    return Health(int(version), written_at, newest_load, newest_record, int(failed or 0))
