"""Query layer: results shared by the app's processes (gunicorn workers), kept in one
SQLite file beside the warehouse (`<warehouse>.results`).

`queries.cached` computes a result once per worker. That suits cheap queries, but the
explorer's summary costs about 300 ms of CPU for 90 days at 10M tickets: with four
workers, each of them computing every window an analyst asks for made sixteen analysts
wait seconds. Here a frame one worker computed is read by the others (well under a
millisecond for a small frame).

A frame is stored as Arrow IPC, never pickled, so reading the file cannot run code. Its
key names the warehouse file it was read from (path, inode, mtime, size) as well as the
data version and write time: a swapped, restored or replaced file is another key, so no
result outlives the data it came from (a cache keyed on the data version alone served a
discarded backup's figures). It also names the SQL the code runs, so an upgrade that
changes a query never reads the answers of the old one. Entries are deleted `max_age` seconds after they were
stored. The file is a cache: deleting it (app running or not) only costs recomputation.

If the file cannot be used (a read-only directory, a full disk), results are computed
and not shared, and the first failure in each process is logged as a warning.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

from pipelines.queries import RESULTS, freeze

logger = logging.getLogger(__name__)

_JUDGED_AT = b"judged_at"  # Arrow schema metadata: the instant a judged frame is as of

_SCHEMA = """
create table if not exists results (
    key text primary key,
    body blob not null,
    stored_at real not null
)
"""


class SharedResults:
    """Frames keyed by a string, in one SQLite file read and written by many processes."""

    def __init__(self, path: Path, max_age: float = 600.0):
        self.path = Path(path)
        self.max_age = max_age
        self._lock = threading.Lock()
        self._con: sqlite3.Connection | None = None
        self._pid = 0
        self._warned = False

    def _connection(self) -> sqlite3.Connection:
        # one connection per process: a connection inherited through fork is unusable
        if self._con is None or self._pid != os.getpid():
            con = sqlite3.connect(self.path, timeout=5, isolation_level=None,
                                  check_same_thread=False)
            con.execute("pragma journal_mode=wal")  # readers never wait for a writer
            con.execute("pragma synchronous=off")  # a lost entry is only recomputed
            con.execute(_SCHEMA)
            self._con, self._pid = con, os.getpid()
        return self._con

    def _failed(self, what: str, e: Exception) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("results not shared between workers (%s %s failed: %s); "
                           "each worker computes its own", what, self.path, e)

    def _table(self, key: str) -> pa.Table | None:
        try:
            with self._lock:
                row = self._connection().execute(
                    "select body from results where key = ? and stored_at >= ?",
                    (key, time.time() - self.max_age)).fetchone()
        except (sqlite3.Error, OSError) as e:
            self._failed("reading", e)
            return None
        return None if row is None else ipc.open_stream(row[0]).read_all()

    def get(self, key: str) -> pd.DataFrame | None:
        """The frame stored under `key`, or None (missing, expired or unreadable)."""
        table = self._table(key)
        return None if table is None else table.to_pandas()

    def get_judged(self, key: str) -> tuple[pd.DataFrame, dt.datetime] | None:
        """The frame stored under `key` with the instant it was judged at (`put`'s
        `judged_at`), or None (missing, expired, unreadable or stored without one)."""
        table = self._table(key)
        judged = (table.schema.metadata or {}).get(_JUDGED_AT) if table is not None else None
        if judged is None:
            return None
        return table.to_pandas(), dt.datetime.fromisoformat(judged.decode())

    def put(self, key: str, frame: pd.DataFrame, judged_at: dt.datetime | None = None
            ) -> None:
        """Store `frame` under `key` (with the instant it was judged at, if given) and
        delete expired entries."""
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if judged_at is not None:
            table = table.replace_schema_metadata(
                {**table.schema.metadata, _JUDGED_AT: judged_at.isoformat().encode()})
        sink = pa.BufferOutputStream()
        with ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        now = time.time()
        try:
            with self._lock:
                con = self._connection()
                con.execute("insert or replace into results values (?, ?, ?)",
                            (key, sink.getvalue().to_pybytes(), now))
                con.execute("delete from results where stored_at < ?",
                            (now - self.max_age,))
        except (sqlite3.Error, OSError) as e:
            self._failed("writing", e)


@functools.cache
def _code() -> str:
    """The SQL this code runs (every file under pipelines/sql), as one digest."""
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).resolve().parents[1] / "sql").rglob("*.sql")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def shared_frame(store: SharedResults | None, name: str, source: tuple,
                 compute: Callable[[], pd.DataFrame], **params: Any) -> pd.DataFrame:
    """`compute()`'s frame, computed once by all the processes sharing `store`.

    Args:
        store: where the processes share results (None: this process only).
        name: the query.
        source: the warehouse the frame is read from: its path, the file identity from
            `Reader.snapshot()` and `queries.current_version()`.
        compute: reads the frame from that warehouse.
        **params: every parameter the frame depends on.

    Returns:
        The frame; shared between callers, so treat it as read-only.
    """
    frozen = (name, source, freeze(params))
    key = hashlib.sha256(repr((_code(), frozen)).encode()).hexdigest()

    def load() -> pd.DataFrame:
        found = store.get(key) if store is not None else None
        if found is None:
            found = compute()
            if store is not None:
                store.put(key, found)
        return found

    # in this process: single flight, and a hit costs no read of the file
    return RESULTS.get_or_compute(("shared", frozen), load)


def shared_judged_frame(store: SharedResults | None, name: str, source: tuple,
                        compute: Callable[[], pd.DataFrame],
                        move: Callable[[pd.DataFrame, dt.datetime], pd.DataFrame | None],
                        *, now: dt.datetime, **params: Any) -> pd.DataFrame:
    """`compute()`'s frame judged at `now`, shared like `shared_frame`, and judged again
    at a later `now` from the stored one when `move` can vouch for it.

    A frame judged at an instant (the explorer summary: closed, overdue "as of" then) is
    keyed without it; the instant it was judged at is stored with it. Asked at a later
    `now`, `move(frame, judged_at)` gives the frame judged at `now` (e.g. only its
    instant changes, nothing it counts happened between), or None, and it is computed:
    the next minute's first visitor pays for a check, not for the frame, and is never
    shown a figure that has since changed.

    Args:
        store, name, source, **params: as for `shared_frame` (`now` excluded).
        compute: reads the frame judged at `now`.
        move: the stored frame judged at `now`, given it and when it was judged, or None.
        now: the instant judged at.
    """
    view = (name, source, freeze(params))
    key = hashlib.sha256(repr((_code(), "judged", view)).encode()).hexdigest()

    def load() -> pd.DataFrame:
        found = store.get_judged(key) if store is not None else None
        if found is not None and found[1] == now:
            return found[0]
        frame = move(*found) if found is not None and found[1] < now else None
        if frame is None:
            frame = compute()
        if store is not None:
            store.put(key, frame, judged_at=now)
        return frame

    # in this process: single flight, and a hit in the same minute costs no read
    return RESULTS.get_or_compute(("shared", view, now), load)
