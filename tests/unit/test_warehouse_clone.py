"""A write starts from a reflink clone of the warehouse where the filesystem offers one
(XFS, btrfs: no bytes copied), else from a full copy written around the page cache
(ext4), else through it (tmpfs refuses O_DIRECT), and nothing else changes: the copy is
byte for byte the served file, and a clone that fails for another reason (a full disk)
stops the write with the usual one-line error."""

from __future__ import annotations

import errno
import shutil

import pytest

from pipelines import warehouse
from tests.warehouse_helpers import values, write_value


def test_clone__a_filesystem_that_clones_is_never_asked_for_a_full_copy(
        settings, monkeypatch):
    write_value(settings, 1)
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
    monkeypatch.setattr(warehouse, "_copy_direct", no_copy)
    write_value(settings, 2)
    assert cloned and values(settings) == [1, 2]


def test_clone__refused_here_so_the_copy_is_the_served_file_byte_for_byte(
        settings, tmp_path):
    write_value(settings, 1)
    how = warehouse.copy_warehouse(settings.db_path, tmp_path / "copy.duckdb")
    assert how in ("clone", "direct", "copy")
    assert (tmp_path / "copy.duckdb").read_bytes() == settings.db_path.read_bytes()


def test_clone__a_full_disk_while_cloning_stops_the_write_and_changes_nothing(
        settings, monkeypatch):
    write_value(settings, 1)
    before = settings.db_path.read_bytes()

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(warehouse.fcntl, "ioctl", full)
    with pytest.raises(warehouse.WarehouseError, match="cannot copy the warehouse.*"
                                                       "No space left on device"):
        write_value(settings, 2)
    assert settings.db_path.read_bytes() == before
    assert not list(settings.db_path.parent.glob("*.writing*"))


def test_copy__around_the_cache_is_byte_for_byte_with_an_unaligned_tail(tmp_path):
    # two chunks of the direct copy and a tail no block size divides
    source = tmp_path / "served.duckdb"
    source.write_bytes(bytes(range(256)) * (2 * warehouse._DIRECT_CHUNK // 256) + b"tail" * 777)
    try:
        warehouse._copy_direct(source, tmp_path / "copy.duckdb")
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
        pytest.skip("this filesystem refuses O_DIRECT (tmpfs): the copy goes through "
                    "the cache, tested below")
    assert (tmp_path / "copy.duckdb").read_bytes() == source.read_bytes()


def test_copy__a_filesystem_refusing_o_direct_gets_a_copy_through_the_cache(
        settings, tmp_path, monkeypatch):
    write_value(settings, 1)
    real_open = warehouse.os.open

    def no_direct(path, flags, *args):  # what tmpfs answers to O_DIRECT
        if flags & warehouse.os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, *args)

    def no_clone(*args):  # nor reflinks (tmpfs)
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(warehouse.os, "open", no_direct)
    monkeypatch.setattr(warehouse.fcntl, "ioctl", no_clone)
    how = warehouse.copy_warehouse(settings.db_path, tmp_path / "copy.duckdb")
    assert how == "copy"
    assert (tmp_path / "copy.duckdb").read_bytes() == settings.db_path.read_bytes()
    write_value(settings, 2)
    assert values(settings) == [1, 2]
