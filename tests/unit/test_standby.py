"""After a write of a large warehouse on a filesystem without clones, the next write's
copy is made in the background (pipelines.standby), and a write takes it only when it is
a copy of the file served now: a stale, forged or partial one is deleted, never used; a
failed one is named by the next write's log; the write's own guarantees are unchanged."""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path

import pytest
from filelock import FileLock

from pipelines import standby, warehouse
from tests.warehouse_helpers import values, write_value


def _beside(settings, pattern: str) -> list[str]:
    db = settings.db_path
    return sorted(p.name for p in db.parent.glob(db.name + pattern))


def _no_copy(*args, **kwargs):
    raise AssertionError("copied the warehouse though a standby was ready")


@pytest.fixture
def no_background(monkeypatch):
    """Writes record the background process they would start instead of starting it."""
    started = []
    monkeypatch.setattr(standby, "start", started.append)
    return started


def test_standby__made_in_the_background_and_taken_by_the_next_write(
        make_settings, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # a warehouse named relative to the operator's folder
    settings = make_settings(standby_min_mib=0, db_path=Path("w.duckdb"))
    write_value(settings, 1)
    write_value(settings, 2)  # replaces a file: the old one is retired, then deleted
    ready = standby.ready_path(settings.db_path, standby.identity(settings.db_path))
    # both writes started a process: the first may run last on a busy machine, and one
    # still waiting would make a standby after the third write below
    for process in list(standby._started):
        process.wait(timeout=60)
    assert ready.read_bytes() == settings.db_path.read_bytes()
    assert _beside(settings, ".retired-*") == []
    monkeypatch.setattr(warehouse, "copy_warehouse", _no_copy)
    monkeypatch.setattr(standby, "start", lambda db: None)
    write_value(settings, 3)
    assert values(settings) == [1, 2, 3]
    assert _beside(settings, ".standby*") == []


def test_standby__the_swap_keeps_the_old_file_for_the_background_to_delete(
        make_settings, no_background):
    settings = make_settings(standby_min_mib=0)
    write_value(settings, 1)
    old = standby.identity(settings.db_path)
    write_value(settings, 2)
    retired = _beside(settings, ".retired-*")
    assert len(retired) == 1
    assert os.stat(settings.db_path.parent / retired[0]).st_ino == old[0]
    assert no_background == [settings.db_path, settings.db_path]
    assert standby.make(settings.db_path) == "made"
    assert _beside(settings, ".retired-*") == []


def test_standby__one_made_before_a_restore_is_deleted_not_used(settings, tmp_path):
    write_value(settings, 1)
    shutil.copyfile(settings.db_path, tmp_path / "backup.duckdb")
    write_value(settings, 2)
    assert standby.make(settings.db_path) == "made"  # a copy of [1, 2]
    shutil.copyfile(tmp_path / "backup.duckdb", tmp_path / "restoring")
    os.replace(tmp_path / "restoring", settings.db_path)  # the documented restore
    write_value(settings, 3)
    assert values(settings) == [1, 3]
    assert _beside(settings, ".standby*") == []


def test_standby__one_under_the_right_name_with_other_bytes_is_not_used(settings):
    write_value(settings, 1)
    write_value(settings, 2)
    assert standby.make(settings.db_path) == "made"
    ready = standby.ready_path(settings.db_path, standby.identity(settings.db_path))
    forged = bytearray(ready.read_bytes())
    forged[4096:8192] = bytes(4096)  # a database header that is not the served file's
    ready.write_bytes(bytes(forged))
    write_value(settings, 3)
    assert values(settings) == [1, 2, 3]
    assert _beside(settings, ".standby*") == []


def test_standby__a_partial_one_left_by_a_killed_process_is_removed(settings):
    write_value(settings, 1)
    partial = settings.db_path.with_name(settings.db_path.name + ".standby-partial-99999")
    partial.write_bytes(b"half a copy")
    write_value(settings, 2)
    assert values(settings) == [1, 2]
    assert not partial.exists()


def test_standby__a_failed_copy_is_named_by_the_next_writes_log(
        settings, monkeypatch, caplog):
    write_value(settings, 1)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(warehouse, "copy_warehouse", full)
        with pytest.raises(OSError, match="No space left"):
            standby.make(settings.db_path)
    assert _beside(settings, ".standby-*") == []  # no partial copy left
    with caplog.at_level(logging.WARNING, logger="pipelines.standby"):
        write_value(settings, 2)
    assert any("no standby copy" in r.message and "No space left on device" in r.message
               for r in caplog.records)
    assert _beside(settings, ".standby*") == []
    assert values(settings) == [1, 2]


def test_standby__none_while_a_write_holds_the_lock(settings):
    write_value(settings, 1)
    with FileLock(str(warehouse.lock_path(settings.db_path))):
        assert standby.make(settings.db_path) == "busy"
    assert _beside(settings, ".standby*") == []


def test_standby__only_for_large_warehouses_and_never_where_copies_are_clones(
        make_settings, no_background):
    small = make_settings(standby_min_mib=1)  # the test's warehouse is far smaller
    write_value(small, 1)
    write_value(small, 2)
    assert no_background == [] and _beside(small, ".retired-*") == []
    work = small.db_path
    assert standby.wanted(work, "direct", 0)
    assert not standby.wanted(work, "clone", 0)
    assert not standby.wanted(work, "direct", -1)


def test_standby__a_write_that_fails_after_taking_it_changes_nothing(
        settings, monkeypatch):
    write_value(settings, 1)
    assert standby.make(settings.db_path) == "made"
    with pytest.raises(RuntimeError, match="the load broke"):
        with warehouse.writer(settings) as con:
            con.execute("insert into t values (2)")
            raise RuntimeError("the load broke")
    # the failed write took the standby and discarded it: the served file is as it was
    assert values(settings) == [1]
    write_value(settings, 3)
    assert values(settings) == [1, 3]


def test_standby__a_background_process_that_cannot_start_fails_no_write(
        make_settings, monkeypatch, caplog):
    settings = make_settings(standby_min_mib=0)
    write_value(settings, 1)

    def no_process(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(standby.subprocess, "Popen", no_process)
    with caplog.at_level(logging.WARNING, logger="pipelines.standby"):
        write_value(settings, 2)
    assert values(settings) == [1, 2]
    assert any("cannot start the standby copy" in r.message for r in caplog.records)


def test_standby__a_retired_file_nobody_deleted_is_named_and_deleted_by_the_next_write(
        make_settings, no_background, monkeypatch, caplog):
    settings = make_settings(standby_min_mib=0)
    write_value(settings, 1)
    write_value(settings, 2)  # retired the first file; its background process never ran
    assert len(_beside(settings, ".retired-*")) == 1
    monkeypatch.setattr(standby, "RETIRED_OVERDUE_S", -1)  # as if a minute had passed
    with caplog.at_level(logging.WARNING, logger="pipelines.standby"):
        write_value(settings, 3)
    assert any("did not run" in r.message for r in caplog.records)
    assert len(_beside(settings, ".retired-*")) == 1  # only the one this write retired
    assert values(settings) == [1, 2, 3]


def test_standby__a_warehouse_moved_away_during_the_copy_leaves_no_standby(
        settings, monkeypatch):
    write_value(settings, 1)
    real_copy = warehouse.copy_warehouse

    def copy_then_move_away(source, target, **kwargs):
        how = real_copy(source, target, **kwargs)
        os.replace(source, source.with_name("elsewhere.duckdb"))  # an operator's `mv`
        return how

    monkeypatch.setattr(warehouse, "copy_warehouse", copy_then_move_away)
    assert standby.make(settings.db_path) == "stale"
    assert _beside(settings, ".standby*") == []
