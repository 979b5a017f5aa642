"""Writes and reads of a one-table warehouse, for tests of the writer's file handling."""

from __future__ import annotations

import duckdb

from pipelines import warehouse


def write_value(settings, value: int) -> None:
    """One write through the writer: table t gets `value`."""
    with warehouse.writer(settings) as con:
        con.execute("create table if not exists t (v integer)")
        con.execute("insert into t values ($v)", {"v": value})


def values(settings) -> list[int]:
    """The values of table t in the served file, in order."""
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return [v for (v,) in con.execute("select v from t order by v").fetchall()]
    finally:
        con.close()
