"""Query layer: the only code that reads the warehouse for pages and exports.

Each named query is a file `pipelines/sql/queries/<owner>__<what>.sql` using `$name`
parameters only. Pages and exports call the typed functions in the submodules
(`pipelines.queries.status`, ...), which call `run()` here. Values always travel as bound
parameters; a caller-chosen column or sort order maps through an allow-list in the submodule.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import duckdb

if TYPE_CHECKING:  # DuckDB imports pandas and pyarrow when asked for a frame: loads need none
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


# --- Result cache (opt-in): one computation per (query, parameters, data version) ------
#
# Fifty walls polling the same view after a load should cost one query, not fifty. The
# cache lives in each process (a gunicorn worker): N workers compute a result at most N
# times per data change. Results are shared between callers: treat them as read-only.
# A key's first caller computes while later callers of the same key wait for it
# ("single flight"), so a burst of walls right after a load still runs the query once.


def freeze(value: Any) -> Any:
    """A hashable stand-in for a parameter value (lists, dicts and sets included)."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(freeze(v) for v in value))
    return value


class ResultCache:
    """A small thread-safe LRU of results keyed by (name, data version, parameters)."""

    def __init__(self, maxsize: int = 512):
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._pending: dict[tuple, threading.Event] = {}
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        """Forget every result (tests; memory pressure)."""
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def get_or_compute(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """The cached value of `key`, computing it once when missing.

        An exception in `compute` is raised to its caller and not cached; a caller that
        was waiting for it then computes itself.
        """
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    self.hits += 1
                    return self._items[key]
                event = self._pending.get(key)
                if event is None:
                    event = self._pending[key] = threading.Event()
                    self.misses += 1
                    break
            event.wait()
        try:
            value = compute()
            with self._lock:
                self._items[key] = value
                self._items.move_to_end(key)
                while len(self._items) > self.maxsize:
                    self._items.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)
            event.set()


RESULTS = ResultCache()


def current_version(con: duckdb.DuckDBPyConnection) -> str:
    """The data version of the warehouse behind `con` and when it was written, e.g.
    ``"12@2026-12-03 09:00:01.123456"``: the key of every cached result.

    The number alone is not enough: a warehouse restored from a backup and loaded again
    reaches the same number with other data; its write time differs.
    """
    try:
        version, written_at = con.execute(
            "select data_version, written_at from warehouse_meta").fetchall()[0]
    except duckdb.Error as e:
        raise QueryError(f"cannot read the data version: {e}") from e
    return f"{version}@{written_at}"


def cached(name: str, version: Any, compute: Callable[[], Any], **params: Any) -> Any:
    """`compute()`'s result, cached under (name, version, params).

    For page functions that run several queries (e.g. one wall view): pass every
    parameter the result depends on, and the data version it was read at::

        version = queries.current_version(con)
        data = queries.cached("wall:levels", version,
                              lambda: wall.wall_view_data(con, "levels", clock=c), day=day)
    """
    return RESULTS.get_or_compute((name, version, freeze(params)), compute)


def cached_frame(
    con: duckdb.DuckDBPyConnection, name: str, version: Any, **params: Any
) -> pd.DataFrame:
    """`frame(con, name, **params)`, computed once per data version (read-only result)."""
    return cached(f"frame:{name}", version, lambda: frame(con, name, **params), **params)
