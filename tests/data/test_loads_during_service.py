"""Loads never disturb serving: 20 loads while 20 clients poll a running gunicorn.

Every load adds exactly ROWS_PER_LOAD tickets, so data version v holds v * ROWS_PER_LOAD
tickets. A status page that reports version v with any other ticket count would be a
torn read (a mix of before and after); a failed request, a 5xx or a lock error would be
a load disturbing the service.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pipelines import warehouse
from pipelines.loader import load_files
from tests.factories import ticket_row, write_csv
from tests.serving_helpers import find_by_id, pages_request, table_rows, texts

ROOT = Path(__file__).resolve().parents[2]
ROWS_PER_LOAD = 50
LOADS = 20
CLIENTS = 20

LOADER = """
import sys
from pathlib import Path
from pipelines.loader import load_files
from pipelines.settings import load_settings
from tests.factories import ticket_row, write_csv

settings, out = load_settings(), Path(sys.argv[1])
for i in range(int(sys.argv[2])):
    rows = [ticket_row(ticket_id=f"L{i:02d}-{j:03d}") for j in range(int(sys.argv[3]))]
    load_files(settings, "tickets", [write_csv(out / f"load{i:02d}.csv", rows)])
    print("loaded", i, flush=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALL_")}
    # the factories' tickets are from 2025: a century's cadence keeps /healthz at 200
    env.update(WALL_DB=str(settings.db_path), WALL_SECRET=settings.secret,
               WALL_DEMO_DIR=str(settings.demo_dir), PYTHONPATH=str(ROOT),
               WALL_CADENCE="tickets=36500d")
    return env


def _request(url: str, body: dict | None = None, timeout: float = 30) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def status_page_snapshot(base: str) -> tuple[int, int]:
    """(data version, tickets row count) as one status page render shows them."""
    code, raw = _request(base + "/_dash-update-component", pages_request("/"))
    assert code == 200, raw[:500]
    page = json.loads(raw)["response"]["_pages_content"]["children"]
    assert find_by_id(page, "status-unavailable") is None, texts(page)
    version = int(texts(find_by_id(page, "status-data-version"))[0])
    counts = {row[0]: row[1] for row in table_rows(find_by_id(page, "status-tables-table"))}
    return version, int(counts["tickets"].replace(",", ""))


@pytest.fixture
def served(settings, tmp_path):
    """A gunicorn (2 workers, production config) serving a warehouse at version 1."""
    rows = [ticket_row(ticket_id=f"B-{j:03d}") for j in range(ROWS_PER_LOAD)]
    load_files(settings, "tickets", [write_csv(tmp_path / "base.csv", rows)])
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
         "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "8", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=_env(settings), stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "gunicorn.log", "wb"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if _request(base + "/healthz", timeout=2)[0] == 200:
                break
        except OSError:
            pass
        assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
        assert time.monotonic() < deadline, "gunicorn did not come up"
        time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(timeout=30)


def test_loads_during_service__no_failed_request_and_no_torn_read(served, settings, tmp_path):
    base = served
    stop = threading.Event()
    failures: list[str] = []
    seen: list[tuple[int, int]] = []
    counts = {"requests": 0}
    lock = threading.Lock()

    def client(n: int) -> None:
        last_version = 0
        while not stop.is_set():
            try:
                code, raw = _request(base + "/healthz")
                version = json.loads(raw).get("data_version", -1)
                if code != 200:
                    failures.append(f"healthz {code}: {raw[:300]!r}")
                elif version < last_version:
                    failures.append(f"client {n}: version went back {last_version}->{version}")
                last_version = max(last_version, version)
                snapshot = status_page_snapshot(base) if n % 2 == 0 else None
                code, raw = _request(base + "/api/wall/version")
                if code != 200:
                    failures.append(f"wall version {code}: {raw[:300]!r}")
                with lock:
                    counts["requests"] += 3 if snapshot else 2
                    if snapshot:
                        seen.append(snapshot)
                stop.wait(0.05)  # walls poll; they do not spin
            except Exception as e:  # noqa: BLE001 - every failure is reported
                failures.append(f"client {n}: {type(e).__name__}: {e}")

    # daemon, and stopped however the loader ends: a loader past its timeout used to
    # leave twenty polling threads that kept pytest from exiting
    threads = [threading.Thread(target=client, args=(n,), daemon=True)
               for n in range(CLIENTS)]
    for t in threads:
        t.start()
    started = time.monotonic()
    try:
        loader = subprocess.run(
            [sys.executable, "-c", LOADER, str(tmp_path), str(LOADS), str(ROWS_PER_LOAD)],
            cwd=ROOT, env=_env(settings), capture_output=True, text=True, timeout=180,
        )
        load_seconds = time.monotonic() - started
        time.sleep(1.0)  # a last round of polls on the final version
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)

    assert loader.returncode == 0, loader.stderr[-2000:]
    assert loader.stdout.count("loaded") == LOADS
    assert failures == [], failures[:10]
    # what the clients cannot see: an error the server logged (a lock conflict retried,
    # a callback that failed into a banner) while every answer still said 200
    server_log = (tmp_path / "gunicorn.log").read_text(encoding="utf-8", errors="replace")
    logged = [line for line in server_log.splitlines()
              if re.search(r"\[(ERROR|CRITICAL)\]|Traceback|\block\b", line, re.I)]
    assert logged == [], logged[:10]
    torn = [(v, n) for v, n in seen if n != v * ROWS_PER_LOAD]
    assert torn == [], f"status pages mixing versions: {torn[:10]}"
    versions = {v for v, _ in seen}
    assert len(versions) >= 5, f"clients saw too few versions to prove much: {versions}"
    # Every worker serves the newest load within seconds.
    final = LOADS + 1
    answers = {json.loads(_request(base + "/healthz")[1])["data_version"] for _ in range(20)}
    assert answers == {final}
    print(f"{counts['requests']} requests, {len(seen)} status pages over {load_seconds:.1f} s "
          f"of {LOADS} loads; versions seen: {sorted(versions)}")


def test_reader__threads_never_see_a_mix_during_loads(settings, tmp_path):
    """The same promise one level down: query-layer readers on threads, loads in-process."""
    rows = [ticket_row(ticket_id=f"B-{j:03d}") for j in range(ROWS_PER_LOAD)]
    load_files(settings, "tickets", [write_csv(tmp_path / "base.csv", rows)])
    reader = warehouse.Reader(settings.db_path)
    stop = threading.Event()
    failures, seen = [], set()

    def poll():
        while not stop.is_set():
            try:
                con = reader.cursor()
                try:
                    v = con.execute("select data_version from warehouse_meta").fetchall()[0][0]
                    time.sleep(0.002)  # let a load swap the file between the statements
                    n = con.execute("select count(*) from tickets").fetchall()[0][0]
                finally:
                    con.close()
                if n != v * ROWS_PER_LOAD:
                    failures.append((v, n))
                seen.add(v)
                stop.wait(0.005)
            except Exception as e:  # noqa: BLE001
                failures.append(repr(e))

    threads = [threading.Thread(target=poll) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        for i in range(LOADS // 2):  # the gunicorn test above runs all 20
            rows = [ticket_row(ticket_id=f"L{i:02d}-{j:03d}") for j in range(ROWS_PER_LOAD)]
            load_files(settings, "tickets", [write_csv(tmp_path / f"l{i}.csv", rows)])
    finally:
        time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert failures == []
    assert LOADS // 2 + 1 in seen and len(seen) >= 5
