"""Access: what a login, a wall token or nothing at all lets a request see.

Every request is decided by what the server will serve: the route it matched, the
callback Dash will run, the page the router will render. The attacks of issue 13 (a page
request with its inputs swapped, a password-guessing burst, a token in logs and cookies,
an oversized wall config) are replayed here against the Flask test client.
"""

from __future__ import annotations

import base64
import logging
import os
import runpy
from pathlib import Path

import dash
import pytest
from werkzeug.security import generate_password_hash

from dashboards import _access
from dashboards._downloads import DOWNLOADS
from pipelines.loader import LoadError, load_files
from tests.factories import ticket_row, write_csv
from tests.serving_helpers import PAGES_OUTPUT, find_by_id, pages_request

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
WALL_TOKEN = "s3cret-wall-token-of-the-hall"
DOWNLOAD_NAMES = ["tickets", *DOWNLOADS]


def basic(user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def swapped_pages_request(protected: str, search_extra: str = "") -> dict:
    """Issue 13's bypass: `search` first carrying a protected path, `pathname` second
    carrying /wall. Dash passes inputs by position, so it renders `protected`."""
    body = pages_request("/wall")
    body["inputs"] = [
        {"id": "_pages_location", "property": "search", "value": protected},
        {"id": "_pages_location", "property": "pathname", "value": "/wall" + search_extra},
    ]
    return body


@pytest.fixture
def files(tmp_path):
    """(users file, wall tokens file) with one analyst and one wall."""
    users = tmp_path / "users.txt"
    users.write_text("# analysts\nli:" + generate_password_hash(PASSWORD) + "\n",
                     encoding="utf-8")
    walls = tmp_path / "walls.txt"
    walls.write_text(f"hall:{_access.token_digest(WALL_TOKEN)}\n", encoding="utf-8")
    return users, walls


@pytest.fixture
def make(make_settings, tmp_path, clear_pages_state, files):
    """make(users=True, walls=True, **settings) -> (Flask test client, Settings)."""

    def build(users=True, walls=True, **overrides):
        from app import create_app

        s = make_settings(users_file=files[0] if users else None,
                          wall_tokens_file=files[1] if walls else None,
                          state_dir=tmp_path / "state", **overrides)
        if not s.db_path.exists():
            load_files(s, "tickets", [write_csv(tmp_path / "t.csv",
                                                [ticket_row() for _ in range(3)])])
        app = create_app(s)
        return app.server.test_client(), s

    return build


def protected_pages() -> list[str]:
    """Every registered page that is not the wall's (after an app was built)."""
    pages = [p["path"] for p in dash.page_registry.values()
             if p["module"] not in _access.WALL_PAGES]
    assert "/explore/accounts" in pages and "/" in pages
    return pages


def with_wall_cookie(client):
    r = client.get(f"/wall?token={WALL_TOKEN}")
    assert r.status_code == 303
    return client


def refused(response) -> bool:
    return response.status_code in (401, 403)


# --- 1. Login bypass ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["wall cookie", "wall token in search", "nothing",
                                 "users file only"])
def test_pages_router__swapped_inputs_never_render_a_protected_page(make, who):
    client, _ = make(walls=who != "users file only")
    extra = ""
    if who == "wall cookie":
        with_wall_cookie(client)
    elif who == "wall token in search":
        extra = f"?token={WALL_TOKEN}"
    for page in protected_pages():
        for body in (swapped_pages_request(page, extra), pages_request(page, extra)):
            r = client.post("/_dash-update-component", json=body)
            assert refused(r), f"{page} rendered for {who}: {r.status_code}"


@pytest.mark.parametrize("who", ["wall cookie", "nothing", "users file only"])
def test_downloads__refused_without_a_login(make, who):
    client, _ = make(walls=who != "users file only")
    if who == "wall cookie":
        with_wall_cookie(client)
    for name in DOWNLOAD_NAMES:
        r = client.get(f"/download/explore/{name}.csv?token={WALL_TOKEN}")
        assert r.status_code == 401, f"{name} served to {who}"


def test_pages_router__the_wall_still_renders_for_its_cookie(make):
    client, _ = make()
    assert client.post("/_dash-update-component", json=pages_request("/wall")).status_code == 403
    with_wall_cookie(client)
    r = client.post("/_dash-update-component", json=pages_request("/wall"))
    assert r.status_code == 200
    assert find_by_id(r.get_json()["response"]["_pages_content"]["children"], "wall")
    r = client.post("/_dash-update-component", json=pages_request("/wall/closure"))
    assert r.status_code == 200


def test_pages_router__token_in_the_page_search_is_accepted(make):
    client, _ = make()
    body = pages_request("/wall", f"?token={WALL_TOKEN}")
    assert client.post("/_dash-update-component", json=body).status_code == 200
    assert client.post("/_dash-update-component", json=pages_request("/wall")).status_code == 403


def test_page_layouts__refuse_to_render_even_if_the_request_check_is_fooled(
        make, monkeypatch):
    client, _ = make(walls=False)
    # A classification bug that lets every callback through as the wall's:
    monkeypatch.setattr(_access.Access, "verdict", lambda self: _access.Verdict(_access.WALL))
    r = client.post("/_dash-update-component", json=pages_request("/explore/tickets"))
    assert r.status_code == 200
    page = r.get_json()["response"]["_pages_content"]["children"]
    assert page["props"]["className"] == "access-refused"
    assert find_by_id(page, "explore-table-slot") is None


def test_callbacks__only_the_wall_allow_list_passes_without_login(make):
    client, _ = make()
    with_wall_cookie(client)
    redraw = {"output": "wall-html.data",
              "outputs": {"id": "wall-html", "property": "data"},
              "inputs": [{"id": "wall-version", "property": "data", "value": "v2"}],
              "state": [{"id": "wall-config", "property": "data", "value": None}]}
    assert client.post("/_dash-update-component", json=redraw).status_code == 200
    # Output ids a client can choose do not make a callback the wall's.
    for output in ("explore-table-slot.children", "wall-fake.children",
                   "explore-table.getRowsResponse", "nope.children"):
        body = {**redraw, "output": output}
        assert client.post("/_dash-update-component", json=body).status_code == 401


def test_callbacks__the_wall_allow_list_names_registered_callbacks(make):
    client, _ = make()
    client.get("/_dash-dependencies", headers=basic("li", PASSWORD))  # first request
    callback_map = dash.get_app().callback_map
    assert _access.WALL_CALLBACKS <= set(callback_map)
    assert _access.PAGES_ROUTER == PAGES_OUTPUT and PAGES_OUTPUT in callback_map


@pytest.mark.parametrize("path", ["/", "/explore", "/no-such-page", "/wallet",
                                  "/_reload-hash", "/static/x.js"])
def test_routes__anything_not_listed_needs_a_login(make, path):
    client, _ = make()
    with_wall_cookie(client)
    assert client.get(path).status_code == 401


def test_routes__wall_assets_and_health_stay_open_without_a_wall_tokens_file(make):
    client, _ = make(walls=False)
    for path in ("/wall", "/wall/closure", "/_dash-layout",
                 "/_dash-dependencies", "/api/wall/version", "/assets/wall.css"):
        assert client.get(path).status_code == 200, path
    # /healthz answers 200 or 503 by the data's freshness; either way it is served.
    health = client.get("/healthz")
    assert health.status_code in (200, 503) and "status" in health.get_json()
    assert client.post("/_dash-update-component", json=pages_request("/wall")).status_code == 200


def test_routes__the_wall_needs_its_token_when_configured(make):
    client, _ = make(users=False)
    for path in ("/wall", "/wall?token=guess", "/api/wall/version", "/_dash-layout"):
        assert client.get(path).status_code == 403, path
    assert client.get("/explore").status_code == 200  # no users file: analysts' pages open
    with_wall_cookie(client)
    for path in ("/wall", "/api/wall/version", "/_dash-layout"):
        assert client.get(path).status_code == 200, path


def test_routes__a_logged_in_analyst_sees_everything(make):
    client, _ = make()
    good = basic("li", PASSWORD)
    for path in ("/", "/explore", "/wall", "/api/wall/version", "/download/explore/level.csv"):
        assert client.get(path, headers=good).status_code == 200, path
    r = client.post("/_dash-update-component", json=pages_request("/explore/accounts"),
                    headers=good)
    assert r.status_code == 200


def test_wall_tokens__emptied_file_closes_the_wall(make, files):
    files[1].write_text("# every wall revoked\n", encoding="utf-8")
    client, _ = make(users=False)
    assert client.get("/wall").status_code == 403


def test_read_users__rejects_malformed_lines(tmp_path):
    path = tmp_path / "u.txt"
    path.write_text("no-colon-here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="u.txt:1"):
        _access.read_users(path)


def test_healthz__public_answer_has_states_and_counts_but_no_load_errors(make, tmp_path):
    client, s = make()
    bad = write_csv(tmp_path / "bad.csv", [{"ticket_id": "T13800138000", "level": "1"}])
    with pytest.raises(LoadError):
        load_files(s, "tickets", [bad])
    public = client.get("/healthz")
    body = public.get_json()
    assert public.status_code == 503 and body["status"] == "failing"
    tickets = body["sources"]["tickets"]
    assert tickets["state"] == "failing" and tickets["failures_since_ok"] == 1
    assert "last_error" not in tickets
    assert body["error"] == "tickets: newest load refused"
    assert "required column" not in public.get_data(as_text=True)
    # the reason is for analysts: logged in, /healthz gives it as the status page does
    detailed = client.get("/healthz", headers=basic("li", PASSWORD)).get_json()
    assert "required column" in detailed["sources"]["tickets"]["last_error"]
    assert detailed["error"].startswith("tickets: newest load refused (")


def test_healthz__no_users_file_means_no_details(make, tmp_path):
    client, s = make(users=False)
    with pytest.raises(LoadError):
        load_files(s, "tickets", [write_csv(tmp_path / "bad.csv", [{"level": "1"}])])
    body = client.get("/healthz", headers=basic("li", PASSWORD)).get_json()
    assert "last_error" not in body["sources"]["tickets"]


def test_repository__holds_no_credentials_files():
    tracked = {p.name for p in ROOT.glob("*.txt")}
    assert not {"users.txt", "walls.txt", "wall-tokens.txt"} & tracked


# --- 2. Password guessing -----------------------------------------------------------------


def test_login__a_guessing_burst_is_throttled_with_retry_after(make):
    client, _ = make()
    statuses = [client.get("/", headers=basic("li", f"guess {i}")).status_code
                for i in range(_access.USER_FAILURES)]
    assert statuses == [401] * _access.USER_FAILURES
    r = client.get("/", headers=basic("li", "guess again"))
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= _access.THROTTLE_WINDOW_SECONDS
    # Even the right password waits: nothing is hashed while throttled.
    assert client.get("/", headers=basic("li", PASSWORD)).status_code == 429


def test_login__throttle_is_per_client_across_user_names(make):
    client, _ = make()
    here = {"REMOTE_ADDR": "10.0.0.7"}
    for i in range(_access.CLIENT_FAILURES):
        r = client.get("/", headers=basic(f"user{i}", "x"), environ_base=here)
        assert r.status_code == 401
    assert client.get("/", headers=basic("li", PASSWORD), environ_base=here).status_code == 429
    # Another client is not held up by this one.
    elsewhere = {"REMOTE_ADDR": "10.0.0.8"}
    assert client.get("/", headers=basic("li", PASSWORD), environ_base=elsewhere).status_code == 200


def test_login__behind_a_trusted_proxy_the_throttle_counts_the_real_client(make):
    client, _ = make(proxies=1)
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for i in range(_access.CLIENT_FAILURES):
        client.get("/", headers={**basic(f"user{i}", "x"), "X-Forwarded-For": "10.0.0.7"},
                   environ_base=proxy)
    held = client.get("/", headers={**basic("li", PASSWORD), "X-Forwarded-For": "10.0.0.7"},
                      environ_base=proxy)
    other = client.get("/", headers={**basic("li", PASSWORD), "X-Forwarded-For": "10.0.0.8"},
                       environ_base=proxy)
    assert (held.status_code, other.status_code) == (429, 200)


def test_login__throttle_is_shared_between_workers(make, tmp_path):
    # Two gunicorn workers are two processes with their own Access: the counts live in
    # the one SQLite file.
    first, _ = make()
    for i in range(_access.USER_FAILURES):
        first.get("/", headers=basic("li", f"guess {i}"))
    second = _access.Throttle(tmp_path / "state" / "login-throttle.sqlite3")
    assert second.wait_seconds({"user:li": _access.USER_FAILURES}) > 0


def test_login__throttle_forgets_failures_after_the_window(make, monkeypatch):
    client, _ = make()
    clock = [1_000_000.0]
    monkeypatch.setattr(_access, "now", lambda: clock[0])
    for i in range(_access.USER_FAILURES):
        client.get("/", headers=basic("li", f"guess {i}"))
    assert client.get("/", headers=basic("li", PASSWORD)).status_code == 429
    clock[0] += _access.THROTTLE_WINDOW_SECONDS + 1
    assert client.get("/", headers=basic("li", PASSWORD)).status_code == 200


def test_login__unknown_user_costs_the_same_hash_work(make, monkeypatch):
    client, _ = make()
    checked = []
    real = _access.check_password_hash
    monkeypatch.setattr(_access, "check_password_hash",
                        lambda hashed, pw: checked.append(hashed) or real(hashed, pw))
    client.get("/", headers=basic("li", "wrong"))
    client.get("/", headers=basic("nobody", "wrong"))
    known, unknown = checked
    method = lambda h: h.split("$", 1)[0]  # noqa: E731  e.g. scrypt:32768:8:1
    assert method(unknown) == method(known) and unknown != known


def test_login__password_checked_once_per_session(make, monkeypatch):
    client, _ = make()
    checked = []
    real = _access.check_password_hash
    monkeypatch.setattr(_access, "check_password_hash",
                        lambda hashed, pw: checked.append(1) or real(hashed, pw))
    good = basic("li", PASSWORD)
    first = client.get("/", headers=good)
    assert "HttpOnly" in first.headers["Set-Cookie"]
    for _ in range(4):
        assert client.get("/", headers=good).status_code == 200
    assert client.get("/explore").status_code == 200  # the cookie alone
    assert len(checked) == 1


def test_login__session_expires(make, monkeypatch):
    client, s = make()
    clock = [1_000_000.0]
    monkeypatch.setattr(_access, "now", lambda: clock[0])
    assert client.get("/", headers=basic("li", PASSWORD)).status_code == 200
    clock[0] += s.session_hours * 3600 - 60
    assert client.get("/").status_code == 200
    clock[0] += 120
    assert client.get("/").status_code == 401


@pytest.mark.parametrize("change", ["removed", "new password"])
def test_login__session_ends_when_the_users_line_changes(make, files, change):
    client, _ = make()
    assert client.get("/", headers=basic("li", PASSWORD)).status_code == 200
    line = "" if change == "removed" else "li:" + generate_password_hash("another one 123")
    files[0].write_text("wang:" + generate_password_hash("x" * 12) + "\n" + line + "\n",
                        encoding="utf-8")
    assert client.get("/").status_code == 401


def test_server_secret__made_once_with_mode_0600(tmp_path):
    key = _access.server_secret(tmp_path / "state")
    path = tmp_path / "state" / "session.key"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert _access.server_secret(tmp_path / "state") == key
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        _access.server_secret(tmp_path / "state")


# --- 3. Wall tokens -----------------------------------------------------------------------


def test_wall_token__exchanged_for_a_signed_cookie_and_redirected_away(make, caplog):
    client, _ = make()
    with caplog.at_level(logging.INFO, logger="dashboards._access"):
        r = client.get(f"/wall?token={WALL_TOKEN}&rotate=5&lang=en")
    assert r.status_code == 303
    assert r.headers["Location"] == "/wall?rotate=5&lang=en"
    cookie = r.headers["Set-Cookie"]
    assert WALL_TOKEN not in cookie and _access.token_digest(WALL_TOKEN) not in cookie
    assert "HttpOnly" in cookie and "Secure" not in cookie
    assert any("'hall'" in rec.getMessage() for rec in caplog.records)
    page = client.get("/wall?rotate=5&lang=en")
    assert page.status_code == 200 and WALL_TOKEN not in page.get_data(as_text=True)


def test_wall_token__cookie_names_the_wall(make):
    client, _ = make()
    cookie = client.get(f"/wall?token={WALL_TOKEN}").headers["Set-Cookie"]
    value = cookie.split(";")[0].split("=", 1)[1]
    payload = value.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b'"w":"hall"' in decoded


def test_wall_token__secure_cookie_when_configured(make):
    client, _ = make(cookie_secure=True)
    assert "Secure" in client.get(f"/wall?token={WALL_TOKEN}").headers["Set-Cookie"]
    r = client.get("/", headers=basic("li", PASSWORD))
    assert "Secure" in r.headers["Set-Cookie"]


def test_wall_token__removing_its_line_ends_the_cookie_without_restart(make, files):
    client, _ = make()
    with_wall_cookie(client)
    assert client.get("/api/wall/version").status_code == 200
    files[1].write_text(f"lobby:{_access.token_digest('another-token-entirely')}\n",
                        encoding="utf-8")
    assert client.get("/api/wall/version").status_code == 403


def test_wall_token__a_forged_cookie_is_refused(make):
    client, _ = make()
    client.set_cookie("wall", '{"w":"hall"}')
    assert client.get("/api/wall/version").status_code == 403


def test_wall_token__kept_out_of_the_access_log():
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("access_log_format", conf["access_log_format"])
    uri = f"/wall?token={WALL_TOKEN}"
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": uri, "PATH_INFO": "/wall",
               "QUERY_STRING": f"token={WALL_TOKEN}", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "10.0.0.5", "HTTP_REFERER": f"http://wall{uri}",
               "HTTP_USER_AGENT": "kiosk"}

    class Req:
        headers = [("REFERER", f"http://wall{uri}")]

    class Resp:
        status, response_length, sent, headers = "303 SEE OTHER", 0, 0, []

    import datetime as dt

    atoms = Logger(cfg).atoms(Resp, Req, environ, dt.timedelta(seconds=0.01))
    line = conf["access_log_format"] % atoms
    assert "GET /wall HTTP/1.1" in line
    assert WALL_TOKEN not in line


# --- 4. Wall config from the client -------------------------------------------------------


def test_redraw__oversized_config_is_held_to_the_url_caps(make, caplog):
    from dashboards._wall_playlist import MAX_FILTER_CHARS, MAX_SLIDES

    client, _ = make(users=False, walls=False)
    client.get("/wall")  # first request: registers the callbacks
    config = {"playlist": [{"view": "levels", "filters": {"community": "社" * 5000,
                                                           "grid": "g" * 41}}] * 200,
              "lang": "en", "rotate": 20, "poll": 30}
    body = {"output": "wall-html.data",
            "outputs": {"id": "wall-html", "property": "data"},
            "inputs": [{"id": "wall-version", "property": "data", "value": "v2"}],
            "state": [{"id": "wall-config", "property": "data", "value": config}]}
    with caplog.at_level(logging.WARNING, logger="dashboards.wall"):
        r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200
    slides = r.get_json()["response"]["wall-html"]["data"]["slides"]
    assert len(slides) == MAX_SLIDES
    assert all(len(s["attrs"].get("data-filter", "")) <= MAX_FILTER_CHARS + 10
               for s in slides)
    assert "社" * (MAX_FILTER_CHARS + 1) not in r.get_data(as_text=True)
    assert any("200 slides" in rec.getMessage() for rec in caplog.records)


def test_bounded_config__keeps_a_config_within_the_caps_as_it_is():
    from dashboards._wall_playlist import bounded_config

    config = {"playlist": [{"view": "levels", "filters": {"community": "龙塔社区"}},
                           {"view": "closure", "filters": {}}], "lang": "en", "rotate": 5}
    assert bounded_config(config) == (config, [])
    cleaned, cut = bounded_config({"playlist": "x", "lang": "fr"})
    assert cleaned["lang"] == "zh" and cleaned["playlist"] and len(cut) == 2



@pytest.mark.parametrize(("raw", "secure"), [("1", True), ("true", True), ("0", False),
                                             ("off", False)])
def test_settings__cookie_secure_reads_yes_and_no(raw, secure):
    from pipelines.settings import load_settings

    assert load_settings({"WALL_COOKIE_SECURE": raw}).cookie_secure is secure


def test_settings__cookie_secure_rejects_other_words():
    from pipelines.settings import load_settings

    with pytest.raises(ValueError, match="WALL_COOKIE_SECURE: want 1 or 0"):
        load_settings({"WALL_COOKIE_SECURE": "maybe"})
