"""The load journal: every load attempt and its outcome, where no rollback can erase it.

A failed or refused load leaves the warehouse exactly as it was, so its own `load_log`
cannot hold the failure. The journal is an append-only JSON-lines file beside the
warehouse (`<warehouse>.loads.jsonl`); each line is written with one `write` and fsynced:

    {"event": "start", "attempt": "…", "pid": 123, "source": "tickets",
     "files": ["a.csv"], "at": "2026-12-03 09:00:00"}
    {"event": "end", "attempt": "…", "source": "tickets", "outcome": "ok",
     "reason": null, "at": "2026-12-03 09:00:04", "load_id": 17}

outcome: ok (loaded), refused (bad input or a data check with severity error: nothing
changed), failed (anything else: disk, lock, a bug; nothing changed). A start without an
end is "running" while its process lives, else "interrupted" (killed).

`summary()` folds the journal into the newest attempt and failure per source; it reads
only the bytes appended since its last call, so polling it costs a `stat`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

OUTCOMES = ("ok", "refused", "failed")


def journal_path(db_path: Path) -> Path:
    """Where the journal of the warehouse at `db_path` lives."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".loads.jsonl")


def _append(db_path: Path, entry: dict) -> None:
    path = journal_path(db_path)
    line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write of one line: appends never interleave
        os.fsync(fd)
    finally:
        os.close(fd)


def _stamp(at: dt.datetime) -> str:
    return at.replace(microsecond=0).isoformat(sep=" ")


def start(db_path: Path, source: str, files: Sequence[Path], at: dt.datetime) -> str | None:
    """Journal the start of a load; return its attempt id (None when it cannot be written).

    A journal that cannot be written (e.g. a full disk) never stops a load: it is logged
    as an error and the load's own outcome decides.
    """
    attempt = uuid.uuid4().hex[:12]
    try:
        _append(db_path, {"event": "start", "attempt": attempt, "pid": os.getpid(),
                          "source": source, "files": [str(f) for f in files],
                          "at": _stamp(at)})
    except OSError as e:
        logger.error("cannot write the load journal %s: %s", journal_path(db_path), e)
        return None
    return attempt


def finish(db_path: Path, attempt: str | None, source: str, outcome: str,
           at: dt.datetime, reason: str | None = None, load_id: int | None = None) -> None:
    """Journal the outcome of an attempt begun with `start`."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown load outcome {outcome!r}")
    try:
        _append(db_path, {"event": "end", "attempt": attempt, "source": source,
                          "outcome": outcome, "reason": reason, "at": _stamp(at),
                          "load_id": load_id})
    except OSError as e:
        logger.error("cannot write the load journal %s (%s %s: %s): %s",
                     journal_path(db_path), source, outcome, reason, e)


@dataclass(frozen=True)
class Attempt:
    """One load attempt as the journal tells it."""

    source: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    outcome: str  # ok | refused | failed | running | interrupted
    reason: str | None = None
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceAttempts:
    """Per source: the newest attempt, the newest success, failures since it."""

    source: str
    newest: Attempt
    newest_ok_at: dt.datetime | None
    failures_since_ok: int
    last_failure: Attempt | None

    @property
    def failing(self) -> bool:
        """The newest finished attempt did not load (refused, failed or interrupted)."""
        return self.newest.outcome in ("refused", "failed", "interrupted")


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


@dataclass
class _Folded:
    """The journal read so far, per file identity."""

    inode: int = -1
    offset: int = 0
    starts: dict[str, dict] = field(default_factory=dict)  # attempt -> start entry
    per_source: dict[str, list[Attempt]] = field(default_factory=dict)  # the newest ones
    newest_ok: dict[str, Attempt] = field(default_factory=dict)


KEEP = 500  # attempts kept in memory per source (the newest success is kept apart)


_lock = threading.Lock()
_folded: dict[Path, _Folded] = {}


def _fold(path: Path) -> _Folded:
    """Read what was appended since last time (the whole file after a rotation)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return _Folded()
    with _lock:
        state = _folded.get(path)
        if state is None or state.inode != st.st_ino or st.st_size < state.offset:
            state = _folded[path] = _Folded(inode=st.st_ino)
        if st.st_size == state.offset:
            return state
        with open(path, "rb") as f:
            f.seek(state.offset)
            data = f.read(st.st_size - state.offset)
        complete = data[: data.rfind(b"\n") + 1]  # a line being written: next time
        for raw in complete.splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:
                logger.warning("%s: unreadable line after byte %d skipped", path,
                               state.offset)
                continue
            if entry.get("event") == "start":
                state.starts[entry["attempt"]] = entry
            elif entry.get("event") == "end":
                begun = state.starts.pop(entry.get("attempt"), None) or {}
                attempt = Attempt(
                    entry["source"], _time(begun.get("at")), _time(entry.get("at")),
                    entry["outcome"], entry.get("reason"), tuple(begun.get("files", ())))
                kept = state.per_source.setdefault(entry["source"], [])
                kept.append(attempt)
                del kept[:-KEEP]
                if attempt.outcome == "ok":
                    state.newest_ok[attempt.source] = attempt
        state.offset += len(complete)
        return state


def summary_attempts(db_path: Path) -> dict[str, list[Attempt]]:
    """Every attempt per source, oldest first (unfinished ones as running/interrupted)."""
    state = _fold(journal_path(db_path))
    with _lock:
        attempts = {s: list(a) for s, a in state.per_source.items()}
        open_starts = list(state.starts.values())
        newest_ok = dict(state.newest_ok)
    for begun in open_starts:  # no end: still running, or killed
        outcome = "running" if _pid_alive(begun.get("pid")) else "interrupted"
        reason = None if outcome == "running" else "the load stopped without reporting " \
            "(killed, or the machine went down): the warehouse holds the state before or after it"
        attempts.setdefault(begun["source"], []).append(Attempt(
            begun["source"], _time(begun.get("at")), None, outcome, reason,
            tuple(begun.get("files", ()))))
    for source, ok in newest_ok.items():
        if ok not in attempts.get(source, []):  # older than the attempts kept
            attempts[source].insert(0, ok)
    for found in attempts.values():
        found.sort(key=lambda a: a.started_at or a.finished_at or dt.datetime.min)
    return attempts


def summary(db_path: Path) -> dict[str, SourceAttempts]:
    """Per source that was ever attempted: its newest attempt, newest success, failures."""
    result = {}
    for source, found in summary_attempts(db_path).items():
        finished = [a for a in found if a.outcome != "running"]
        newest = finished[-1] if finished else found[-1]
        oks = [i for i, a in enumerate(finished) if a.outcome == "ok"]
        newest_ok_at = finished[oks[-1]].finished_at if oks else None
        after = finished[oks[-1] + 1:] if oks else finished  # all failures: ok is newest
        failures = [a for a in finished if a.outcome != "ok"]
        result[source] = SourceAttempts(source, newest, newest_ok_at, len(after),
                                        failures[-1] if failures else None)
    return result


def failures(db_path: Path, limit: int = 20) -> list[Attempt]:
    """The newest `limit` attempts that did not load (refused, failed, interrupted),
    newest first."""
    found = [a for per in summary_attempts(db_path).values() for a in per
             if a.outcome in ("refused", "failed", "interrupted")]
    found.sort(key=lambda a: a.started_at or a.finished_at or dt.datetime.min, reverse=True)
    return found[:limit]


def forget_cache() -> None:
    """Drop what was read (tests that rewrite a journal in place)."""
    with _lock:
        _folded.clear()

