"""The standby copy: the next write's private copy of the warehouse, made ahead of time.

Every write works on a private copy of the warehouse file (`pipelines.warehouse.writer`).
On XFS or btrfs that copy is a clone and costs nothing; on ext4 every byte is copied,
0.5 s for 10M tickets, inside the load. So after a write of a large warehouse on such a
filesystem, a background process (`python -m pipelines.standby DB`, started by the
writer once it has swapped the new file in and released the lock) makes the copy the
next write will need, and the next write starts from it:

- the standby is made under the writer lock, from the served file, and named after that
  file's identity (inode, mtime, size); a write takes it only while the served file
  still has that identity and the same DuckDB headers, so a restored backup or a write
  that came first makes it stale, and a stale one is deleted, never used;
- the old served file is kept as `<db>.retired-<pid>` across the swap, so the write does
  not wait for the filesystem to free 785 MB of blocks (0.17 s on ext4); the background
  process deletes it;
- it copies through the page cache, so the write that takes the standby reads it from
  memory (from disk, each column a load reads first cost it 0.1 s at 10M tickets);
- it runs at a lower CPU priority; if it cannot take the lock (a load is running), it
  leaves the work to the process that load starts. If it fails (a full disk), it writes
  the reason to `<db>.standby.failed`, which the next write logs before copying the file
  itself: the guarantees of the writer are unchanged, only the time of the copy moves.

Disk: a standby as large as the warehouse stays beside it, the space any write needs
anyway. Back up the warehouse file only (docs/operations.md).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
_HEADER_BYTES = 3 * 4096  # DuckDB's main header and its two database headers
# The background process deletes a retired file within about a second of the write.
RETIRED_OVERDUE_S = 60
_started: list[subprocess.Popen] = []  # kept to be reaped: no zombie in a long-lived app
_started_lock = threading.Lock()


def identity(path: Path) -> tuple[int, int, int]:
    """(inode, mtime in ns, size) of `path`: every write replaces the served file, so
    its identity changes with every write and every restore."""
    st = os.stat(path)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def ready_path(db_path: Path, of: tuple[int, int, int]) -> Path:
    """Where the standby of the served file with identity `of` is kept."""
    return db_path.with_name(f"{db_path.name}.standby-{of[0]}-{of[1]}-{of[2]}")


def failed_path(db_path: Path) -> Path:
    """Where the background process records why it could not make a standby."""
    return db_path.with_name(f"{db_path.name}.standby.failed")


def _header(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(_HEADER_BYTES)


def _standbys(db_path: Path) -> list[Path]:
    """Every standby file of `db_path`: ready ones, stale ones and partial ones."""
    return list(db_path.parent.glob(db_path.name + ".standby-*"))


def _retired(db_path: Path) -> list[Path]:
    """Every replaced file of `db_path` kept for the background process to delete."""
    return list(db_path.parent.glob(db_path.name + ".retired-*"))


def take(db_path: Path, work: Path) -> bool:
    """Move the standby of the served file to `work` (the write's private copy) and
    return True; False when there is none. Every other standby file (stale, or left by
    a killed process) is deleted. The caller holds the writer lock."""
    ready = ready_path(db_path, identity(db_path))
    used = False
    if ready.exists() and _header(ready) == _header(db_path):
        os.replace(ready, work)
        used = True
    for other in _standbys(db_path):
        logger.info("removing %s: not a copy of the served file", other)
        other.unlink(missing_ok=True)
    failed = failed_path(db_path)
    if failed.exists():
        if not used:
            reason = failed.read_text(encoding="utf-8", errors="replace").strip()
            logger.warning("no standby copy of %s (%s): copying the file", db_path, reason)
        failed.unlink(missing_ok=True)
    _remove_overdue_retired(db_path)
    return used


def _remove_overdue_retired(db_path: Path) -> None:
    """Delete replaced files the background process should have deleted long ago: it
    did not run (a broken environment, a killed process), which nothing else would say.
    One retired a moment ago may be a process that lost the lock race to this write; it
    is left to the process this write starts."""
    now = time.time()
    for retired in _retired(db_path):
        try:
            age = now - retired.stat().st_ctime  # link() set it: when it was retired
        except FileNotFoundError:
            continue
        if age > RETIRED_OVERDUE_S:
            logger.warning("%s was retired %.0f s ago and not deleted: the background "
                           "process after that write did not run; deleting it", retired,
                           age)
            retired.unlink(missing_ok=True)


def wanted(work: Path, copied_how: str | None, min_mib: int) -> bool:
    """True when the next write should find a standby: the warehouse written in `work`
    is at least `min_mib` MiB (negative: never) and this write did not get its copy as a
    clone (which costs nothing)."""
    if min_mib < 0 or copied_how == "clone":
        return False
    return os.stat(work).st_size >= min_mib * 2**20


def retire(db_path: Path) -> None:
    """Keep the served file under a second name, so the swap that replaces it frees no
    blocks (the background process deletes it). Where hard links are refused, the swap
    frees the blocks itself."""
    if not db_path.exists():
        return
    try:
        os.link(db_path, db_path.with_name(f"{db_path.name}.retired-{os.getpid()}"))
    except OSError as e:
        logger.info("cannot keep %s for deletion in the background (%s)", db_path, e)


def start(db_path: Path) -> None:
    """Start the background process that deletes retired files and makes the standby.
    A process that cannot be started is logged, never raised: the write it follows has
    succeeded."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    try:
        process = subprocess.Popen(
            # absolute: the process runs in the project's folder, not the caller's
            [sys.executable, "-m", "pipelines.standby", os.path.abspath(db_path)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as e:  # the write has succeeded: say so, and copy next time
        logger.warning("cannot start the standby copy of %s (%s): the next write copies "
                       "the file", db_path, e)
        return
    with _started_lock:
        _started[:] = [p for p in _started if p.poll() is None] + [process]


def make(db_path: Path) -> str:
    """Delete retired files and make the standby of the served file, under the writer
    lock; return what happened: "made", "ready" (there was one), "busy" (a write holds
    the lock: it starts this again when done), "clone" (the filesystem clones: a write
    needs none), "gone" (no warehouse), "stale" (the warehouse was replaced or removed
    by hand during the copy, which is then deleted).

    Raises:
        OSError: the copy failed (a full disk); the partial copy is deleted and the
            reason recorded for the next write to log.
    """
    from filelock import FileLock, Timeout

    from pipelines import warehouse  # late: pipelines.warehouse imports this module

    lock = FileLock(str(warehouse.lock_path(db_path)))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return "busy"
    try:
        for retired in _retired(db_path):
            retired.unlink(missing_ok=True)
        if not db_path.exists():
            return "gone"
        of = identity(db_path)
        ready = ready_path(db_path, of)
        if ready.exists():
            return "ready"
        for other in _standbys(db_path):
            other.unlink(missing_ok=True)
        partial = db_path.with_name(f"{db_path.name}.standby-partial-{os.getpid()}")
        try:
            how = warehouse.copy_warehouse(db_path, partial, through_cache=True)
            if how == "clone":
                partial.unlink()
                return "clone"
            with open(partial, "rb") as f:
                os.fsync(f.fileno())
            if not db_path.exists() or identity(db_path) != of:  # moved away meanwhile
                partial.unlink()
                return "stale"
            os.replace(partial, ready)
        except OSError as e:
            partial.unlink(missing_ok=True)
            reason = e.strerror or str(e)
            failed_path(db_path).write_text(
                f"the background copy failed: {reason}\n", encoding="utf-8")
            raise
        return "made"
    finally:
        lock.release()


def main(argv: list[str] | None = None) -> int:
    """`python -m pipelines.standby DB`: what the writer starts after a write."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m pipelines.standby WAREHOUSE", file=sys.stderr)
        return 2
    os.nice(10)  # after the app's requests
    try:
        print(make(Path(args[0])))
    except OSError as e:
        print(f"standby copy of {args[0]} failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
