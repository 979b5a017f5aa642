"""Freshness: one definition, used by the wall's badges, the status page and `/healthz`.

Per source:
- data time: its newest record (`load_log.newest_record_at`: the source's `data_time`
  column, for tickets `reported_at`, the figures' data cut-off; else the version column,
  else the first timestamp of the file), or its newest load for files whose rows carry no
  time (grids, ledger);
- load time: its newest successful load;
- cadence: how often it is expected (`WALL_CADENCE`, daily sources `WALL_STALE_HOURS`);
- state: "ok", "late" (data older than the cadence allows: stale), "missed" (older than
  twice the cadence) or "none" (never loaded);
- failing: its newest load attempt was refused, failed or interrupted (load journal).

`judge` is the verdict; everything that shows freshness calls it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import duckdb

from pipelines import journal
from pipelines.queries import rows
from pipelines.settings import Settings
from pipelines.sources import SOURCES

# Sources expected every day: their cadence is WALL_STALE_HOURS unless WALL_CADENCE names them.
DAILY_SOURCES = ("tickets", "engagement")
_UNITS = {"m": dt.timedelta(minutes=1), "h": dt.timedelta(hours=1), "d": dt.timedelta(days=1)}


def parse_cadence(text: str) -> dict[str, dt.timedelta]:
    """Parse ``'tickets=1h,population=35d'`` into {source: cadence}.

    Raises:
        ValueError: naming the part that does not parse or an unknown source.
    """
    found = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"([a-z_]+)\s*=\s*(\d+(?:\.\d+)?)\s*([mhd])", part)
        if not m:
            raise ValueError(f"WALL_CADENCE: cannot parse {part!r} (want source=N[m|h|d])")
        if m.group(1) not in SOURCES:
            raise ValueError(f"WALL_CADENCE: unknown source {m.group(1)!r} in {part!r}; "
                             f"expected one of {', '.join(SOURCES)}")
        found[m.group(1)] = float(m.group(2)) * _UNITS[m.group(3)]
    return found


def cadences(settings: Settings) -> dict[str, dt.timedelta]:
    """The expected cadence of every source."""
    daily = dt.timedelta(hours=settings.stale_hours)
    return {name: daily for name in SOURCES} | parse_cadence(settings.cadence)


@dataclass(frozen=True)
class SourceFreshness:
    """The freshness verdict of one source."""

    source: str
    data_at: dt.datetime | None
    age: dt.timedelta | None  # of the data, when judged
    loaded_at: dt.datetime | None
    cadence: dt.timedelta
    state: str  # ok | late | missed | none
    failing: bool
    failures: int  # refused / failed / interrupted attempts since the newest success
    last_attempt_at: dt.datetime | None
    last_outcome: str | None
    last_error: str | None

    @property
    def stale(self) -> bool:
        """Data older than the cadence allows, or none at all."""
        return self.state != "ok"



def verdict(data_at: dt.datetime | None, cadence: dt.timedelta, now: dt.datetime) -> str:
    """ok / late / missed / none for data whose newest record is `data_at`, at `now`."""
    if data_at is None:
        return "none"
    if now - data_at > 2 * cadence:
        return "missed"
    if now - data_at > cadence:
        return "late"
    return "ok"


def loaded(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per loaded source: newest successful load and newest record (from load_log)."""
    return [{"source": s, "newest_load_at": load, "newest_record_at": record}
            for s, load, record in rows(con, "status__freshness")]


def judge(
    loads: Iterable[Mapping],
    attempts: Mapping[str, journal.SourceAttempts],
    settings: Settings,
    now: dt.datetime,
) -> list[SourceFreshness]:
    """The verdict per source that was loaded or attempted, in `SOURCES` order.

    Args:
        loads: rows of `loaded()` (source, newest_load_at, newest_record_at).
        attempts: `journal.summary()` of the warehouse.
        now: local time to judge at.
    """
    by_source = {r["source"]: r for r in loads}
    limits = cadences(settings)
    result = []
    for source in [s for s in SOURCES if s in by_source or s in attempts]:
        row = by_source.get(source, {})
        tried = attempts.get(source)
        data_at = row.get("newest_record_at") or row.get("newest_load_at")
        last = tried.newest if tried else None
        failure = tried.last_failure if tried and tried.failing else None
        result.append(SourceFreshness(
            source=source,
            data_at=data_at,
            age=None if data_at is None else now - data_at,
            loaded_at=row.get("newest_load_at"),
            cadence=limits[source],
            state=verdict(data_at, limits[source], now),
            failing=bool(tried and tried.failing),
            failures=tried.failures_since_ok if tried else 0,
            last_attempt_at=(last.started_at or last.finished_at) if last else None,
            last_outcome=last.outcome if last else None,
            last_error=failure.reason if failure else None,
        ))
    return result


def freshness(con: duckdb.DuckDBPyConnection, settings: Settings,
              now: dt.datetime) -> list[SourceFreshness]:
    """The verdict per source of the warehouse behind `con` (journal: settings.db_path)."""
    return judge(loaded(con), journal.summary(settings.db_path), settings, now)


def hours(delta: dt.timedelta | None) -> float | None:
    """A duration in hours, rounded for display (None stays None)."""
    return None if delta is None else round(delta.total_seconds() / 3600, 2)
