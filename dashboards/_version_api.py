"""View layer: the wall's cheap data-version endpoint, `GET /api/wall/version`.

The wall polls this every few seconds and redraws only when the answer changes. An
unchanged poll costs one `os.stat` of the warehouse file and no query: the freshness
rows behind the stale flags are read once per warehouse file (keyed by inode, mtime and
size, as `warehouse.Reader` does) and the flags are then recomputed from the clock.
The answer is about 200 bytes of JSON:

    {"version": "1234-1700000000000000000-52690944", "day": "2026-11-23",
     "state": "ok", "key": "1234-...|2026-11-23|ok"}

`key` changes when the data changes, the local day rolls over, or a source's freshness
state (ok / late / missed / stale) changes.
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask, jsonify

from dashboards import _data
from pipelines.queries import wall as q

logger = logging.getLogger(__name__)

ROUTE = "/api/wall/version"

_lock = threading.Lock()
_cache: dict[str, object] = {"identity": None, "freshness": None}


def _identity(path) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


def _freshness(identity: str) -> tuple[list[dict], list[int]] | None:
    """Freshness rows and fallback years of the current file; queried once per file."""
    with _lock:
        if _cache["identity"] == identity:
            return _cache["freshness"]
    try:
        con = _data.reader().cursor()
        try:
            found = (q.freshness_rows(con), q.fallback_years(con))
        finally:
            con.close()
    except Exception as e:  # noqa: BLE001  # an unreadable file: the wall shows its own message
        logger.warning("wall version: cannot read freshness: %s", e)
        found = None
    with _lock:
        _cache.update(identity=identity, freshness=found)
    return found


def version_payload() -> dict:
    """The answer of the endpoint (also used by the page for its first version key)."""
    settings = _data.settings()
    now = q.local_now(settings.timezone)
    identity = _identity(settings.db_path)
    day = now.date().isoformat()
    if identity is None:
        state = "missing"
    else:
        found = _freshness(identity)
        if found is None:
            state = "unreadable"
        else:
            status = q.status_from(found[0], found[1], now=now,
                                   stale_hours=settings.stale_hours)
            state = "-".join(
                ["stale" if status["is_stale"] else "fresh"]
                + [b["state"] for b in status["badges"]]
            )
    return {
        "version": identity,
        "day": day,
        "state": state,
        "key": f"{identity}|{day}|{state}",
    }


def register(server: Flask) -> None:
    """Add `GET /api/wall/version` to the Flask server (called once by create_app)."""

    def wall_version():
        response = jsonify(version_payload())
        response.headers["Cache-Control"] = "no-store"
        return response

    server.add_url_rule(ROUTE, "wall_version", wall_version, methods=["GET"])
