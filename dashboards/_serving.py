"""View layer: serving for real — security headers, `/healthz`, and access control.

`register(app, settings)` (called once by `app.create_app`) adds to the Flask server:

- **Security headers** on every response: a Content-Security-Policy Dash runs under
  (scripts only from this server plus the hashes of Dash's own inline scripts; inline
  styles, which React and plotly set, allowed), `X-Content-Type-Options: nosniff`,
  `frame-ancestors 'none'` with `X-Frame-Options: DENY`, `Referrer-Policy: same-origin`.
- **`GET /healthz`**: JSON with status, data version, newest load, staleness. HTTP 503
  when the warehouse cannot be read (the reason is in `error`) or its newest successful
  load is older than `Settings.stale_hours`. It reads two bookkeeping tables only.
- **Access** (both off unless configured):
  `Settings.users_file` — every page and callback except the wall's needs a login (HTTP
  Basic; passwords checked against werkzeug password hashes);
  `Settings.wall_tokens_file` — the wall needs `?token=...` (one token per wall; the file
  holds SHA-256 digests). A wall URL with a valid token sets an HttpOnly cookie so that
  the wall's own callbacks and version polls are let through too.

Make entries for those files with::

    python -m dashboards._serving add-user NAME >> users.txt      # asks for a password
    python -m dashboards._serving add-wall NAME >> wall-tokens.txt  # prints the wall URL
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import hmac
import json
import logging
import secrets
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from flask import Flask, Response, jsonify, request
from werkzeug.security import check_password_hash, generate_password_hash

from dashboards import _data
from pipelines.queries import QueryError
from pipelines.queries import serving as q
from pipelines.settings import Settings, local_now
from pipelines.warehouse import WarehouseError

logger = logging.getLogger(__name__)

HEALTH_ROUTE = "/healthz"
WALL_COOKIE = "wall_token"
REALM = "Governance command center"

# Served to anyone: Dash's scripts, styles and shell, and the health check.
PUBLIC_PREFIXES = (
    "/_dash-component-suites/",
    "/assets/",
    "/_dash-layout",
    "/_dash-dependencies",
    "/_favicon.ico",
    HEALTH_ROUTE,
)
# The wall: open, or behind its token when WALL_WALL_TOKENS_FILE is set.
WALL_PREFIXES = ("/wall", "/api/wall/")
# Callbacks whose every output id starts like this belong to the wall (or to the shell,
# which shows no data).
WALL_OUTPUT_PREFIXES = ("wall-", "app-")
PAGES_CONTENT = "_pages_content"


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
        body.update(status="unavailable", error=str(e))
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


# --- Access -----------------------------------------------------------------------------


def read_users(path: Path | None) -> dict[str, str]:
    """{name: werkzeug password hash} from `name:hash` lines ('#' starts a comment)."""
    if path is None:
        return {}
    users = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not name.strip() or not hashed.strip():
            raise ValueError(f"{path}:{n}: want 'name:password-hash'")
        users[name.strip()] = hashed.strip()
    if not users:
        raise ValueError(f"{path}: names no user; every protected page would be closed")
    return users


def read_wall_tokens(path: Path | None) -> dict[str, str]:
    """{sha256 hex of token: wall name} from `name:sha256hex` lines."""
    if path is None:
        return {}
    tokens = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, digest = line.partition(":")
        digest = digest.strip().lower()
        if not sep or len(digest) != 64:
            raise ValueError(f"{path}:{n}: want 'wall-name:sha256-hex-of-token'")
        tokens[digest] = name.strip()
    return tokens


def token_digest(token: str) -> str:
    """SHA-256 hex of a wall token (tokens are long random strings: no salt needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Access:
    """Decides, per request, whether it may be served."""

    def __init__(self, users: dict[str, str], wall_tokens: dict[str, str]):
        self.users = users
        self.wall_tokens = wall_tokens

    @property
    def enabled(self) -> bool:
        return bool(self.users or self.wall_tokens)

    def logged_in(self) -> bool:
        auth = request.authorization
        if auth is None or auth.type != "basic" or not auth.username:
            return False
        hashed = self.users.get(auth.username)
        return hashed is not None and check_password_hash(hashed, auth.password or "")

    def wall_token_ok(self, token: str | None) -> bool:
        if not token:
            return False
        digest = token_digest(token)
        return any(hmac.compare_digest(digest, d) for d in self.wall_tokens)

    def wall_allowed(self, search_token: str | None = None) -> bool:
        if not self.wall_tokens:
            return True  # open on the command center's network
        return (
            self.wall_token_ok(request.args.get("token"))
            or self.wall_token_ok(search_token)
            or self.wall_token_ok(request.cookies.get(WALL_COOKIE))
            or (bool(self.users) and self.logged_in())
        )

    def other_allowed(self) -> bool:
        return not self.users or self.logged_in()

    def check(self) -> Response | None:
        """None to serve the request, else the refusal."""
        path = request.path
        if path.startswith(PUBLIC_PREFIXES):
            return None
        if path.startswith(WALL_PREFIXES):
            return None if self.wall_allowed() else _forbidden("wall token missing or wrong")
        if path.endswith("/_dash-update-component"):
            return self._check_callback()
        return None if self.other_allowed() else _login_required()

    def _check_callback(self) -> Response | None:
        try:
            body = json.loads(request.get_data(cache=True) or b"{}")
        except ValueError:
            return _forbidden("malformed callback")
        output = str(body.get("output", ""))
        if output.lstrip(".").startswith(PAGES_CONTENT):
            inputs = {
                i.get("property"): i.get("value")
                for i in body.get("inputs", [])
                if isinstance(i, dict)
            }
            pathname = str(inputs.get("pathname") or "")
            if pathname.startswith("/wall"):
                from urllib.parse import parse_qs

                search = parse_qs(str(inputs.get("search") or "").lstrip("?"))
                token = (search.get("token") or [None])[0]
                return None if self.wall_allowed(token) else _forbidden("wall token")
            return None if self.other_allowed() else _login_required()
        ids = _output_ids(body.get("outputs"))
        if ids and all(i.startswith(WALL_OUTPUT_PREFIXES) for i in ids):
            return None if self.wall_allowed() else _forbidden("wall token")
        return None if self.other_allowed() else _login_required()


def _output_ids(outputs: Any) -> list[str]:
    """Component ids of a callback request's outputs (pattern-matching ids: their type)."""
    if isinstance(outputs, dict):
        outputs = [outputs]
    ids = []
    for o in outputs or []:
        if isinstance(o, list):
            ids += _output_ids(o)
        elif isinstance(o, dict):
            i = o.get("id")
            ids.append(str(i.get("type", "")) if isinstance(i, dict) else str(i))
    return ids


def _login_required() -> Response:
    response = Response(
        "登录后可见 / Login required", 401, mimetype="text/plain; charset=utf-8"
    )
    response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response


def _forbidden(why: str) -> Response:
    logger.info("refused %s %s: %s", request.method, request.path, why)
    return Response("无权访问 / Forbidden", 403, mimetype="text/plain; charset=utf-8")


def _add_access(server: Flask, settings: Settings) -> Access:
    access = Access(read_users(settings.users_file), read_wall_tokens(settings.wall_tokens_file))
    if not access.enabled:
        return access

    @server.before_request
    def check_access():
        return access.check()

    @server.after_request
    def remember_wall_token(response: Response) -> Response:
        token = request.args.get("token")
        if request.path.startswith("/wall") and access.wall_token_ok(token):
            response.set_cookie(
                WALL_COOKIE, token, httponly=True, samesite="Strict", max_age=400 * 86400
            )
        return response

    logger.info(
        "access control: %d user(s), %d wall token(s)",
        len(access.users),
        len(access.wall_tokens),
    )
    return access


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
    _add_access(server, settings)

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
        print(f"{args.name}:{token_digest(token)}")
        print(f"wall URL: /wall?token={token}  (shown once; keep it with the wall)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
