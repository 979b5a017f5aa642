"""Query layer for serving: the cheap facts behind `/healthz`.

One `sql/queries/serving__health.sql` over `warehouse_meta`; freshness per source comes
from `pipelines.freshness` (load_log and the load journal). No fact table is scanned, so
health checks can poll every few seconds; the deep check (`warehouse.verify`) is apart.
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
    """Which data `/healthz` reports on."""

    data_version: int
    written_at: datetime | None


def health(con: duckdb.DuckDBPyConnection) -> Health:
    """Data version and last write of the warehouse behind `con`.

    Raises:
        QueryError: when the bookkeeping table cannot be read.
    """
    version, written_at = rows(con, "serving__health")[0]
    return Health(int(version), written_at)
