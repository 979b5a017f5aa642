"""Operations tell the truth: failed loads are seen, and freshness means one thing.

Every load attempt reaches the load journal, whatever the warehouse's rollback does; a
source whose newest attempt failed shows as failing on `/healthz`, the status page and
the wall's badges, even beside healthy sources. A source loaded today with week-old
data is stale on all three.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta

import pytest

from pipelines import freshness, journal
from pipelines.loader import LoadError, load_files
from pipelines.queries import wall as wall_q
from pipelines.settings import load_settings, local_now
from pipelines.warehouse import Reader
from tests.factories import ticket_row, vote_row, write_csv
from tests.unit.test_status_layout import _text


def recent_ticket(settings, hours_ago: float = 1.0, **overrides):
    at = local_now(settings).replace(microsecond=0) - timedelta(hours=hours_ago)
    return ticket_row(**{"reported_at": at, "accepted_at": at, "responded_at": at,
                         "closed_at": at, "updated_at": at, **overrides})


@pytest.fixture
def app_for(clear_pages_state):
    """app_for(settings) -> (Flask test client, status page layout, wall module)."""

    def make(settings):
        from app import create_app

        app = create_app(settings)
        return (app.server.test_client(), sys.modules["dashboards.status"].layout,
                sys.modules["dashboards.wall"])

    return make


@pytest.fixture(autouse=True)
def _fresh_journal_cache():
    journal.forget_cache()
    yield
    journal.forget_cache()


def wall_badges(wall, settings) -> dict[str, dict]:
    con = Reader(settings.db_path).cursor()
    try:
        status = wall_q.wall_status(con, now=local_now(settings), settings=settings)
    finally:
        con.close()
    return {b["source"]: b for b in status["badges"]} | {"_status": status}


def test_refused_load__journaled_and_failing_on_healthz_status_page_and_wall(
    settings, tmp_path, app_for
):
    load_files(settings, "tickets", [write_csv(tmp_path / "ok.csv", [recent_ticket(settings)])])
    bad = write_csv(tmp_path / "bad.csv", [{"ticket_id": "X1", "level": "1"}])
    with pytest.raises(LoadError):
        load_files(settings, "tickets", [bad])

    lines = [json.loads(x) for x in journal.journal_path(settings.db_path).read_text(
        encoding="utf-8").splitlines()]
    assert [(x["event"], x.get("outcome")) for x in lines] == [
        ("start", None), ("end", "ok"), ("start", None), ("end", "refused")]
    assert str(bad) in lines[2]["files"] and "reported_at" in lines[3]["reason"]

    client, status_page, wall = app_for(settings)
    r = client.get("/healthz")
    body = r.get_json()
    assert r.status_code == 503 and body["status"] == "failing"
    tickets = body["sources"]["tickets"]
    assert tickets["failing"] and tickets["last_outcome"] == "refused"
    assert tickets["failures_since_ok"] == 1 and body["failed_loads"] == 1
    assert tickets["state"] == "failing" and "last_error" not in tickets  # public
    assert body["error"] == "tickets: newest load refused"

    text = _text(status_page())
    assert "Failed load attempts" in text and "bad.csv" in text and "refused" in text
    assert "failing" in text

    badges = wall_badges(wall, settings)
    assert badges["tickets"]["state"] == "failing"
    assert "required column" in badges["tickets"]["error"]
    rendered = wall._status(badges["_status"], "en", local_now(settings))
    assert "badge-failing" in repr(rendered)


def test_failure_inside_the_write__journaled_as_failed_though_rolled_back(
    settings, tmp_path, monkeypatch
):
    from pipelines import loader

    load_files(settings, "tickets", [write_csv(tmp_path / "a.csv", [recent_ticket(settings)])])

    def broken(*_a, **_k):
        raise RuntimeError("planted failure in the insert")

    monkeypatch.setattr(loader, "_apply", broken)
    with pytest.raises(RuntimeError):
        load_files(settings, "tickets", [write_csv(tmp_path / "b.csv", [recent_ticket(settings)])])
    attempts = journal.summary(settings.db_path)["tickets"]
    assert attempts.failing and attempts.newest.outcome == "failed"
    assert attempts.newest.reason == "planted failure in the insert"
    # the warehouse rolled the failed load back: its load_log knows only the good one
    con = Reader(settings.db_path).cursor()
    try:
        assert con.execute("select count(*) from load_log").fetchall()[0][0] == 1
    finally:
        con.close()
    # a later success clears the failing state but keeps the failure listed
    monkeypatch.undo()
    load_files(settings, "tickets", [write_csv(tmp_path / "c.csv", [recent_ticket(settings)])])
    journal.forget_cache()
    attempts = journal.summary(settings.db_path)["tickets"]
    assert not attempts.failing and attempts.failures_since_ok == 0
    assert [a.outcome for a in journal.failures(settings.db_path)] == ["failed"]


def test_healthy_source_does_not_hide_one_that_always_fails(settings, tmp_path, app_for):
    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", [recent_ticket(settings)])])
    load_files(settings, "votes", [write_csv(tmp_path / "v.csv", [vote_row()])])
    for night in range(3):
        with pytest.raises(LoadError):
            load_files(settings, "votes",
                       [write_csv(tmp_path / f"v{night}.csv", [{"title": "no id"}])])
    client, _page, _wall = app_for(settings)
    body = client.get("/healthz").get_json()
    assert body["status"] == "failing"
    assert body["sources"]["tickets"]["state"] == "ok"
    assert body["sources"]["votes"]["failing"]
    assert body["sources"]["votes"]["failures_since_ok"] == 3
    assert body["error"].startswith("votes: newest load refused")


def test_killed_load__shows_as_interrupted(settings, tmp_path):
    load_files(settings, "tickets", [write_csv(tmp_path / "a.csv", [recent_ticket(settings)])])
    # what a load killed with -9 leaves: a start line and no end (pid 2**22+1 is not alive)
    with open(journal.journal_path(settings.db_path), "a", encoding="utf-8") as f:
        f.write(json.dumps({"event": "start", "attempt": "dead", "pid": 2**22 + 1,
                            "source": "tickets", "files": ["k.csv"],
                            "at": str(local_now(settings).replace(microsecond=0))}) + "\n")
    attempts = journal.summary(settings.db_path)["tickets"]
    assert attempts.failing and attempts.newest.outcome == "interrupted"
    assert attempts.newest.files == ("k.csv",)


def test_loaded_today_with_week_old_data__stale_on_healthz_status_page_and_wall(
    settings, tmp_path, app_for
):
    week_old = recent_ticket(settings, hours_ago=7 * 24)
    load_files(settings, "tickets", [write_csv(tmp_path / "old.csv", [week_old])])
    client, status_page, wall = app_for(settings)

    body = client.get("/healthz").get_json()
    assert body["status"] == "stale"
    assert body["sources"]["tickets"]["state"] == "missed"  # 168 h > 2 x 26 h
    assert body["sources"]["tickets"]["loaded_at"][:10] == str(local_now(settings).date())

    text = _text(status_page())
    assert "严重过期 stale ×2" in text

    badges = wall_badges(wall, settings)
    assert badges["tickets"]["state"] == "missed"
    assert badges["_status"]["is_stale"]
    rendered = repr(wall._status(badges["_status"], "en", local_now(settings)))
    assert "wall-stale" in rendered and "badge-missed" in rendered


def test_tickets_data_time__one_definition_on_wall_status_page_healthz_and_cutoff(
    settings, tmp_path, app_for
):
    """A ticket reported 3 h ago and changed 1 h ago: every surface says the data runs to
    its report (the figures' cut-off, docs/metrics.md), none to the later change."""
    from pipelines.metrics.compute import data_cutoff

    reported = local_now(settings).replace(microsecond=0) - timedelta(hours=3)
    changed = reported + timedelta(hours=2)
    row = recent_ticket(settings, hours_ago=3, closed_at=changed, updated_at=changed)
    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", [row])])
    client, status_page, wall = app_for(settings)

    con = Reader(settings.db_path).cursor()
    try:
        cutoff = data_cutoff(con, local_now(settings))
    finally:
        con.close()
    assert cutoff == reported
    body = client.get("/healthz").get_json()
    assert body["sources"]["tickets"]["data_at"] == str(reported)
    assert body["newest_record_at"] == str(reported)
    assert wall_badges(wall, settings)["tickets"]["as_of"] == reported
    text = _text(status_page())
    assert str(reported)[:16] in text and str(changed)[:16] not in text


def test_cadence__per_source_setting_decides(settings, tmp_path, make_settings):
    load_files(settings, "tickets",
               [write_csv(tmp_path / "t.csv", [recent_ticket(settings, hours_ago=3)])])
    now = local_now(settings)
    con = Reader(settings.db_path).cursor()
    try:
        hourly = make_settings(cadence="tickets=1h")
        assert freshness.freshness(con, settings, now)[0].state == "ok"
        assert freshness.freshness(con, hourly, now)[0].state == "missed"
        two_hours = make_settings(cadence="tickets=2h")
        assert freshness.freshness(con, two_hours, now)[0].state == "late"
    finally:
        con.close()


@pytest.mark.parametrize("text, error", [
    ("tickets=1", "cannot parse 'tickets=1'"),
    ("tickets=1w", "cannot parse"),
    ("parcels=1d", "unknown source 'parcels'"),
])
def test_cadence__typos_fail_at_start_naming_the_part(text, error):
    with pytest.raises(ValueError, match=error):
        load_settings({"WALL_CADENCE": text})


def test_journal__a_half_written_last_line_waits_and_garbage_is_reported(
    settings, tmp_path, caplog
):
    path = journal.journal_path(settings.db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('not json\n{"event": "end", "attempt": "a", "source": "tickets", '
                    '"outcome": "failed", "reason": "x", "at": "2026-12-01 09:00:00"}\n'
                    '{"event": "end", "att', encoding="utf-8")
    assert journal.summary(settings.db_path)["tickets"].newest.outcome == "failed"
    assert "unreadable line" in caplog.text
    with open(path, "a", encoding="utf-8") as f:  # the writer finishes its line
        f.write('empt": "b", "source": "tickets", "outcome": "ok", "reason": null, '
                '"at": "2026-12-02 09:00:00"}\n')
    assert journal.summary(settings.db_path)["tickets"].newest.outcome == "ok"
    assert os.path.getsize(path) > 0


def test_every_source__has_a_cadence_and_one_wall_badge():
    from pipelines.settings import Settings
    from pipelines.sources import SOURCES

    assert set(freshness.cadences(Settings())) == set(SOURCES)
    grouped = [s for sources in wall_q.SOURCE_GROUPS.values() for s in sources]
    assert sorted(grouped) == sorted(SOURCES)
