"""View layer: serving for real — security headers, `/healthz`, and access control.

`register(app, settings)` (called once by `app.create_app`) adds to the Flask server:

- **Security headers** on every response: a Content-Security-Policy Dash runs under
  (scripts only from this server plus the hashes of Dash's own inline scripts; inline
  styles, which React and plotly set, allowed), `X-Content-Type-Options: nosniff`,
  `frame-ancestors 'none'` with `X-Frame-Options: DENY`, `Referrer-Policy: same-origin`.
- **Compression and caching**: brotli or gzip for HTML, JSON (callbacks) and JS/CSS;
  fingerprinted static files (Dash's component bundles, `/assets/...?m=`) cached for a
  year as immutable, other static files revalidated (`no-cache`), everything else
  (pages, callbacks, downloads, `/healthz`) `no-store`. See `cache_policy`.
- **`GET /healthz`**: JSON with status, data version and, per source, freshness and
  failed load attempts (`pipelines.freshness`). HTTP 503 when the warehouse cannot be
  read, a source's newest load attempt failed, or its data is older than its cadence
  (the reason is in `error`). It reads bookkeeping tables and the load journal only;
  `/healthz?deep=1` also reads every table once (corrupt blocks: status "corrupt").
  It is public, so why a load failed (text quoting the file's rows) is added only for a
  logged-in analyst; everyone else reads it on the status page.
- **Access**: `dashboards._access` (off unless a users or wall-tokens file is configured).
- **Error references**: `error_reference()` gives the short id a user sees in place of an
  error, which is also in the log line with the details; `redact_paths()` keeps server
  paths out of text that unauthenticated clients read.

Make entries for the users and wall-tokens files with::

    python -m dashboards._serving add-user NAME >> users.txt      # asks for a password
    python -m dashboards._serving add-wall NAME >> wall-tokens.txt  # prints the wall URL
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import re
import secrets
import sys
import threading
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any, Mapping

import duckdb
from dash.fingerprint import check_fingerprint
from flask import Flask, Response, jsonify, request
from flask_compress import Compress
from werkzeug.security import generate_password_hash

from dashboards import _access, _data
from pipelines import freshness, warehouse
from pipelines.queries import QueryError
from pipelines.queries import serving as q
from pipelines.settings import Settings, local_now
from pipelines.warehouse import WarehouseError

logger = logging.getLogger(__name__)

HEALTH_ROUTE = "/healthz"
# An absolute POSIX path (at least two segments) inside a message.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/(?:[^\s/'\"`:,;()]+/)+([^\s/'\"`:,;()]+)")

# --- Security headers -------------------------------------------------------------------


def content_security_policy(script_hashes: list[str]) -> str:
    """The CSP for every response.

    Scripts: this server only, plus the hashes of the inline scripts Dash writes into the
    index page (its renderer start and any inline clientside callbacks); no eval.
    Styles: 'unsafe-inline' because React style props and plotly's injected <style> need
    it; styles cannot run code. Images: data: URIs for plotly's toolbar icons.
    """
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' " + " ".join(script_hashes),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _add_security_headers(app, server: Flask) -> None:
    policy: dict[str, str] = {}

    @server.after_request
    def security_headers(response: Response) -> Response:
        if "csp" not in policy:
            # After the first request every page and inline callback is registered.
            policy["csp"] = content_security_policy(list(app.csp_hashes()))
        response.headers["Content-Security-Policy"] = policy["csp"]
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = cache_policy(
            request.path, request.args, response.status_code,
            prefix=app.config.requests_pathname_prefix,
            assets=app.config.assets_url_path)
        return response


# --- Compression and caching ------------------------------------------------------------

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
NO_STORE = "no-store"


def cache_policy(path: str, query: Mapping[str, str], status: int, *, prefix: str = "/",
                 assets: str = "assets") -> str:
    """The Cache-Control value for a response to `path`.

    A URL that changes whenever its content does may be kept a year without asking
    again: Dash's component bundles carry the package version and file time in their
    name, `/assets/` files their file time in `?m=`, the favicon the Dash version.
    Static files without such a mark (the lazily loaded chunks, plotly.min.js) are
    revalidated by ETag. Everything else is data or a page that may hold data: not stored.
    """
    if status not in (200, 304):
        return NO_STORE
    suites = f"{prefix}_dash-component-suites/"
    if path.startswith(suites):
        _, fingerprinted = check_fingerprint(path[len(suites):])
        return IMMUTABLE if fingerprinted else REVALIDATE
    if path.startswith(f"{prefix}{assets.strip('/')}/"):
        return IMMUTABLE if "m" in query else REVALIDATE
    if path == f"{prefix}_favicon.ico":
        return IMMUTABLE if "v" in query else REVALIDATE
    return NO_STORE


class StaticCompressionCache:
    """Compressed static bodies, so a first visit or a revalidation does not compress
    plotly.min.js again (4.8 MB: 0.24 s of CPU at brotli level 4).

    flask-compress asks the cache for every response; keys of anything but a static
    file (see `_compression_key`) end in ';' and are neither read nor kept. At most
    `size` bodies are kept, least recently used dropped, so odd query strings cannot
    grow it.
    """

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def set(self, key: str, value: bytes) -> None:
        if key.endswith(";"):
            return
        with self._lock:
            self._bodies[key] = value
            self._bodies.move_to_end(key)
            while len(self._bodies) > self._size:
                self._bodies.popitem(last=False)


def _add_compression(app, server: Flask) -> None:
    # Brotli where the browser takes it (smaller JS), gzip otherwise; the default MIME
    # list covers HTML, JSON, JS and CSS. Streamed responses (assets, CSV downloads)
    # are compressed as they stream and never cached.
    static = (f"{app.config.requests_pathname_prefix}_dash-component-suites/",)

    def _compression_key(req) -> str:
        return req.full_path if req.path.startswith(static) else ""

    server.config.update(
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["br", "deflate"],
        COMPRESS_CACHE_BACKEND=StaticCompressionCache,
        COMPRESS_CACHE_KEY=_compression_key,
    )
    Compress(server)


# --- Error text ---------------------------------------------------------------------------


def error_reference() -> str:
    """A short random id that ties what a user sees to the log line with the details."""
    return secrets.token_hex(4)


def redact_paths(text: str) -> str:
    """`text` with every absolute server path cut to its file name."""
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1), text)


# --- /healthz ---------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(sep=" ") if value is not None else None


def _source_health(v: freshness.SourceFreshness, details: bool) -> dict[str, Any]:
    health = {
        "state": "failing" if v.failing else v.state,
        "data_at": _iso(v.data_at),
        "loaded_at": _iso(v.loaded_at),
        "age_hours": freshness.hours(v.age),
        "cadence_hours": freshness.hours(v.cadence),
        "stale": v.stale,
        "failing": v.failing,
        "failures_since_ok": v.failures,
        "last_attempt_at": _iso(v.last_attempt_at),
        "last_outcome": v.last_outcome,
    }
    if details:
        health["last_error"] = redact_paths(v.last_error) if v.last_error else None
    return health


def _problem(v: freshness.SourceFreshness, details: bool) -> str | None:
    if v.failing and details:
        return f"{v.source}: newest load {v.last_outcome} ({redact_paths(v.last_error or '')})"
    if v.failing:
        return f"{v.source}: newest load {v.last_outcome}"
    if v.data_at is None:
        return f"{v.source}: no data"
    if v.stale:
        return (f"{v.source}: newest record {freshness.hours(v.age):g} h old "
                f"(cadence {freshness.hours(v.cadence):g} h)")
    return None


# /healthz is public: a deep check (every table read once) is shared by the requests of
# this long, so nobody can make the server read the whole warehouse at will.
DEEP_REUSE_SECONDS = 60.0
_deep_lock = threading.Lock()
_deep_last: tuple[tuple, float, warehouse.Verified] | None = None


def _verified(db_path) -> tuple[warehouse.Verified, float]:
    """`warehouse.verify` of the served file and its age in seconds: a result for the same
    file (inode, modification time) younger than DEEP_REUSE_SECONDS is reused, and
    concurrent requests wait for one run. A failure is never reused."""
    global _deep_last
    with _deep_lock:
        st = os.stat(db_path)
        key = (str(db_path), st.st_ino, st.st_mtime_ns, st.st_size)
        now = time.monotonic()
        if (_deep_last is not None and _deep_last[0] == key
                and now - _deep_last[1] < DEEP_REUSE_SECONDS):
            return _deep_last[2], now - _deep_last[1]
        verified = warehouse.verify(db_path)
        _deep_last = (key, time.monotonic(), verified)
        return verified, 0.0


def health_payload(settings: Settings, deep: bool = False,
                   details: bool = False) -> tuple[dict[str, Any], int]:
    """(JSON body, HTTP status) of `/healthz`: 200 ok; 503 unavailable, corrupt (deep
    check), failing (a source's newest load attempt did not load) or stale (a source's
    data is older than its cadence). Every source is reported under `sources`, so a
    healthy source never hides one that fails.

    The reasons a load failed (`last_error`, and in `error`) quote rows of the file, so
    they come only with `details` (a logged-in analyst); the public answer has each
    source's state, times and counts.

    With `deep`, every table is read once (`warehouse.verify`); `deep.seconds` says what
    it cost, `deep.age_seconds` how old the shared result is (see `_verified`).
    """
    now = local_now(settings)
    body: dict[str, Any] = {
        "status": "ok",
        "checked_at": _iso(now.replace(microsecond=0)),
    }
    try:
        con = _data.reader().cursor()
        try:
            h = q.health(con)
            verdicts = freshness.freshness(con, settings, now)
        finally:
            con.close()
        if deep:
            verified, age = _verified(settings.db_path)
            body["deep"] = {"tables": verified.tables, "rows": verified.rows,
                            "seconds": round(verified.seconds, 3),
                            "age_seconds": round(age, 1)}
    except (WarehouseError, QueryError, duckdb.Error, OSError) as e:
        logger.warning("healthz: warehouse unavailable: %s", e)
        corrupt = isinstance(e, warehouse.CorruptTableError)
        body.update(status="corrupt" if corrupt else "unavailable",
                    error=redact_paths(str(e)))
        return body, 503
    loads = [v.loaded_at for v in verdicts if v.loaded_at]
    records = [v.data_at for v in verdicts if v.data_at]
    body.update(
        data_version=h.data_version,
        written_at=_iso(h.written_at),
        newest_load_at=_iso(max(loads, default=None)),
        newest_record_at=_iso(max(records, default=None)),
        failed_loads=sum(v.failures for v in verdicts),
        sources={v.source: _source_health(v, details) for v in verdicts},
    )
    if not verdicts:
        body.update(status="stale", error="no successful load yet")
        return body, 503
    problems = [p for p in (_problem(v, details) for v in verdicts) if p]
    if problems:
        body.update(status="failing" if any(v.failing for v in verdicts) else "stale",
                    error="; ".join(problems))
        return body, 503
    return body, 200


# --- Wiring -----------------------------------------------------------------------------


def check_warehouse_at_start(settings: Settings) -> str | None:
    """Log one clear line when the warehouse cannot be served; return the reason."""
    try:
        con = _data.reader().cursor()
        con.close()
    except (WarehouseError, duckdb.Error, OSError) as e:
        logger.error("warehouse %s cannot be served: %s", settings.db_path, e)
        return str(e)
    return None


def _logged_in(access: _access.Access | None) -> bool:
    """True for a request of a logged-in analyst (never when no users file is set)."""
    if access is None or access.users is None:
        return False
    return isinstance(access.login(), str)  # a 429 refusal is not a login


def register(app, settings: Settings) -> None:
    """Add security headers, compression, caching, /healthz and access control."""
    server: Flask = app.server
    server.debug = False  # debug mode only ever through `python app.py --debug`
    _add_security_headers(app, server)
    _add_compression(app, server)
    access = _access.register(app, settings)

    def healthz():
        deep = request.args.get("deep", "") not in ("", "0", "false")
        body, status = health_payload(_data.settings(), deep=deep,
                                      details=_logged_in(access))
        return jsonify(body), status

    server.add_url_rule(HEALTH_ROUTE, "healthz", healthz, methods=["GET"])
    check_warehouse_at_start(settings)


# --- Command line: entries for the users and wall-token files ---------------------------


def main(argv: list[str] | None = None) -> int:
    """`add-user NAME` / `add-wall NAME`: print a line for the users / wall-tokens file."""
    parser = argparse.ArgumentParser(prog="python -m dashboards._serving")
    sub = parser.add_subparsers(dest="command", required=True)
    user = sub.add_parser("add-user", help="print 'name:hash' for WALL_USERS_FILE")
    user.add_argument("name")
    wall = sub.add_parser("add-wall", help="print 'name:digest' for WALL_WALL_TOKENS_FILE")
    wall.add_argument("name")
    args = parser.parse_args(argv)
    if ":" in args.name:
        parser.error("a name cannot contain ':'")
    if args.command == "add-user":
        password = getpass.getpass(f"password for {args.name}: ")
        if len(password) < 10 or password != getpass.getpass("again: "):
            print("passwords differ or are shorter than 10 characters", file=sys.stderr)
            return 2
        print(f"{args.name}:{generate_password_hash(password)}")
    else:
        token = secrets.token_urlsafe(24)
        print(f"{args.name}:{_access.token_digest(token)}")
        print(f"wall URL: /wall?token={token}  (shown once; keep it with the wall)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
