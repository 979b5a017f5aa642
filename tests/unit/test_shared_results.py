"""The explorer summary is computed once for all the app's workers, and never served from
data that is no longer the warehouse's (pipelines/queries/shared.py).

A second worker is simulated in-process: a second store on the same file, with the
in-process cache emptied, which is what another gunicorn worker has.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil

import duckdb
import pandas as pd
import pytest

from dashboards import _data
from pipelines import queries
from pipelines.queries import explore as q
from pipelines.queries.shared import SharedResults, shared_frame
from pipelines.settings import local_now
from tests.serving_helpers import summary_request
from tests.unit.test_serving import load_some


def cell(tree, key: str) -> str:
    """The text of the summary cell with data-key `key`."""
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict) and props.get("data-key") == key:
            return props["children"]
        tree = list(tree.values())
    if isinstance(tree, list):
        for value in tree:
            found = cell(value, key)
            if found is not None:
                return found
    return None


@pytest.fixture
def served(settings, tmp_path, clear_pages_state, monkeypatch):
    """A test client on a warehouse of 3 tickets, and the list of summary computations."""
    from app import create_app

    load_some(settings, tmp_path)
    queries.RESULTS.clear()
    computed = []
    real = q.ticket_summary

    def counting(con, filters, **kw):
        computed.append(filters)
        return real(con, filters, **kw)

    monkeypatch.setattr(q, "ticket_summary", counting)
    client = create_app(settings).server.test_client()
    yield client, computed
    queries.RESULTS.clear()


def body(settings):
    now = local_now(settings).replace(second=0, microsecond=0)
    # from yesterday (the tickets were reported an hour ago, maybe before midnight),
    # judged at a pinned instant: no minute may pass between the requests' keys
    return summary_request((now - dt.timedelta(days=1)).date().isoformat(),
                           now.date().isoformat(), asof=now.isoformat())


def test_summary__a_second_worker_reads_the_first_workers_answer(served, settings):
    client, computed = served
    first = client.post("/_dash-update-component", json=body(settings))
    assert first.status_code == 200 and len(computed) == 1

    queries.RESULTS.clear()  # another process: its own memory, the same file
    _data._results = SharedResults(_data.results().path)
    second = client.post("/_dash-update-component", json=body(settings))
    assert second.status_code == 200
    assert len(computed) == 1
    assert second.get_json() == first.get_json()
    assert cell(second.get_json(), "reported_count.current") == "3"


def test_summary__a_minute_later_it_is_judged_again_from_the_first_answer(
        served, settings):
    """The next minute's first visitor: nothing the summary counts happened in between,
    so it is not computed again, and it says the later instant, as computed it would."""
    client, computed = served
    # after the tickets were reported (an hour ago) and closed, and away from midnight,
    # where their deadlines fall
    t0 = local_now(settings).replace(second=0, microsecond=0) - dt.timedelta(minutes=20)
    if t0.date() != (t0 + dt.timedelta(minutes=2)).date():
        t0 -= dt.timedelta(minutes=5)
    t1 = t0 + dt.timedelta(minutes=1)

    def ask(at):
        return client.post("/_dash-update-component", json=summary_request(
            (t0 - dt.timedelta(days=1)).date().isoformat(), t0.date().isoformat(),
            asof=at.isoformat()))

    assert ask(t0).status_code == 200
    later = ask(t1)
    assert later.status_code == 200 and len(computed) == 1
    assert f"judged at {t1:%Y-%m-%d %H:%M}" in json.dumps(later.get_json(),
                                                          ensure_ascii=False)

    queries.RESULTS.clear()  # another process, and nothing stored: computed at t1
    _data._results = SharedResults(_data.results().path.with_name("other.results"))
    fresh = ask(t1)
    assert len(computed) == 2
    assert later.get_json() == fresh.get_json()


def test_summary__a_replaced_warehouse_file_is_never_answered_from_the_old_one(
    served, settings, tmp_path
):
    """The same data version and write time, other data (a file swapped in behind the
    app, e.g. a backup copy edited by hand): the file's identity is part of the key."""
    client, computed = served
    r = client.post("/_dash-update-component", json=body(settings))
    assert cell(r.get_json(), "reported_count.current") == "3"

    copy = tmp_path / "edited.duckdb"
    shutil.copyfile(settings.db_path, copy)
    con = duckdb.connect(str(copy))
    con.execute("delete from tickets where ticket_id = (select min(ticket_id) from tickets)")
    con.close()
    os.replace(copy, settings.db_path)

    r = client.post("/_dash-update-component", json=body(settings))
    assert cell(r.get_json(), "reported_count.current") == "2"
    assert len(computed) == 2


def test_shared_frame__an_unusable_store_computes_and_says_so(tmp_path, caplog):
    queries.RESULTS.clear()
    store = SharedResults(tmp_path / "missing-dir" / "w.duckdb.results")
    frame = pd.DataFrame({"n": [1]})
    with caplog.at_level(logging.WARNING, logger="pipelines.queries.shared"):
        got = shared_frame(store, "t", ("w", (1, 2, 3), "1@x"), lambda: frame, a=1)
    assert got.equals(frame)
    assert "results not shared between workers" in caplog.text
    queries.RESULTS.clear()


def test_shared_frame__an_upgrade_that_changes_a_query_never_reads_the_old_answers(
        tmp_path, monkeypatch):
    """The file outlives a restart: after an upgrade whose SQL differs, the answers the
    old code stored are another key and are computed again."""
    from pipelines.queries import shared

    store = SharedResults(tmp_path / "w.duckdb.results")
    source = ("w", (1, 2, 3), "1@x")
    queries.RESULTS.clear()
    shared_frame(store, "t", source, lambda: pd.DataFrame({"n": [1]}), a=1)
    queries.RESULTS.clear()  # a new process, the old code
    old = shared_frame(store, "t", source, lambda: pd.DataFrame({"n": [9]}), a=1)
    assert old["n"].tolist() == [1]  # shared between processes of one version
    queries.RESULTS.clear()  # a new process, new SQL
    monkeypatch.setattr(shared, "_code", lambda: "other sql")
    new = shared_frame(store, "t", source, lambda: pd.DataFrame({"n": [2]}), a=1)
    assert new["n"].tolist() == [2]
    queries.RESULTS.clear()
