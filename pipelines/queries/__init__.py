"""Query layer: the only code that reads the warehouse for pages and exports.

Each named query is a file `pipelines/sql/queries/<owner>__<what>.sql` using `$name`
parameters only. Pages and exports call the typed functions in the submodules
(`pipelines.queries.status`, ...), which call `run()` here. Values always travel as bound
parameters; a caller-chosen column or sort order maps through an allow-list in the submodule.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any, Mapping

import duckdb
import pandas as pd
import pyarrow as pa

logger = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql" / "queries"


class QueryError(RuntimeError):
    """A named query failed; the message names the query, the cause is DuckDB's error."""


@functools.cache
def sql_text(name: str) -> str:
    """The SQL of query `name` (file `sql/queries/<name>.sql`)."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise QueryError(f"no query named {name!r}")
    return path.read_text(encoding="utf-8")


def _execute(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any]):
    try:
        return con.execute(sql_text(name), dict(params))
    except duckdb.Error as e:
        logger.error("query %s failed with params %r: %s", name, dict(params), e)
        raise QueryError(f"query {name} failed: {e}") from e


def frame(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pd.DataFrame:
    """Run query `name` and return a DataFrame (DECIMAL becomes float: for display only)."""
    return _execute(con, name, params).df()


def arrow(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pa.Table:
    """Run query `name` and return an Arrow table (exact DECIMAL values)."""
    try:
        return con.sql(sql_text(name), params=dict(params)).to_arrow_table()
    except duckdb.Error as e:
        logger.error("query %s failed with params %r: %s", name, dict(params), e)
        raise QueryError(f"query {name} failed: {e}") from e


def rows(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[tuple]:
    """Run query `name` and return all rows as tuples (exact values)."""
    return _execute(con, name, params).fetchall()
