"""View layer: serving for real — security headers, `/healthz`, and access control.

`register(app, settings)` (called once by `app.create_app`) adds to the Flask server:

- **Security headers** on every response: a Content-Security-Policy Dash runs under
  (scripts only from this server plus the hashes of Dash's own inline scripts; inline
  styles, which React and plotly set, allowed), `X-Content-Type-Options: nosniff`,
  `frame-ancestors 'none'` with `X-Frame-Options: DENY`, `Referrer-Policy: same-origin`.
- **`GET /healthz`**: JSON with status, data version, newest load, staleness. HTTP 503
  when the warehouse cannot be read (the reason is in `error`) or its newest successful
  load is older than `Settings.stale_hours`. It reads two bookkeeping tables only.
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
import re
import secrets
import sys
from datetime import datetime
from typing import Any

import duckdb
from flask import Flask, Response, jsonify
from werkzeug.security import generate_password_hash

from dashboards import _access, _data
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
        response.headers.setdefault("Cache-Control", "no-store")
        return response


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


def health_payload(settings: Settings) -> tuple[dict[str, Any], int]:
    """(JSON body, HTTP status) of `/healthz`: 200 ok, 503 unreadable or stale."""
    now = local_now(settings)
    body: dict[str, Any] = {
        "status": "ok",
        "checked_at": _iso(now.replace(microsecond=0)),
        "stale_after_hours": settings.stale_hours,
    }
    try:
        con = _data.reader().cursor()
        try:
            h = q.health(con)
        finally:
            con.close()
    except (WarehouseError, QueryError, duckdb.Error, OSError) as e:
        logger.warning("healthz: warehouse unavailable: %s", e)
        body.update(status="unavailable", error=redact_paths(str(e)))
        return body, 503
    age_hours = (
        round((now - h.newest_load_at).total_seconds() / 3600, 2)
        if h.newest_load_at is not None
        else None
    )
    body.update(
        data_version=h.data_version,
        written_at=_iso(h.written_at),
        newest_load_at=_iso(h.newest_load_at),
        newest_record_at=_iso(h.newest_record_at),
        staleness_hours=age_hours,
        failed_loads=h.failed_load_count,
    )
    if age_hours is None:
        body.update(status="stale", error="no successful load yet")
        return body, 503
    if age_hours > settings.stale_hours:
        body.update(
            status="stale",
            error=f"newest successful load is {age_hours:g} h old "
            f"(limit {settings.stale_hours:g} h)",
        )
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


def register(app, settings: Settings) -> None:
    """Add security headers, /healthz and access control to `app`'s server."""
    server: Flask = app.server
    server.debug = False  # debug mode only ever through `python app.py --debug`
    _add_security_headers(app, server)
    _access.register(app, settings)

    def healthz():
        body, status = health_payload(_data.settings())
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
