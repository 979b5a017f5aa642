"""Serving: /healthz, security headers, no debug, error text, the result cache.

Access control has its own file: tests/unit/test_access.py.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from datetime import timedelta

import pytest
from plotly.utils import PlotlyJSONEncoder

from dashboards import _serving
from pipelines import queries, warehouse
from pipelines.loader import load_files
from pipelines.settings import local_now
from tests.factories import ticket_row, write_csv
from tests.serving_helpers import find_by_id, pages_request

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options")


def load_some(settings, tmp_path, n=3, name="t.csv"):
    """Load `n` tickets reported an hour ago: fresh data."""
    rows = [recent_ticket(settings) for _ in range(n)]
    return load_files(settings, "tickets", [write_csv(tmp_path / name, rows)])


def recent_ticket(settings, hours_ago: float = 1):
    at = local_now(settings).replace(microsecond=0) - timedelta(hours=hours_ago)
    return ticket_row(reported_at=at, accepted_at=at, responded_at=at, closed_at=at,
                      updated_at=at)


@pytest.fixture
def build(clear_pages_state):
    """build(settings) -> Flask test client of a fresh app on that warehouse."""

    def make(settings):
        from app import create_app

        app = create_app(settings)
        return app.server.test_client()

    return make


@pytest.fixture
def loaded(settings, tmp_path):
    load_some(settings, tmp_path)
    return settings


# --- /healthz -----------------------------------------------------------------------------


def test_healthz__ok_reports_version_load_time_and_staleness(build, loaded):
    r = build(loaded).get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok"
    assert body["data_version"] == 1
    assert body["newest_load_at"] and body["failed_loads"] == 0
    tickets = body["sources"]["tickets"]
    assert tickets["state"] == "ok" and 0.9 < tickets["age_hours"] < 1.1
    assert tickets["cadence_hours"] == loaded.stale_hours


def test_healthz__missing_warehouse_is_503_with_reason(build, settings):
    r = build(settings).get("/healthz")
    assert r.status_code == 503
    assert r.get_json()["status"] == "unavailable"
    assert "no warehouse" in r.get_json()["error"]


def test_healthz__corrupt_warehouse_is_503_with_reason(build, settings):
    settings.db_path.write_bytes(b"this is not a duckdb file\x00" * 1000)
    r = build(settings).get("/healthz")
    assert r.status_code == 503
    assert "cannot open warehouse" in r.get_json()["error"]


def test_healthz__newer_schema_is_503_with_reason(build, loaded):
    with warehouse.writer(loaded) as con:
        con.execute("insert into schema_version values (999, '0999_future.sql', now())")
    r = build(loaded).get("/healthz")
    assert r.status_code == 503
    assert "newer than this program" in r.get_json()["error"]


def test_healthz__stale_data_is_503(build, loaded):
    with warehouse.writer(loaded) as con:
        con.execute("update load_log set newest_record_at = newest_record_at - interval 3 days")
    r = build(loaded).get("/healthz")
    assert r.status_code == 503
    body = r.get_json()
    assert body["status"] == "stale" and body["sources"]["tickets"]["age_hours"] > 72
    assert "tickets: newest record 73 h old (cadence 26 h)" in body["error"]


def test_healthz__follows_a_new_load_without_restart(build, loaded, tmp_path):
    client = build(loaded)
    assert client.get("/healthz").get_json()["data_version"] == 1
    load_some(loaded, tmp_path, name="more.csv")
    assert client.get("/healthz").get_json()["data_version"] == 2


@pytest.mark.parametrize(
    "corrupt",
    [
        None,
        b"garbage" * 100,
    ],
    ids=["missing", "corrupt"],
)
def test_start__bad_warehouse_gives_a_clear_page_and_log_line(
    build, settings, caplog, corrupt
):
    if corrupt:
        settings.db_path.write_bytes(corrupt)
    with caplog.at_level(logging.ERROR, logger="dashboards._serving"):
        client = build(settings)
    assert any("cannot be served" in r.getMessage() for r in caplog.records)
    r = client.post("/_dash-update-component", json=pages_request("/"))
    assert r.status_code == 200
    page = r.get_json()["response"]["_pages_content"]["children"]
    box = find_by_id(page, "status-unavailable")
    assert box is not None
    assert "Traceback" not in r.get_data(as_text=True)


@pytest.mark.parametrize("broken", ["missing", "corrupt", "newer schema"])
def test_healthz__broken_warehouse_answers_without_server_paths(build, loaded, broken):
    if broken == "missing":
        loaded.db_path.unlink()
    elif broken == "corrupt":
        loaded.db_path.write_bytes(b"this is not a duckdb file\x00" * 1000)
    else:
        with warehouse.writer(loaded) as con:
            con.execute("insert into schema_version values (999, '0999_x.sql', now())")
    r = build(loaded).get("/healthz")
    assert r.status_code == 503
    body = r.get_data(as_text=True)
    assert "/" not in body, body
    assert loaded.db_path.name in r.get_json()["error"]  # the file name is enough


def test_redact_paths__keeps_file_names_and_other_text():
    text = 'cannot open warehouse /var/lib/wall/w.duckdb: The file "/var/lib/wall/w.duckdb" ' \
           "is not valid; 3/4 done, see docs/operations.md"
    assert _serving.redact_paths(text) == (
        'cannot open warehouse w.duckdb: The file "w.duckdb" is not valid; 3/4 done, '
        "see docs/operations.md"
    )


# --- Error text ---------------------------------------------------------------------------


def test_callback_error__user_gets_a_reference_the_log_gets_the_details(
        clear_pages_state, loaded, caplog):
    import duckdb
    from dash import Input, Output

    from app import create_app

    app = create_app(loaded)

    @app.callback(Output("probe-out", "children"), Input("probe-in", "value"))
    def failing(_value):
        raise duckdb.BinderException(
            f'Binder Error: Referenced column "secret_col" not found in {loaded.db_path}')

    body = {"output": "probe-out.children",
            "outputs": {"id": "probe-out", "property": "children"},
            "inputs": [{"id": "probe-in", "property": "value", "value": 1}],
            "changedPropIds": ["probe-in.value"], "state": []}
    with caplog.at_level(logging.ERROR, logger="app"):
        r = app.server.test_client().post("/_dash-update-component", json=body)
    text = r.get_data(as_text=True)
    for leak in ("Binder", "secret_col", "Exception", str(loaded.db_path.parent), "Traceback"):
        assert leak not in text, leak
    ref = re.search(r"reference ([0-9a-f]{8})", text).group(1)
    logged = [rec for rec in caplog.records if ref in rec.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log


def test_wall__no_warehouse_shows_a_reference_not_the_path(build, settings):
    client = build(settings)
    client.get("/wall")  # registers the callbacks
    body = {"output": "wall-html.data",
            "outputs": {"id": "wall-html", "property": "data"},
            "inputs": [{"id": "wall-version", "property": "data", "value": "v2"}],
            "state": [{"id": "wall-config", "property": "data",
                       "value": {"playlist": [{"view": "levels", "filters": {}}],
                                 "lang": "en"}}]}
    r = client.post("/_dash-update-component", json=body)
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "ref " in text
    assert str(settings.db_path.parent) not in text and "no warehouse" not in text


# --- Headers, debug -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/healthz", "/_dash-layout", "/_dash-dependencies", "/no-such-page"]
)
def test_security_headers__on_every_response(build, loaded, path):
    r = build(loaded).get(path)
    for header in SECURITY_HEADERS:
        assert header in r.headers, f"{path} lacks {header}"
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-eval'" not in csp
    script_src = next(p for p in csp.split("; ") if p.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_security_headers__csp_covers_every_inline_script(build, loaded):
    import hashlib
    import re

    r = build(loaded).get("/")
    csp = r.headers["Content-Security-Policy"]
    page = re.sub(r"<!--.*?-->", "", r.get_data(as_text=True), flags=re.S)  # IE-only
    for script in re.findall(r"<script>(.*?)</script>", page, re.S):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_debug__off_when_served_by_create_app(build, loaded):
    client = build(loaded)
    assert client.application.debug is False
    r = client.post("/_dash-update-component", json={"output": "nope.children"})
    assert "Traceback" not in r.get_data(as_text=True)


# --- Result cache -------------------------------------------------------------------------


def test_cached_frame__fifty_walls_cost_one_query_per_data_version(
    loaded, tmp_path, monkeypatch
):
    queries.RESULTS.clear()
    executed = []
    real = queries._execute

    def counting(con, name, params):
        executed.append(name)
        time.sleep(0.05)  # a slow query: the other walls arrive while it runs
        return real(con, name, params)

    monkeypatch.setattr(queries, "_execute", counting)
    reader = warehouse.Reader(loaded.db_path)
    results, errors = [], []

    def wall():
        try:
            con = reader.cursor()
            version = queries.current_version(con)
            results.append(
                (version, len(queries.cached_frame(con, "status__load_log", version, limit=20)))
            )
        except Exception as e:  # noqa: BLE001 - the test reports any failure
            errors.append(e)

    for _round in range(2):
        threads = [threading.Thread(target=wall) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        load_some(loaded, tmp_path, name=f"round{_round}.csv")
    assert errors == []
    # One per data version (the loads in between run their own queries, e.g. warnings__*).
    assert [n for n in executed if n == "status__load_log"] == ["status__load_log"] * 2
    assert len({v for v, _ in results}) == 2  # "1@<written_at>", "2@<written_at>"
    assert len(results) == 100


def test_cached__parameters_are_part_of_the_key():
    queries.RESULTS.clear()
    calls = []

    def compute(x):
        calls.append(x)
        return x

    for levels in ([1, 2], [1, 2], [3]):
        queries.cached("q", 7, lambda: compute(tuple(levels)), levels=levels)
    queries.cached("q", 8, lambda: compute("v8"), levels=[1, 2])
    assert calls == [(1, 2), (3,), "v8"]


def test_cached__a_failure_is_not_cached():
    queries.RESULTS.clear()

    def boom():
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        queries.cached("f", 1, boom)
    assert queries.cached("f", 1, lambda: "ok") == "ok"


# --- many walls, one computation ---------------------------------------------------------


def test_wall_slides__drawn_once_per_data_version_minute_and_language(
        build, loaded, tmp_path, monkeypatch):
    """Walls asking again within the minute get the slides' HTML drawn before (building a
    slide's components was most of a wall answer's CPU); a new minute, another language
    or new data draws them again."""
    import sys

    build(loaded)
    wall = sys.modules["dashboards.wall"]
    drawn = []
    real = wall.renderer
    monkeypatch.setattr(wall, "renderer", lambda view: lambda data, lang: (
        drawn.append((view, lang)) or real(view)(data, lang)))
    minute = [local_now(loaded).replace(second=0, microsecond=0) + timedelta(minutes=3)]
    monkeypatch.setattr(wall.q, "local_now", lambda tz: minute[0])
    config = {"playlist": [{"view": "levels", "filters": {}},
                           {"view": "closure", "filters": {}}],
              "lang": "zh", "rotate": 20, "poll": 30}

    first = wall._slides(config)
    again = wall._slides(config)
    assert sorted(drawn) == [("closure", "zh"), ("levels", "zh")]
    assert [s["html"] for s in again["slides"]] == [s["html"] for s in first["slides"]]
    assert all('"no-data"' not in s["html"] for s in first["slides"])

    wall._slides({**config, "lang": "en"})
    assert sorted(drawn[2:]) == [("closure", "en"), ("levels", "en")]
    minute[0] += timedelta(minutes=1)
    wall._slides(config)
    assert sorted(drawn[4:]) == [("closure", "zh"), ("levels", "zh")]
    load_some(loaded, tmp_path, name="more.csv")  # a new data version
    wall._slides(config)
    assert len(drawn) == 8


def test_wall_slides__a_forged_filter_gets_its_own_escaped_slide(build, loaded):
    """An outsider's wall URL with a hostile community name cannot put its slide on
    another wall through the slide cache, nor markup on its own."""
    import sys

    build(loaded)
    wall = sys.modules["dashboards.wall"]
    hostile = '<img src=x onerror="alert(1)">'
    base = {"lang": "zh", "rotate": 20, "poll": 30}

    def slide(community):
        filters = {"community": community} if community else {}
        return wall._slides({**base, "playlist": [{"view": "levels",
                                                   "filters": filters}]})["slides"][0]

    forged, honest, again = slide(hostile), slide(None), slide(hostile)
    assert "<img" not in forged["html"] and "&lt;img" in forged["html"]
    assert "onerror" not in honest["html"] and honest["html"] != forged["html"]
    assert again["html"] == forged["html"]
    assert forged["attrs"]["data-filter"] == f"community={hostile}"


def test_wall_cache__fifty_walls_cost_one_computation_per_data_change(
        build, loaded, tmp_path, monkeypatch):
    import sys
    import threading

    build(loaded)  # registers the wall page on this warehouse
    wall = sys.modules["dashboards.wall"]
    from pipelines.queries import wall as wall_queries

    computed = []
    real = wall_queries.wall_view_data
    monkeypatch.setattr(wall_queries, "wall_view_data",
                        lambda con, view, **kw: computed.append(view) or real(con, view, **kw))
    config = {"playlist": [{"view": "levels", "filters": {}}], "lang": "zh",
              "rotate": 20, "poll": 30}
    errors, pictures = [], []

    def one_wall():
        try:
            pictures.append(json.dumps(wall._slides(config), cls=PlotlyJSONEncoder))
        except Exception as e:  # noqa: BLE001 - re-raised below: a thread would drop it
            errors.append(e)

    walls = [threading.Thread(target=one_wall) for _ in range(50)]
    for w in walls:
        w.start()
    for w in walls:
        w.join()
    if errors:
        raise AssertionError(f"{len(errors)} of 50 walls failed") from errors[0]
    assert 1 <= len(computed) <= 2  # 2 only if the minute turned during the test
    # a view that failed is drawn as a calm "no data" slide, not raised: look for it
    assert len(pictures) == 50
    assert not [p for p in pictures if '"no-data"' in p], "walls drew 'unavailable'"
    first = len(computed)
    load_some(loaded, tmp_path, name="more.csv")  # a new data version
    for _ in range(50):
        wall._slides(config)
    assert len(computed) - first in (1, 2)
