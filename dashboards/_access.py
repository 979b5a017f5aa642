"""View layer: who may see what. Deny unless allowed; decide by what the server serves.

Three audiences: **public** (Dash's scripts and styles, `/healthz`), **wall** (the wall's
pages, its redraw callback, its version poll and the shell Dash needs to draw it) and
**login** (everything else, including every route or callback nobody listed).

Each request is classified by what the server will actually run, never by what it claims:

- the Flask endpoint its URL matched (`before_request` runs after routing);
- for `/_dash-update-component`, the body's `output`, which is the key Dash looks up in
  its callback map: the wall's callbacks are an allow-list of those keys;
- for Dash's page router, the page it will render, from the inputs read by position as
  Dash passes them; and, as a second lock, every registered page's layout refuses to
  render for a request that may not see it.

Logins: HTTP Basic, checked once, then a signed session cookie (key in a 0600 file made
on first use) that expires after `Settings.session_hours`. Failed logins are counted per
client and per user name in a SQLite file shared by gunicorn's workers; past the limit
the answer is HTTP 429 with Retry-After, before any password is hashed. An unknown user
costs the same hash as a known one. Walls: `?token=` is exchanged for a signed cookie
naming the wall, and the browser is redirected to the URL without the token. The users
and wall-token files are re-read when they change, so removing a line takes effect on
the next request.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import math
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import parse_qs, urlencode

import dash
from dash import html
from dash._utils import inputs_to_vals
from flask import Flask, Response, redirect, request, session
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash, generate_password_hash

from pipelines.settings import Settings

logger = logging.getLogger(__name__)

PUBLIC, WALL, LOGIN = "public", "wall", "login"

# Flask endpoints (Dash names its own after their rules).
PUBLIC_ENDPOINTS = frozenset(
    {
        "_dash_assets.static",
        "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
        "/_favicon.ico",
        "healthz",
    }
)
WALL_ENDPOINTS = frozenset({"wall_version", "/_dash-layout", "/_dash-dependencies"})
PAGE_ENDPOINTS = frozenset({"/", "/<path:path>"})
CALLBACK_ENDPOINT = "/_dash-update-component"

# Pages (dash.page_registry modules) and callbacks (keys of Dash's callback map) the
# wall may use. Nothing else is the wall's.
WALL_PAGES = frozenset({"dashboards.wall", "dashboards.wall_view"})
WALL_CALLBACKS = frozenset({"wall-html.data"})  # redraw (dashboards/wall.py); the rest is clientside
PAGES_ROUTER = ".._pages_content.children..._pages_store.data.."

WALL_COOKIE = "wall"
SESSION_KEY = "login"
REALM = "Governance command center"
# Failed logins allowed per window before HTTP 429: per client address, per user name.
THROTTLE_WINDOW_SECONDS = 15 * 60
CLIENT_FAILURES = 20
USER_FAILURES = 10


def now() -> float:
    """Seconds since the epoch (one clock for sessions and the throttle)."""
    return time.time()


# --- The files ----------------------------------------------------------------------------


def read_users(path: Path) -> dict[str, str]:
    """{name: werkzeug password hash} from `name:hash` lines ('#' starts a comment)."""
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


def read_wall_tokens(path: Path) -> dict[str, str]:
    """{sha256 hex of token: wall name} from `name:sha256hex` lines (may be empty)."""
    tokens = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, digest = line.partition(":")
        digest = digest.strip().lower()
        if not sep or not name.strip() or len(digest) != 64:
            raise ValueError(f"{path}:{n}: want 'wall-name:sha256-hex-of-token'")
        tokens[digest] = name.strip()
    return tokens


def token_digest(token: str) -> str:
    """SHA-256 hex of a wall token (tokens are long random strings: no salt needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class WatchedFile:
    """A credentials file, parsed again whenever it changes on disk.

    A file that stops parsing (or disappears) grants nothing until it is fixed: the
    reason is logged once per change.
    """

    def __init__(self, path: Path, parse: Callable[[Path], dict[str, str]]):
        self.path = Path(path)
        self._parse = parse
        self._lock = threading.Lock()
        self._identity = self._stat()
        self._entries = parse(self.path)  # a broken file at start stops the app

    def _stat(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def entries(self) -> dict[str, str]:
        """The file's current entries."""
        identity = self._stat()
        with self._lock:
            if identity != self._identity:
                try:
                    self._entries = self._parse(self.path)
                    logger.info("access: re-read %s (%d entries)", self.path.name,
                                len(self._entries))
                except (OSError, ValueError) as e:
                    logger.error("access: %s cannot be read, granting nothing from it: %s",
                                 self.path.name, e)
                    self._entries = {}
                self._identity = identity
            return self._entries


def server_secret(state_dir: Path) -> bytes:
    """The key that signs session and wall cookies: `state_dir/session.key`, mode 0600.

    Made on first use; several workers starting at once all end up with the same key
    (the file is linked into place only if it does not exist yet).
    """
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = state_dir / "session.key"
    if not path.exists():
        tmp = state_dir / f".session.key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker was first: use its key
        finally:
            tmp.unlink()
    if path.stat().st_mode & 0o077:
        raise PermissionError(f"{path} is readable by others; chmod 600 it")
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 64:
        raise ValueError(f"{path} holds a key shorter than 32 bytes; delete it to make one")
    return key.encode("ascii")


class Throttle:
    """Failed logins per key in a small SQLite file, shared by all gunicorn workers."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with self._connect() as con:
            con.execute("create table if not exists failure (key text not null, "
                        "at real not null)")
            con.execute("create index if not exists failure_key on failure (key, at)")
        os.chmod(self.path, 0o600)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction on a fresh connection (closed after: no handles pile up)."""
        con = sqlite3.connect(self.path, timeout=10)
        try:
            with con:
                yield con
        finally:
            con.close()

    def wait_seconds(self, limits: dict[str, int]) -> int:
        """Seconds until every key in `limits` ({key: failures allowed}) may try again."""
        since = now() - THROTTLE_WINDOW_SECONDS
        wait = 0
        with self._connect() as con:
            for key, limit in limits.items():
                count, oldest = con.execute(
                    "select count(*), min(at) from failure where key = ? and at > ?",
                    (key, since),
                ).fetchone()
                if count >= limit:
                    wait = max(wait, math.ceil(oldest - since))
        return max(wait, 1) if wait else 0

    def record_failure(self, keys: list[str]) -> None:
        """Count one failed login against each key (and forget failures out of the window)."""
        at = now()
        with self._connect() as con:
            con.executemany("insert into failure values (?, ?)", [(k, at) for k in keys])
            con.execute("delete from failure where at <= ?", (at - THROTTLE_WINDOW_SECONDS,))


# --- Decisions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a request is for: its audience and a wall token it carries in a page search."""

    audience: str
    search_token: str | None = None


class Access:
    """Decides, per request, whether it may be served."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.users = (WatchedFile(settings.users_file, read_users)
                      if settings.users_file else None)
        self.walls = (WatchedFile(settings.wall_tokens_file, read_wall_tokens)
                      if settings.wall_tokens_file else None)
        self.session_seconds = settings.session_hours * 3600
        self.cookie_secure = settings.cookie_secure
        self.secret = server_secret(Path(settings.state_dir))
        self.throttle = Throttle(Path(settings.state_dir) / "login-throttle.sqlite3")
        self._wall_signer = URLSafeSerializer(self.secret, salt="wall-cookie")
        # Unknown users are checked against this, so they cost the same hash work.
        self._dummy_hash = generate_password_hash(secrets.token_urlsafe(16))

    # Walls -----------------------------------------------------------------------------

    def wall_for_token(self, token: str | None) -> str | None:
        """The wall a raw token belongs to, or None."""
        if not token or self.walls is None:
            return None
        digest = token_digest(token)
        for known, name in self.walls.entries().items():
            if hmac.compare_digest(digest, known):
                return name
        return None

    def wall_cookie(self, token: str) -> str:
        """The signed cookie value for a valid token: the wall's name and a digest prefix."""
        digest = token_digest(token)
        return self._wall_signer.dumps({"w": self.walls.entries()[digest], "d": digest[:16]})

    def wall_from_cookie(self) -> str | None:
        """The wall named by the request's cookie, if its token line is still in the file."""
        raw = request.cookies.get(WALL_COOKIE)
        if not raw or self.walls is None:
            return None
        try:
            data = self._wall_signer.loads(raw)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        for digest, name in self.walls.entries().items():
            if name == data.get("w") and hmac.compare_digest(
                digest[:16].encode(), str(data.get("d")).encode("utf-8")
            ):
                return name
        return None

    def wall_allowed(self, search_token: str | None = None) -> bool:
        """May this request see the wall (open, wall cookie, token in search, or login)."""
        if self.walls is None:
            return True
        return bool(self.wall_from_cookie() or self.wall_for_token(search_token)
                    or (self.users is not None and self.session_user()))

    # Logins ----------------------------------------------------------------------------

    def session_user(self) -> str | None:
        """The user of a valid, unexpired session whose line is unchanged in the file."""
        data = session.get(SESSION_KEY)
        if not isinstance(data, dict) or self.users is None:
            return None
        hashed = self.users.entries().get(data.get("user"))
        fresh = now() - float(data.get("at", 0)) < self.session_seconds
        if hashed is None or not fresh or data.get("fp") != _fingerprint(hashed):
            session.pop(SESSION_KEY, None)
            return None
        return data["user"]

    def login(self) -> str | Response | None:
        """The logged-in user; checks Basic credentials once per session.

        Returns the user's name, None (no or wrong credentials) or a 429 refusal.
        """
        user = self.session_user()
        if user:
            return user
        auth = request.authorization
        if auth is None or auth.type != "basic" or not auth.username:
            return None
        client = f"client:{request.remote_addr}"
        name = f"user:{auth.username}"
        wait = self.throttle.wait_seconds({client: CLIENT_FAILURES, name: USER_FAILURES})
        if wait:
            logger.warning("login throttled for %s (%d s)", request.remote_addr, wait)
            return _too_many(wait)
        hashed = self.users.entries().get(auth.username)
        ok = check_password_hash(hashed or self._dummy_hash, auth.password or "")
        if not (ok and hashed):
            self.throttle.record_failure([client, name])
            logger.warning("login failed from %s", request.remote_addr)
            return None
        session[SESSION_KEY] = {"user": auth.username, "at": now(), "fp": _fingerprint(hashed)}
        logger.info("login: %s from %s", auth.username, request.remote_addr)
        return auth.username

    # The request -----------------------------------------------------------------------

    def verdict(self) -> Verdict | Response:
        """What the request is for, by the endpoint, callback and page it will run."""
        endpoint = request.endpoint
        if endpoint in PUBLIC_ENDPOINTS:
            return Verdict(PUBLIC)
        if endpoint in WALL_ENDPOINTS:
            return Verdict(WALL)
        if endpoint in PAGE_ENDPOINTS:
            return Verdict(self.page_audience(request.path))
        if endpoint == CALLBACK_ENDPOINT:
            return self._callback_verdict()
        return Verdict(LOGIN)

    def page_audience(self, pathname: str) -> str:
        """WALL for a path Dash renders as a wall page, else LOGIN (404s included)."""
        page, _ = dash._pages._path_to_page(self.app.strip_relative_path(pathname))
        return WALL if page.get("module") in WALL_PAGES else LOGIN

    def _callback_verdict(self) -> Verdict | Response:
        try:
            body = json.loads(request.get_data(cache=True) or b"{}")
        except ValueError:
            return _refused("malformed callback", 400)
        if not isinstance(body, dict):
            return _refused("malformed callback", 400)
        output = body.get("output")
        if output in WALL_CALLBACKS:
            return Verdict(WALL)
        if output != PAGES_ROUTER:
            return Verdict(LOGIN)
        # The router: read its inputs exactly as Dash will pass them to it.
        cb = self.app.callback_map.get(PAGES_ROUTER, {})
        indices = cb.get("inputs_state_indices")
        try:
            flat = list(body.get("inputs") or []) + list(body.get("state") or [])
            values = inputs_to_vals(flat)
            pathname, search = values[indices["pathname_"]], values[indices["search_"]]
        except (AttributeError, IndexError, KeyError, TypeError):
            return _refused("malformed page request", 400)
        if not isinstance(pathname, str) or not isinstance(search, (str, type(None))):
            return _refused("malformed page request", 400)
        token = (parse_qs((search or "").lstrip("?")).get("token") or [None])[0]
        return Verdict(self.page_audience(pathname), token)

    def check(self) -> Response | None:
        """None to serve the request, else the refusal (before_request)."""
        verdict = self.verdict()
        if isinstance(verdict, Response):
            return verdict
        if verdict.audience == PUBLIC:
            return None
        if (verdict.audience == WALL and request.endpoint in PAGE_ENDPOINTS
                and "token" in request.args and self.walls is not None):
            return self._redeem_wall_token()
        if verdict.audience == WALL:
            if self.wall_allowed(verdict.search_token):
                return None
            user = self.login() if self.users is not None else None
            if isinstance(user, Response):
                return user
            return None if user else _refused("wall token missing or wrong")
        if self.users is None:
            return None  # analysts' pages are open when no users file is configured
        user = self.login()
        if isinstance(user, Response):
            return user
        return None if user else _login_required()

    def _redeem_wall_token(self) -> Response:
        """`/wall?token=...`: set the wall's cookie and reload the URL without the token."""
        token = request.args.get("token")
        name = self.wall_for_token(token)
        if name is None:
            return _refused("wall token wrong")
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
        target = request.path + ("?" + urlencode(rest) if rest else "")
        response = redirect(target, code=303)
        response.set_cookie(WALL_COOKIE, self.wall_cookie(token), httponly=True,
                            samesite="Strict", secure=self.cookie_secure,
                            max_age=400 * 86400)
        logger.info("wall %r signed in from %s", name, request.remote_addr)
        return response

    def allows_page(self, module: str, token: str | None) -> bool:
        """May the current request see the page `module` (the layouts' second lock)."""
        if module in WALL_PAGES:
            return self.wall_allowed(token)
        return self.users is None or bool(self.session_user())

    def guard_pages(self) -> None:
        """Wrap every registered page's layout so that it renders only when allowed."""
        for page in dash.page_registry.values():
            page["layout"] = self._guarded(page["module"], page["layout"])

    def _guarded(self, module: str, layout) -> Callable:
        def render(**kwargs):
            if not self.allows_page(module, kwargs.get("token")):
                logger.warning("refused to render %s for %s", module, request.remote_addr)
                return html.Div("无权访问 / Forbidden", className="access-refused")
            return layout(**kwargs) if callable(layout) else layout

        return render


def _fingerprint(hashed: str) -> str:
    """A short digest of a user's stored hash: a new password ends old sessions."""
    return hashlib.sha256(hashed.encode("utf-8")).hexdigest()[:16]


def _login_required() -> Response:
    response = Response("登录后可见 / Login required", 401,
                        mimetype="text/plain; charset=utf-8")
    response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response


def _too_many(wait: int) -> Response:
    response = Response("尝试次数过多，请稍后再试 / Too many attempts, try again later",
                        429, mimetype="text/plain; charset=utf-8")
    response.headers["Retry-After"] = str(wait)
    return response


def _refused(why: str, status: int = 403) -> Response:
    logger.info("refused %s %s: %s", request.method, request.path, why)
    return Response("无权访问 / Forbidden", status, mimetype="text/plain; charset=utf-8")


def register(app, settings: Settings) -> Access | None:
    """Protect `app` when a users or wall-tokens file is configured (else leave it open)."""
    if not (settings.users_file or settings.wall_tokens_file):
        return None
    access = Access(app, settings)
    server: Flask = app.server
    server.secret_key = access.secret
    server.config.update(
        SESSION_COOKIE_NAME="wall_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
    )
    if settings.proxies:
        # remote_addr becomes the client the proxies saw, not the proxy itself.
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=settings.proxies,
                                   x_proto=settings.proxies)
    access.guard_pages()
    server.before_request(access.check)
    logger.info(
        "access control: users file %s, wall tokens file %s",
        "set" if access.users else "not set",
        "set" if access.walls else "not set",
    )
    return access
