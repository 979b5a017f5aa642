"""Warehouse access: numbered migrations, copy-on-write writes, read-only serving.

Only pipelines write. A write works on a private copy of the warehouse file and swaps it in
with `os.replace` when it has finished, so that:
- readers (the app) never see half a load and never hold a lock a writer needs: an open
  read-only connection keeps reading the old file, a new one sees the new file;
- a failed or killed write leaves the served file exactly as it was (the copy is discarded,
  or removed by the next writer);
- writers queue on a lock file, so two loads from cron never race;
- where the copy costs a full copy of a large file (ext4), the next write's copy is made
  in the background after each write (`pipelines.standby`).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb
from filelock import FileLock, Timeout

from pipelines import standby
from pipelines.settings import Settings

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class WarehouseError(RuntimeError):
    """The warehouse cannot be used; the message says why and what to do."""


class CorruptTableError(WarehouseError):
    """A table of the warehouse cannot be read (found by the deep check, `verify`)."""


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, sql) of every migration, in order."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = re.match(r"(\d+)_", path.name)
        if m:
            found.append((int(m.group(1)), path.name, path.read_text(encoding="utf-8")))
    return found


SCHEMA_VERSION = max(v for v, _, _ in migrations())


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied to the warehouse behind `con` (0 when none)."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = 'schema_version'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("select coalesce(max(version), 0) from schema_version").fetchall()[0][0]


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every pending migration; return the resulting schema version.

    Raises:
        WarehouseError: when the warehouse was written by a newer version of this product.
    """
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise WarehouseError(
            f"warehouse schema version {current} is newer than this program's "
            f"{SCHEMA_VERSION}: upgrade the program or restore a matching backup"
        )
    applied, added = set(), []
    if current:
        applied = {v for (v,) in con.execute("select version from schema_version").fetchall()}
    # Apply every migration not yet recorded, so one merged out of order still runs.
    for version, name, sql in migrations():
        if version not in applied:
            logger.info("applying migration %s", name)
            con.execute(sql)
            con.execute(
                "insert into schema_version values ($v, $n, current_timestamp)",
                {"v": version, "n": name},
            )
            added.append(version)
    # A new warehouse (current == 0) has no data to fill derived tables from.
    created = [t for v, _, sql in migrations() if v in added and v in BACKFILL
               for t in tables_created(sql)] if current else []
    if created:
        from pipelines import derived  # imported late: the app's reader needs none of it

        derived.rebuild(con, created)
    return max(current, SCHEMA_VERSION)


def tables_created(sql: str) -> list[str]:
    """The tables a migration's SQL creates."""
    return re.findall(r"create table (\w+)", sql, flags=re.IGNORECASE)


# Migrations that add derived tables: fill them from the data already loaded, so a
# warehouse upgraded in place serves the same answers before its next load.
BACKFILL = (4, 5, 7, 18, 19, 20, 22)


def _checked_zone(name: str) -> str:
    from zoneinfo import ZoneInfo

    ZoneInfo(name)  # raises for an unknown zone; then the name is safe to quote
    return name.replace("'", "")


def lock_path(db_path: Path) -> Path:
    """The lock file writers (and the standby copy) queue on."""
    return db_path.with_name(db_path.name + ".lock")


def _remove(path: Path) -> None:
    """Delete a file, or a directory with its contents (DuckDB's `<copy>.tmp` spill)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=False)
    else:
        path.unlink(missing_ok=True)


def _remove_leftovers(db_path: Path) -> None:
    """Delete private copies, and their spill directories, left by writers that were
    killed (we hold the lock, so no live writer owns them)."""
    for leftover in db_path.parent.glob(db_path.name + ".writing*"):
        logger.warning("removing %s left by an interrupted write", leftover)
        _remove(leftover)


def is_disk_full(error: BaseException) -> bool:
    """True when `error` (OSError or DuckDB's IO error) says the disk is full."""
    return (getattr(error, "errno", None) == errno.ENOSPC
            or "No space left on device" in str(error))


def _free_space(folder: Path) -> str:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return "unknown"
    return f"{free / 2**20:,.0f} MiB"


def _write_failed(db_path: Path, step: str, error: Exception) -> WarehouseError:
    """Disk full, read-only or unwritable folder (issue 7): one clear line, not a traceback."""
    reason = getattr(error, "strerror", None) or str(error).strip().splitlines()[0]
    if is_disk_full(error):
        reason = f"No space left on device ({_free_space(db_path.parent)} free)"
    return WarehouseError(
        f"cannot {step} in {db_path.parent}: {reason}; the warehouse is unchanged "
        "(free disk space or make the folder writable, then run the load again)"
    )


FICLONE = 0x40049409  # linux/fs.h: share the source's extents instead of copying data
# What a filesystem without shared extents (ext4, tmpfs) answers to FICLONE.
_CANNOT_CLONE = {errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL, errno.EXDEV, errno.ENOSYS}


def copy_warehouse(source: Path, target: Path, through_cache: bool = False) -> str:
    """Copy the warehouse file for a write; return how ("clone", "direct" or "copy").

    On a filesystem with shared extents (XFS, btrfs) the copy is a reflink clone: no data
    is copied and the write later copies only the blocks it changes, whatever the size of
    the warehouse. Elsewhere every byte is copied: around the page cache ("direct", ext4),
    or through it where O_DIRECT is refused ("copy", tmpfs) or `through_cache` asks for
    it (the standby, copied in the background: the write that takes it reads its blocks
    from memory, not from disk: 0.1 s for each column it reads first at 10M tickets).
    """
    with open(source, "rb") as src, open(target, "wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            return "clone"
        except OSError as e:
            if e.errno not in _CANNOT_CLONE:
                raise
    if not through_cache:
        try:
            _copy_direct(source, target)
            return "direct"
        except OSError as e:
            if e.errno != errno.EINVAL:  # tmpfs refuses O_DIRECT: copy through the cache
                raise
    shutil.copyfile(source, target)
    return "copy"


_DIRECT_CHUNK = 8 << 20  # a multiple of every block size O_DIRECT asks alignment to


def _copy_direct(source: Path, target: Path) -> None:
    """Copy `source` to `target` writing around the page cache (O_DIRECT).

    Through the cache, the kernel allocates (and, on a busy machine, first reclaims) a
    page for every 4 KiB of the copy: at 10M tickets 0.3-2.9 s of system CPU per write,
    against 0.1-0.3 s here (docs/benchmarks-history.md). The copy is then not in the cache: the
    write, and the app after the swap, read the blocks they need of it from disk.
    """
    import mmap

    buffer = mmap.mmap(-1, _DIRECT_CHUNK)  # page-aligned, as O_DIRECT needs
    view = memoryview(buffer)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o644)
    try:
        with open(source, "rb", buffering=0) as src:
            while n := src.readinto(buffer):
                aligned = done = n - n % 4096
                while done:  # a short write leaves an unaligned offset: EINVAL next
                    done -= os.write(fd, view[aligned - done:aligned])
                if aligned < n:  # the file's unaligned tail: through the cache
                    with open(target, "r+b") as tail:
                        tail.seek(os.lseek(fd, 0, os.SEEK_CUR))
                        tail.write(view[aligned:n])
                    break
    finally:
        view.release()
        buffer.close()
        os.close(fd)


@contextmanager
def writer(
    settings: Settings, lock_timeout: float = 600, bump_version: bool = True,
    create: bool = True, upgrade: bool = True,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a private, migrated copy of the warehouse for writing.

    The copy is the standby made after the last write when there is one
    (`pipelines.standby`), else a clone or a full copy (`copy_warehouse`). On a clean
    exit it is checkpointed, flushed to disk and atomically swapped in, and
    the data version goes up by one (unless `bump_version` is False: bookkeeping such as
    the export log changes no figure, so cached views stay valid). On an exception nothing
    changes. With `create` False a missing warehouse is refused rather than created
    empty (bookkeeping must not invent a warehouse); with `upgrade` False a warehouse
    whose schema is not this program's is refused rather than migrated (a command that
    refused it, e.g. an export, must leave it as it was).

    Raises:
        WarehouseError: when another writer holds the lock for longer than `lock_timeout`,
            the warehouse is from a newer version, missing while `create` is False, or
            behind while `upgrade` is False.
    """
    db_path = Path(settings.db_path)
    if not create:
        require_existing(db_path)
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(lock_path(db_path)), timeout=lock_timeout)
        lock.acquire()
    except Timeout:
        raise WarehouseError(
            f"another load or export is writing {db_path} (lock held for over "
            f"{lock_timeout:.0f} s); try again later"
        ) from None
    except OSError as e:
        raise _write_failed(db_path, "lock the warehouse", e) from e
    work = db_path.with_name(f"{db_path.name}.writing-{os.getpid()}")
    try:
        if not upgrade and db_path.exists():
            connect_read_only(db_path).close()  # raises, naming `migrate`, unless current
        _remove_leftovers(db_path)
        copied_how = None
        try:
            if db_path.exists():
                copied_how = ("standby" if standby.take(db_path, work)
                              else copy_warehouse(db_path, work))
            con = duckdb.connect(str(work))
        except (OSError, duckdb.IOException) as e:
            raise _write_failed(db_path, "copy the warehouse", e) from e
        try:
            # current_timestamp stored as local wall-clock time, like every timestamp here
            con.execute(f"set TimeZone = '{_checked_zone(settings.timezone)}'")
            con.execute("begin")
            try:
                migrate(con)  # in the write's transaction: one commit, not one per statement
                yield con
            except (duckdb.Error, OSError) as e:
                # a full disk while inserting: the cause in one line, not two tracebacks
                if is_disk_full(e):
                    raise _write_failed(db_path, "write the new warehouse", e) from None
                raise
            if bump_version:
                con.execute(
                    "update warehouse_meta set data_version = data_version + 1, "
                    "written_at = current_timestamp"
                )
            try:
                con.execute("commit")
                con.execute("checkpoint")
            except duckdb.IOException as e:
                raise _write_failed(db_path, "write the new warehouse", e) from e
        finally:
            con.close()  # without the commit above, this rolls the copy back; it is deleted
        keep_standby = standby.wanted(work, copied_how, settings.standby_min_mib)
        try:
            with open(work, "rb") as f:
                os.fsync(f.fileno())
            if keep_standby:
                standby.retire(db_path)
            os.replace(work, db_path)
        except OSError as e:
            raise _write_failed(db_path, "swap in the new warehouse", e) from e
        dir_fd = os.open(db_path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        _remove(work)
        _remove(work.with_name(work.name + ".tmp"))  # DuckDB's spill directory
        lock.release()
    if keep_standby:  # the next write's copy, made after this one (pipelines.standby)
        standby.start(db_path)


def require_existing(db_path: Path) -> None:
    """Raise WarehouseError, saying how to make one, when there is no warehouse file."""
    if not Path(db_path).exists():
        raise WarehouseError(f"no warehouse at {db_path}: run `python -m pipelines demo` "
                             "or load files with `python -m pipelines load ...`")


def connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only, checking that this program understands its schema.

    Raises:
        WarehouseError: missing, unreadable or newer-schema warehouse, with the reason.
    """
    db_path = Path(db_path)
    require_existing(db_path)
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as e:
        raise WarehouseError(f"cannot open warehouse {db_path}: {e}") from e
    _check_schema(con, db_path)
    return con


def migrate_if_behind(settings: Settings, lock_timeout: float = 120) -> int | None:
    """At app start: bring a warehouse whose schema is behind this program's up to date,
    as `python -m pipelines migrate` does (writer lock, copy, migrate, atomic swap, data
    version kept), so an upgraded app serves its new marts before the next load.

    Returns the schema version it was at, or None when there was nothing to do (no
    warehouse, or already current; a newer one is left for the reader to refuse).

    Raises:
        WarehouseError: it cannot be read or migrated (e.g. a load holds the lock for
            longer than `lock_timeout`); the message says why.
    """
    db_path = Path(settings.db_path)
    if not db_path.exists():
        return None
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as e:
        raise WarehouseError(f"cannot open warehouse {db_path}: {e}") from e
    try:
        version = schema_version(con)
    finally:
        con.close()
    if version >= SCHEMA_VERSION:
        return None
    logger.warning("warehouse %s has schema version %d, this program %d: migrating",
                   db_path, version, SCHEMA_VERSION)
    with writer(settings, lock_timeout=lock_timeout, bump_version=False, create=False):
        pass  # the writer applies every pending migration (and its backfill)
    logger.warning("warehouse %s migrated to schema version %d", db_path, SCHEMA_VERSION)
    return version


def _check_schema(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Raise WarehouseError (closing `con`) unless its schema is this program's."""
    try:
        version = schema_version(con)
    except duckdb.Error as e:
        con.close()
        raise WarehouseError(f"cannot read warehouse {db_path}: {e}") from e
    if version > SCHEMA_VERSION:
        con.close()
        raise WarehouseError(
            f"warehouse {db_path} has schema version {version}, newer than this "
            f"program's {SCHEMA_VERSION}"
        )
    if version < SCHEMA_VERSION:
        con.close()
        raise WarehouseError(
            f"warehouse {db_path} has schema version {version}; run any load "
            f"(python -m pipelines migrate) to upgrade it to {SCHEMA_VERSION}"
        )


# Serving fix (issue 7): DuckDB keeps one database instance per file path in a process.
# While any connection or cursor to the old file is alive, duckdb.connect(path) returns
# that same old instance, so a long-running app never saw a swapped-in file. A snapshot
# is therefore a fresh in-memory instance with the file ATTACHed read-only: every swap
# gets its own instance, and the old one lives until its last cursor is gone.
SNAPSHOT_ALIAS = "warehouse"


def _open_snapshot(db_path: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse file attached read-only to a new in-memory instance (see above)."""
    db_path = Path(db_path)
    require_existing(db_path)
    con = duckdb.connect(":memory:")
    try:
        literal = "'" + str(db_path).replace("'", "''") + "'"
        con.execute(f"attach {literal} as {SNAPSHOT_ALIAS} (read_only)")
        con.execute(f"use {SNAPSHOT_ALIAS}")
    except duckdb.Error as e:
        con.close()
        raise WarehouseError(f"cannot open warehouse {db_path}: {e}") from e
    _check_schema(con, db_path)
    return con


@dataclass(frozen=True)
class _Opened:
    con: duckdb.DuckDBPyConnection
    identity: tuple[int, int, int]


class Reader:
    """The app's view of the warehouse: one read-only connection, renewed after each swap.

    `cursor()` is cheap and thread-safe; it stats the file and, when a write has swapped a
    new file in, opens it. Connections to older files are left to close once their last
    cursor is gone, so requests in flight finish on the data they started with.
    """

    def __init__(self, db_path: Path):
        self.db_path = Path(db_path)
        self._lock = threading.Lock()
        self._opened: _Opened | None = None

    def _identity(self) -> tuple[int, int, int]:
        st = os.stat(self.db_path)
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the newest warehouse file.

        Raises:
            WarehouseError: when the warehouse is missing or unusable.
        """
        return self.snapshot()[0]

    def snapshot(self) -> tuple[duckdb.DuckDBPyConnection, tuple[int, int, int]]:
        """A cursor on the newest warehouse file and that file's identity (inode, mtime
        in ns, size), taken together: a result cached under the identity is one read
        from that very file, even while a swap happens.

        Raises:
            WarehouseError: when the warehouse is missing or unusable.
        """
        try:
            identity = self._identity()
        except FileNotFoundError:
            raise WarehouseError(f"no warehouse at {self.db_path}") from None
        with self._lock:
            if self._opened is None or self._opened.identity != identity:
                self._opened = _Opened(_open_snapshot(self.db_path), identity)
            opened = self._opened
            cursor = opened.con.cursor()
        cursor.execute(f"use {SNAPSHOT_ALIAS}")  # a cursor starts in the in-memory catalog
        return cursor, opened.identity


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    """The warehouse's data version: it goes up by one with every successful write."""
    return con.execute("select data_version from warehouse_meta").fetchall()[0][0]


@dataclass(frozen=True)
class Verified:
    """What a deep check read: every table of the warehouse, every column, once."""

    tables: int
    rows: int
    seconds: float


def verify(db_path: Path) -> Verified:
    """Read every block of every table once, in an instance of its own (so nothing is
    served from another reader's cache), for monitoring: a corrupt block fails its
    checksum here, not in front of an analyst.

    Raises:
        CorruptTableError: naming the table that cannot be read, and why.
        WarehouseError: the warehouse cannot be opened at all.
    """
    import time

    started = time.monotonic()
    con = _open_snapshot(db_path)
    try:
        tables = [name for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = $db "
            "and schema_name = 'main' order by table_name", {"db": SNAPSHOT_ALIAS}
        ).fetchall()]
        total = 0
        for name in tables:
            quoted = '"' + name.replace('"', '""') + '"'  # a name from the catalogue
            try:
                # hashing every column makes DuckDB load (and checksum) every data block
                total += con.execute(
                    f"select count(*), bit_xor(hash(columns(*))) from {quoted}"
                ).fetchall()[0][0]
            except duckdb.Error as e:
                raise CorruptTableError(f"table {name} of {db_path} cannot be read: "
                                     f"{str(e).strip().splitlines()[0]}") from None
    finally:
        con.close()
    return Verified(len(tables), total, time.monotonic() - started)
