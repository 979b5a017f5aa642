"""View layer: the wall's cheap data-version endpoint, `GET /api/wall/version`.

The wall polls this every few seconds and redraws only when the answer changes. An
unchanged poll costs one `os.stat` of the warehouse file (and of the load journal) and
no query: the data version and the freshness rows behind the badges are read once per
warehouse file (keyed by inode, mtime and size, as `warehouse.Reader` does) and the
badges are then judged again from the clock and the journal. The answer is about 200
bytes of JSON:

    {"version": "1234@2026-11-23 09:00:01.123456", "day": "2026-11-23",
     "state": "fresh-ok-ok-failing-ok", "key": "1234@...|2026-11-23|fresh-ok-ok-failing-ok"}

`version` is the data version and the time it was written (`queries.current_version`):
a write that changes no figure (the export log, a migration) leaves it alone, so walls
do not redraw; a restored backup has another write time. `key` changes when the data
changes, the local day rolls over, or a source's freshness or failure state changes.
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask, jsonify

from dashboards import _data
from pipelines import freshness, journal, queries
from pipelines.queries import wall as q

logger = logging.getLogger(__name__)

ROUTE = "/api/wall/version"

_lock = threading.Lock()
_cache: dict[str, object] = {"identity": None, "found": None}


def _identity(path) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


def _read(identity: str) -> tuple[str, list[dict], list[int]] | None:
    """Data version, freshness rows and fallback years of the current file; queried
    once per file."""
    with _lock:
        if _cache["identity"] == identity:
            return _cache["found"]
    try:
        con = _data.reader().cursor()
        try:
            found = (str(queries.current_version(con)), freshness.loaded(con),
                     q.fallback_years(con))
        finally:
            con.close()
    except Exception as e:  # noqa: BLE001  # an unreadable file: the wall shows its own message
        logger.warning("wall version: cannot read the warehouse: %s", e)
        found = None
    with _lock:
        _cache.update(identity=identity, found=found)
    return found


def version_payload() -> dict:
    """The answer of the endpoint (also used by the page for its first version key)."""
    settings = _data.settings()
    now = q.local_now(settings.timezone)
    identity = _identity(settings.db_path)
    day = now.date().isoformat()
    version = identity
    if identity is None:
        state = "missing"
    else:
        found = _read(identity)
        if found is None:
            state = "unreadable"
        else:
            version, loads, years = found
            verdicts = freshness.judge(loads, journal.summary(settings.db_path),
                                       settings, now)
            status = q.status_from(verdicts, years)
            state = "-".join(
                ["stale" if status["is_stale"] else "fresh"]
                + [b["state"] for b in status["badges"]]
            )
    return {
        "version": version,
        "day": day,
        "state": state,
        "key": f"{version}|{day}|{state}",
    }


def register(server: Flask) -> None:
    """Add `GET /api/wall/version` to the Flask server (called once by create_app)."""

    def wall_version():
        response = jsonify(version_payload())
        response.headers["Cache-Control"] = "no-store"
        return response

    server.add_url_rule(ROUTE, "wall_version", wall_version, methods=["GET"])
