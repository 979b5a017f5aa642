"""Faults survived: loads killed at random points, a full disk during a load.

(Disk full during an export is tested in tests/unit/test_exports.py; a missing, corrupt
or newer-schema warehouse at start in tests/unit/test_serving.py.)
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines import warehouse
from pipelines.__main__ import main as cli
from pipelines.loader import load_files
from tests.accounting import assert_accounted
from tests.factories import ticket_row, write_csv

ROOT = Path(__file__).resolve().parents[2]
KILLS = 15
ROWS = 3000

LOADER = """
import sys, time
from pathlib import Path
from pipelines.loader import load_files
from pipelines.settings import load_settings
settings = load_settings()
print("ready", flush=True)
load_files(settings, "tickets", [Path(sys.argv[1])], progress=False)
print("done", flush=True)
"""


def state(settings) -> tuple[int, int]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return (con.execute("select data_version from warehouse_meta").fetchall()[0][0],
                con.execute("select count(*) from tickets").fetchall()[0][0])
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _loader(settings, csv: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALL_")}
    env.update(WALL_DB=str(settings.db_path), WALL_SECRET=settings.secret,
               PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", LOADER, str(csv)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def test_killed_loads__old_or_new_state_never_between(settings, tmp_path):
    rng = random.Random(7)
    load_files(settings, "tickets", [write_csv(tmp_path / "base.csv", [ticket_row()])])
    files = [write_csv(tmp_path / f"k{i}.csv",
                       [ticket_row(ticket_id=f"K{i:02d}-{j:05d}") for j in range(ROWS)])
             for i in range(KILLS + 1)]
    # How long one load takes here, so the kills land all over it.
    started = time.monotonic()
    proc = _loader(settings, files[0])
    assert proc.stdout.readline().strip() == "ready"
    ready = time.monotonic()
    assert proc.wait(timeout=120) == 0
    duration = time.monotonic() - ready
    version, count = state(settings)
    assert count == 1 + ROWS
    outcomes = {"old": 0, "new": 0}
    for i in range(1, KILLS + 1):
        proc = _loader(settings, files[i])
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0, duration * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        after = state(settings)
        if after == (version, count):
            outcomes["old"] += 1
        else:
            assert after == (version + 1, count + ROWS), f"kill {i}: in between: {after}"
            outcomes["new"] += 1
        version, count = after
    # The next run cleans up and completes.
    reports = load_files(settings, "tickets", [files[1]])
    assert_accounted(settings, reports, [files[1]])
    assert state(settings)[0] == version + 1
    assert not list(settings.db_path.parent.glob("*.writing-*"))
    assert outcomes["old"] >= 1, outcomes
    print(f"{KILLS} kills over a {duration:.2f} s load ({time.monotonic() - started:.0f} s "
          f"in all): {outcomes}")


def _enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _disk_full_while_copying(monkeypatch) -> None:
    """Both ways the writer copies the warehouse (around the page cache, or through it
    where O_DIRECT is refused) find the disk full."""
    monkeypatch.setattr(warehouse, "_copy_direct", _enospc)
    monkeypatch.setattr(warehouse.shutil, "copyfile", _enospc)


@pytest.mark.parametrize("step", ["copy", "swap"])
def test_disk_full_during_load__clear_error_and_nothing_lost(
    settings, tmp_path, monkeypatch, step
):
    load_files(settings, "tickets", [write_csv(tmp_path / "a.csv", [ticket_row()])])
    before = digest(settings.db_path)
    if step == "copy":
        _disk_full_while_copying(monkeypatch)
    else:
        monkeypatch.setattr(warehouse.os, "replace", _enospc)
    with pytest.raises(warehouse.WarehouseError) as caught:
        load_files(settings, "tickets", [write_csv(tmp_path / "b.csv", [ticket_row()])])
    message = str(caught.value)
    assert "No space left on device" in message
    assert str(settings.db_path.parent) in message and "unchanged" in message
    assert digest(settings.db_path) == before
    assert not list(settings.db_path.parent.glob("*.writing-*"))
    monkeypatch.undo()
    load_files(settings, "tickets", [write_csv(tmp_path / "c.csv", [ticket_row()])])
    assert state(settings) == (2, 2)


def test_disk_full_during_load__cli_prints_one_line_not_a_traceback(
    settings, tmp_path, monkeypatch, capsys
):
    load_files(settings, "tickets", [write_csv(tmp_path / "a.csv", [ticket_row()])])
    _disk_full_while_copying(monkeypatch)
    csv = write_csv(tmp_path / "b.csv", [ticket_row()])
    code = cli(["load", "tickets", str(csv), "--db", str(settings.db_path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and "No space left on device" in err
    assert "Traceback" not in err


def test_leftovers_of_a_killed_load__spill_directory_removed_and_next_load_runs(
    settings, tmp_path
):
    load_files(settings, "tickets", [write_csv(tmp_path / "a.csv", [ticket_row()])])
    # what kill -9 leaves mid-load: the private copy and DuckDB's spill directory beside it
    copy = settings.db_path.with_name(settings.db_path.name + ".writing-999999")
    copy.write_bytes(b"half a warehouse")
    spill = copy.with_name(copy.name + ".tmp")
    spill.mkdir()
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"\0" * 4096)
    reports = load_files(settings, "tickets",
                         [write_csv(tmp_path / "b.csv", [ticket_row(ticket_id="T-2")])])
    assert reports[0].inserted == 1
    assert not list(settings.db_path.parent.glob("*.writing*"))
    assert state(settings) == (2, 2)


def _insert_hits_full_disk(*_args, **_kwargs):
    raise duckdb.IOException(
        'IO Error: Could not write file "w.duckdb.writing-1.tmp/duckdb_temp_block": '
        "No space left on device")


def test_disk_full_during_insert__one_clear_line_with_free_space_and_nothing_lost(
    settings, tmp_path, monkeypatch, capsys
):
    from pipelines import loader

    load_files(settings, "tickets", [write_csv(tmp_path / "a.csv", [ticket_row()])])
    before = digest(settings.db_path)
    monkeypatch.setattr(loader, "_apply", _insert_hits_full_disk)
    csv = write_csv(tmp_path / "b.csv", [ticket_row(ticket_id="T-2")])
    code = cli(["load", "tickets", str(csv), "--db", str(settings.db_path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("error: cannot write the new warehouse in ")
    assert "No space left on device" in err and "MiB free" in err
    assert "free disk space" in err and "unchanged" in err
    assert digest(settings.db_path) == before


def test_export_against_a_missing_warehouse__refused_and_none_created(
    settings, tmp_path, capsys
):
    code = cli(["export", "closure_rates", "--from", "2026-11-01", "--to", "2026-11-30",
                "--out", str(tmp_path / "out"), "--db", str(settings.db_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"no warehouse at {settings.db_path}" in err
    assert not settings.db_path.exists()
    assert not list(tmp_path.glob("**/*.duckdb"))


def test_migrate__changes_no_data_version(settings, tmp_path):
    load_files(settings, "tickets", [write_csv(tmp_path / "a.csv", [ticket_row()])])
    assert cli(["migrate", "--db", str(settings.db_path)]) == 0
    assert state(settings) == (1, 1)


def _corrupt_a_tickets_block(db_path: Path) -> None:
    """Random bytes into one data block of the tickets table (DuckDB: 3 x 4 KiB file
    headers, then blocks of `block_size`)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        block_size = con.execute("select block_size from pragma_database_size()").fetchall()[0][0]
        block = con.execute(
            "select max(block_id) from pragma_storage_info('tickets') "
            "where column_name = 'description' and block_id >= 0").fetchall()[0][0]
    finally:
        con.close()
    with open(db_path, "r+b") as f:
        f.seek(3 * 4096 + block * block_size + 512)
        f.write(random.Random(3).randbytes(2048))


def test_corrupt_tickets_block__cheap_healthz_blind_deep_check_names_the_table(
    make_settings, tmp_path, clear_pages_state
):
    from app import create_app
    from pipelines.settings import local_now

    settings = make_settings(stale_hours=24 * 365 * 10)  # only the corruption matters here
    now = local_now(settings).replace(microsecond=0)
    rows = [ticket_row(reported_at=now, accepted_at=now, responded_at=now, closed_at=now,
                       updated_at=now, description=f"第{i}号 单元门损坏 " * 3)
            for i in range(20_000)]
    assert load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", rows)])[0].inserted

    client = create_app(settings).server.test_client()
    deep = client.get("/healthz?deep=1")
    assert deep.status_code == 200, deep.get_json()
    assert deep.get_json()["deep"]["tables"] >= 10
    _corrupt_a_tickets_block(settings.db_path)
    client = create_app(settings).server.test_client()  # a fresh process's view
    assert client.get("/healthz").status_code == 200  # what the cheap check cannot see
    deep = client.get("/healthz?deep=1")
    body = deep.get_json()
    assert deep.status_code == 503 and body["status"] == "corrupt"
    # public answer: the server path is cut to the file name
    assert body["error"].startswith(f"table tickets of {settings.db_path.name} cannot be read")
    with pytest.raises(warehouse.WarehouseError, match="checksum"):
        warehouse.verify(settings.db_path)


def test_public_deep_healthz__one_full_read_per_minute_whatever_the_requests(
    make_settings, tmp_path, clear_pages_state, monkeypatch
):
    """Anyone may call /healthz: twenty deep requests read the warehouse once, and a new
    file (the next load) is read afresh."""
    from app import create_app
    from dashboards import _serving

    settings = make_settings(stale_hours=24 * 365 * 10)
    assert load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", [ticket_row()])])
    monkeypatch.setattr(_serving, "_deep_last", None)
    reads = []
    real_verify = warehouse.verify
    monkeypatch.setattr(warehouse, "verify",
                        lambda path: reads.append(path) or real_verify(path))
    client = create_app(settings).server.test_client()
    bodies = [client.get("/healthz?deep=1").get_json() for _ in range(20)]
    assert len(reads) == 1
    assert bodies[0]["deep"]["age_seconds"] == 0.0 and bodies[-1]["deep"]["tables"] >= 10
    assert load_files(settings, "tickets",
                      [write_csv(tmp_path / "t2.csv", [ticket_row(ticket_id="T-2")])])
    client.get("/healthz?deep=1")
    assert len(reads) == 2
