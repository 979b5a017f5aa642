"""A write starts from a reflink clone of the warehouse where the filesystem offers one
(XFS, btrfs: no bytes copied), else from a full copy (ext4, tmpfs), and nothing else
changes: the copy is byte for byte the served file, and a clone that fails for another
reason (a full disk) stops the write with the usual one-line error."""

from __future__ import annotations

import errno
import shutil

import duckdb
import pytest

from pipelines import warehouse


def _write(settings, value: int) -> None:
    with warehouse.writer(settings) as con:
        con.execute("create table if not exists t (v integer)")
        con.execute("insert into t values ($v)", {"v": value})


def _values(settings) -> list[int]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return [v for (v,) in con.execute("select v from t order by v").fetchall()]
    finally:
        con.close()


def test_clone__a_filesystem_that_clones_is_never_asked_for_a_full_copy(
        settings, monkeypatch):
    _write(settings, 1)
    cloned = []

    def clone(target_fd, request, source_fd):  # what FICLONE gives: the same bytes
        assert request == warehouse.FICLONE
        cloned.append(request)
        with open(source_fd, "rb", closefd=False) as src, \
                open(target_fd, "wb", closefd=False) as dst:
            shutil.copyfileobj(src, dst)

    def no_copy(*args, **kwargs):
        raise AssertionError("copied byte by byte though the filesystem clones")

    monkeypatch.setattr(warehouse.fcntl, "ioctl", clone)
    monkeypatch.setattr(warehouse.shutil, "copyfile", no_copy)
    _write(settings, 2)
    assert cloned and _values(settings) == [1, 2]


def test_clone__refused_here_so_the_copy_is_the_served_file_byte_for_byte(
        settings, tmp_path):
    _write(settings, 1)
    how = warehouse.copy_warehouse(settings.db_path, tmp_path / "copy.duckdb")
    assert how in ("clone", "copy")
    assert (tmp_path / "copy.duckdb").read_bytes() == settings.db_path.read_bytes()


def test_clone__a_full_disk_while_cloning_stops_the_write_and_changes_nothing(
        settings, monkeypatch):
    _write(settings, 1)
    before = settings.db_path.read_bytes()

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(warehouse.fcntl, "ioctl", full)
    with pytest.raises(warehouse.WarehouseError, match="cannot copy the warehouse.*"
                                                       "No space left on device"):
        _write(settings, 2)
    assert settings.db_path.read_bytes() == before
    assert not list(settings.db_path.parent.glob("*.writing*"))
