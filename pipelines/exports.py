"""Exports: CSV reports written once, atomically, with a manifest and a log row.

One-off: `python -m pipelines export REPORT --from DATE --to DATE` (see `export_report`).
Scheduled: a TOML file of schedules (`load_schedules`); `python -m pipelines export --due`
runs every schedule whose latest cron time has a period not yet exported (`run_due`), and
`python -m pipelines scheduler` calls the same thing once a minute (`run_scheduler`).

How a run stays safe (docs/exports.md has the long version):
- rows are read through a read-only connection, with the same SQL and parameters as
  `pipelines.queries.exports`, and written by DuckDB's COPY (exact decimals, no floats);
- the CSV is written to a hidden temporary file in the output folder, re-encoded (BOM,
  GB18030), hashed, fsynced and renamed into place; a killed export leaves no partial file;
- each schedule has a lock file, taken without waiting: an overlapping invocation skips
  a schedule another one is running;
- a schedule+period counts as done once `export_log` (or the pending spool, below) holds an
  'ok' row for it, so it is never exported twice unless forced. After downtime only the
  latest cron time is considered: a missed period runs once, not once per missed tick;
- `export_log` is written after the files, in one short warehouse write per invocation.
  When a load holds the writer lock longer than `LOG_LOCK_TIMEOUT`, the rows go to a
  spool folder beside the warehouse instead; the done-check reads the spool too, and the
  next invocation moves the rows into the warehouse.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import re
import string
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from croniter import croniter
from filelock import FileLock, Timeout

from pipelines import warehouse
from pipelines.metrics.compute import data_cutoff, participation_cutoff
from pipelines.metrics.windows import Window
from pipelines.queries import QueryError
from pipelines.queries import exports as report_queries
from pipelines.settings import Settings

logger = logging.getLogger(__name__)

LOG_LOCK_TIMEOUT = 20.0  # seconds to wait for a load's writer lock before spooling the log
ENCODINGS = {"utf-8-sig": "utf-8-sig", "utf-8-bom": "utf-8-sig", "utf8-sig": "utf-8-sig",
             "utf-8": "utf-8", "utf8": "utf-8", "gb18030": "gb18030"}
PERIODS = ("previous_day", "previous_week", "previous_month", "previous_quarter",
           "previous_year", "week_to_date", "month_to_date", "year_to_date")
# OWASP "CSV injection": a cell starting with one of these is a formula in Excel/WPS.
FORMULA_PREFIX = "^[=+\\-@\t\r]"
_PLACEHOLDERS = {"report", "schedule", "period", "from", "to", "community", "compound"}
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f/\\:*?"<>|]')
BOM = b"\xef\xbb\xbf"


class ExportError(RuntimeError):
    """An export failed; the message says why. Nothing was left half-written."""


class ScheduleError(ValueError):
    """The schedules file is wrong; the message names the schedule and the field."""


# --- periods -----------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Dates `start`..`end`, both inclusive, and the label file names carry."""

    start: dt.date
    end: dt.date
    label: str

    @classmethod
    def between(cls, start: dt.date, end: dt.date) -> Period:
        """A free period, labelled `start_end` (or the month/day when it is exactly one)."""
        if end < start:
            raise ValueError(f"period ends ({end}) before it starts ({start})")
        if start.day == 1 and end == _month_end(start):
            return cls(start, end, f"{start:%Y-%m}")
        if start == end:
            return cls(start, end, start.isoformat())
        return cls(start, end, f"{start.isoformat()}_{end.isoformat()}")


def _month_end(day: dt.date) -> dt.date:
    first_next = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first_next - dt.timedelta(days=1)


def period_for(kind: str, fire_time: dt.datetime) -> Period:
    """The period a schedule of `kind` exports when its cron fires at `fire_time`.

    The `*_to_date` kinds end with the day before the fire time (complete days only), so
    on the first day of a month `month_to_date` is the whole previous month.

    Raises:
        ValueError: unknown kind.
    """
    day = fire_time.date()
    if kind == "previous_day":
        d = day - dt.timedelta(days=1)
        return Period(d, d, d.isoformat())
    if kind == "previous_week":
        start = day - dt.timedelta(days=day.weekday() + 7)
        iso = start.isocalendar()
        return Period(start, start + dt.timedelta(days=6), f"{iso.year}-W{iso.week:02d}")
    if kind == "previous_month":
        end = day.replace(day=1) - dt.timedelta(days=1)
        return Period(end.replace(day=1), end, f"{end:%Y-%m}")
    if kind == "previous_quarter":
        q_start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        end = q_start - dt.timedelta(days=1)
        start = dt.date(end.year, end.month - 2, 1)
        return Period(start, end, f"{end.year}-Q{(end.month - 1) // 3 + 1}")
    if kind == "previous_year":
        y = day.year - 1
        return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), str(y))
    if kind in ("week_to_date", "month_to_date", "year_to_date"):
        end = day - dt.timedelta(days=1)
        start = {
            "week_to_date": end - dt.timedelta(days=end.weekday()),
            "month_to_date": end.replace(day=1),
            "year_to_date": end.replace(month=1, day=1),
        }[kind]
        return Period(start, end, f"{start.isoformat()}_{end.isoformat()}")
    raise ValueError(f"unknown period {kind!r}; use one of {', '.join(PERIODS)}")


def last_fire_time(cron: str, now: dt.datetime) -> dt.datetime:
    """The latest time at or before `now` when `cron` fires (local wall-clock time)."""
    return croniter(cron, now + dt.timedelta(microseconds=1)).get_prev(dt.datetime)


def local_now(settings: Settings) -> dt.datetime:
    """Now, as the naive local wall-clock time the warehouse uses."""
    return dt.datetime.now(ZoneInfo(settings.timezone)).replace(tzinfo=None, microsecond=0)


# --- schedules ---------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """One entry of the schedules file (see exports.example.toml)."""

    name: str
    report: str
    period: str
    cron: str
    out: Path
    file: str = "{report}_{period}.csv"
    filters: dict[str, str] = field(default_factory=dict)
    split: str | None = None
    encoding: str | None = None
    retry_minutes: int = 10


def load_schedules(path: Path, settings: Settings) -> list[Schedule]:
    """Read and check every schedule in `path`.

    Relative `out` folders are resolved against the schedules file's folder, so cron's
    working directory does not matter.

    Raises:
        ScheduleError: naming the schedule and what is wrong with it.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScheduleError(f"{path}: no schedules file (copy exports.example.toml)") from None
    except tomllib.TOMLDecodeError as e:
        raise ScheduleError(f"{path}: not valid TOML: {e}") from None
    entries = data.get("schedule", [])
    if not isinstance(entries, list):
        raise ScheduleError(f"{path}: use [[schedule]] tables")
    unknown_top = set(data) - {"schedule"}
    if unknown_top:
        raise ScheduleError(f"{path}: unknown top-level key(s) {sorted(unknown_top)}")
    schedules, seen = [], set()
    for i, entry in enumerate(entries, 1):
        where = f"{path}: schedule {entry.get('name') or i}"
        schedules.append(_schedule(entry, where, path.parent, settings))
        if schedules[-1].name in seen:
            raise ScheduleError(f"{where}: name used twice")
        seen.add(schedules[-1].name)
    return schedules


def _schedule(entry: dict, where: str, base: Path, settings: Settings) -> Schedule:
    allowed = {f for f in Schedule.__dataclass_fields__}
    extra = set(entry) - allowed
    if extra:
        raise ScheduleError(f"{where}: unknown key(s) {sorted(extra)}")
    missing = {"name", "report", "period", "cron"} - set(entry)
    if missing:
        raise ScheduleError(f"{where}: missing {sorted(missing)}")
    name = str(entry["name"])
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ScheduleError(f"{where}: name may use letters, digits, '_', '.', '-' only")
    report = entry["report"]
    if report not in report_queries.REPORTS:
        raise ScheduleError(f"{where}: unknown report {report!r}; reports: "
                            f"{', '.join(report_queries.REPORTS)}")
    if entry["period"] not in PERIODS:
        raise ScheduleError(f"{where}: unknown period {entry['period']!r}; periods: "
                            f"{', '.join(PERIODS)}")
    if not croniter.is_valid(entry["cron"]):
        raise ScheduleError(f"{where}: cron {entry['cron']!r} is not a cron expression")
    filters = dict(entry.get("filters", {}))
    bad = set(filters) - {"community", "compound"}
    if bad:
        raise ScheduleError(f"{where}: unknown filter(s) {sorted(bad)}; use community, "
                            "compound")
    refused = set(filters) - set(report_queries.REPORTS[report].filters)
    if refused:
        raise ScheduleError(f"{where}: report {report} cannot be filtered by "
                            f"{sorted(refused)}")
    split = entry.get("split")
    if split is not None and split not in report_queries.REPORTS[report].splits:
        raise ScheduleError(f"{where}: split must be one of "
                            f"{report_queries.REPORTS[report].splits}, not {split!r}")
    if split in filters:
        raise ScheduleError(f"{where}: cannot both filter and split by {split}")
    pattern = entry.get("file", "{report}_{period}.csv" if not split
                        else f"{{report}}_{{period}}_{{{split}}}.csv")
    try:
        check_file_pattern(pattern)
    except ValueError as e:
        raise ScheduleError(f"{where}: {e}") from None
    used = {f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None}
    if used - _PLACEHOLDERS:
        raise ScheduleError(f"{where}: file pattern uses unknown {sorted(used - _PLACEHOLDERS)}"
                            f"; placeholders: {sorted(_PLACEHOLDERS)}")
    if not used & {"period", "from", "to"}:
        raise ScheduleError(f"{where}: file pattern must contain {{period}} (or {{from}} "
                            "and {to}), or each run would overwrite the last")
    if split and split not in used:
        raise ScheduleError(f"{where}: split by {split}: the file pattern must contain "
                            f"{{{split}}}")
    encoding = entry.get("encoding")
    if encoding is not None and encoding.lower() not in ENCODINGS:
        raise ScheduleError(f"{where}: encoding must be one of utf-8-sig, utf-8, gb18030")
    out = Path(entry.get("out", settings.export_dir))
    return Schedule(name=name, report=report, period=entry["period"], cron=entry["cron"],
                    out=out if out.is_absolute() else base / out, file=pattern,
                    filters=filters, split=split, encoding=encoding,
                    retry_minutes=int(entry.get("retry_minutes", 10)))


# --- writing one file --------------------------------------------------------------


@dataclass
class ExportRecord:
    """One export_log row: a file written, or a failed attempt."""

    run_id: str
    schedule_name: str | None
    report: str
    period_from: dt.date
    period_to: dt.date
    filters: dict[str, str]
    started_at: dt.datetime
    status: str = "failed"
    output_path: str | None = None
    row_count: int | None = None
    file_sha256: str | None = None
    data_version: int | None = None
    finished_at: dt.datetime | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-able dict (dates as ISO text), for the spool."""
        return {k: v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v
                for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExportRecord:
        """Inverse of `to_json`."""
        data = dict(data)
        for k in ("period_from", "period_to"):
            data[k] = dt.date.fromisoformat(data[k])
        for k in ("started_at", "finished_at"):
            if data[k] is not None:
                data[k] = dt.datetime.fromisoformat(data[k])
        return cls(**data)


def normalise_encoding(name: str) -> str:
    """'utf-8-sig' | 'utf-8' | 'gb18030' for any accepted spelling.

    Raises:
        ValueError: an encoding exports do not offer.
    """
    try:
        return ENCODINGS[name.lower()]
    except KeyError:
        raise ValueError(f"export encoding must be utf-8-sig (UTF-8 with BOM), utf-8 or "
                         f"gb18030, not {name!r}") from None


def _escaped_select(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> str:
    """`sql` wrapped so that text cells starting with = + - @ tab or CR get a leading '.

    Only VARCHAR columns are touched: numbers (negative amounts included) stay numbers.
    Column names come from our own query files; they are quoted all the same.
    """
    rel = con.sql(sql, params=params)
    exprs = []
    for name, type_ in zip(rel.columns, rel.types):
        q = '"' + name.replace('"', '""') + '"'
        if str(type_) == "VARCHAR":
            exprs.append(f"case when regexp_matches({q}, '{FORMULA_PREFIX}') "
                         f"then '''' || {q} else {q} end as {q}")
        else:
            exprs.append(q)
    return f"select {', '.join(exprs)} from ({sql}) as report"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, final: Path) -> None:
    """Rename the finished temporary file into place (the only step others can see)."""
    os.replace(tmp, final)
    _fsync_dir(final.parent)


def _tmp_name(final: Path, what: str) -> Path:
    return final.with_name(f".{final.name}.{what}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def remove_stale_temporaries(folder: Path) -> None:
    """Delete temporary files left in `folder` by exports that were killed.

    A temporary file's name carries its writer's pid; it is removed once that process is
    gone, so a concurrent export's file is never touched.
    """
    for tmp in Path(folder).glob(".*-*"):
        m = re.search(r"\.(?:raw|tmp|manifest)-(\d+)-[0-9a-f]{8}$", tmp.name)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
            continue  # still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # someone else's live process
        logger.warning("removing %s left by an interrupted export", tmp)
        tmp.unlink(missing_ok=True)


def _transcode(raw: Path, tmp: Path, encoding: str) -> str:
    """Write `raw` (UTF-8 from COPY) to `tmp` in `encoding`; fsync; return the sha256."""
    digest = hashlib.sha256()
    with open(tmp, "wb") as out:
        def put(chunk: bytes) -> None:
            digest.update(chunk)
            out.write(chunk)

        if encoding == "utf-8-sig":
            put(BOM)
        if encoding == "gb18030":
            with open(raw, encoding="utf-8", newline="") as src:
                while chunk := src.read(1 << 20):
                    put(chunk.encode("gb18030"))
        else:
            with open(raw, "rb") as src:
                while chunk := src.read(1 << 20):
                    put(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def write_csv(
    con: duckdb.DuckDBPyConnection,
    report: str,
    params: dict[str, Any],
    final: Path,
    encoding: str,
) -> tuple[int, str]:
    """Write `report` for `params` to `final` atomically; return (rows, sha256).

    Raises:
        ExportError: the query or the file failed; no file was left at `final`.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    raw, tmp = _tmp_name(final, "raw"), _tmp_name(final, "tmp")
    try:
        sql = _escaped_select(con, report_queries.report_sql(report, params), params)
        copied = con.execute(
            f"copy ({sql}) to $output_path (header, delimiter ',')",
            {**params, "output_path": str(raw)},
        ).fetchall()
        row_count = int(copied[0][0])
        sha = _transcode(raw, tmp, encoding)
        _publish(tmp, final)
    except (duckdb.Error, QueryError) as e:
        raise ExportError(f"{report}: query failed: {e}") from e
    except OSError as e:
        raise ExportError(f"{report}: cannot write {final}: {e}") from e
    finally:
        raw.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return row_count, sha


def manifest_path(csv_path: Path) -> Path:
    """Where the manifest of `csv_path` goes: beside it, `.manifest.json` for `.csv`."""
    return csv_path.with_name(csv_path.stem + ".manifest.json")


def write_manifest(csv_path: Path, manifest: dict[str, Any]) -> Path:
    """Write the manifest JSON beside `csv_path`, atomically; return its path."""
    final = manifest_path(csv_path)
    tmp = _tmp_name(csv_path, "manifest")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(manifest, f, ensure_ascii=False, indent=2, default=str)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        _publish(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def check_file_pattern(pattern: str) -> str:
    """A file pattern names a file in the export folder, never a path: `x/../../..`
    would write outside it.

    Raises:
        ValueError: the pattern holds a path separator.
    """
    if "/" in pattern or "\\" in pattern:
        raise ValueError(f"file pattern {pattern!r} must be a file name, not a path; "
                         "choose the folder with --out (or out = in a schedule)")
    return pattern


def _safe_value(value: str) -> str:
    """`value` fit for a file name. Characters a name cannot hold become '_', and then a
    short hash of the value is appended, so that 东区/一社区 and 东区:一社区 stay apart."""
    safe = _UNSAFE_IN_NAME.sub("_", value)
    if safe == value:
        return value
    return f"{safe}_{hashlib.sha256(value.encode('utf-8')).hexdigest()[:8]}"


def _file_name(pattern: str, values: dict[str, str]) -> str:
    name = check_file_pattern(pattern).format(
        **{k: _safe_value(str(v)) for k, v in values.items()})
    if not name or name in (".", "..") or name.startswith("."):
        raise ExportError(f"file pattern {pattern!r} gives the unusable name {name!r}")
    return name


# --- one run (one report, one period, maybe split) -----------------------------------


@dataclass(frozen=True)
class ExportJob:
    """What to export: a report for a period, with filters, to a folder."""

    report: str
    period: Period
    out: Path
    file: str
    filters: dict[str, str] = field(default_factory=dict)
    split: str | None = None
    encoding: str | None = None
    schedule_name: str | None = None


def run_job(settings: Settings, job: ExportJob, as_of: dt.datetime,
            run_id: str | None = None) -> list[ExportRecord]:
    """Export `job` (one file, or one per split value); return one record per file.

    Reads through a read-only connection; does not write the warehouse (see
    `record_runs`). Failures come back as a record with status 'failed'; nothing
    half-written is left behind.
    """
    run_id = run_id or uuid.uuid4().hex
    started = as_of
    encoding = normalise_encoding(job.encoding or settings.export_encoding)
    settings_values = report_queries.settings_values(settings)

    def record(filters: dict[str, str], **kw) -> ExportRecord:
        return ExportRecord(run_id=run_id, schedule_name=job.schedule_name,
                            report=job.report, period_from=job.period.start,
                            period_to=job.period.end, filters=filters,
                            started_at=started, **kw)

    records: list[ExportRecord] = []
    try:
        con = warehouse.connect_read_only(settings.db_path)
    except warehouse.WarehouseError as e:
        return [record(dict(job.filters), message=str(e), finished_at=local_now(settings))]
    try:
        cur = con.cursor()
        version = warehouse.data_version(cur)
        cur = con.cursor()  # data_version leaves its result open
        if job.out.exists():
            remove_stale_temporaries(job.out)
        if job.split:
            values = report_queries.split_values(
                cur, job.report, job.split, date_from=job.period.start,
                date_to=job.period.end)
            variants = [{**job.filters, job.split: v} for v in values]
            if not variants:
                return [record(dict(job.filters), status="ok", data_version=version,
                               row_count=0, finished_at=local_now(settings),
                               message=f"no {job.split} has data in the period: no file")]
        else:
            variants = [dict(job.filters)]
        written: dict[str, dict] = {}  # file name -> filters of its file in this run
        for filters in variants:
            records.append(_export_one(cur, settings, job, filters, as_of, encoding,
                                       version, settings_values, record, run_id, written))
            if records[-1].status != "ok":
                break
    finally:
        con.close()
    return records


def export_window(cur, report: str, period: Period, as_of: dt.datetime) -> dict[str, Any]:
    """The window a report's figures cover, as its manifest states it:
    {"zh", "en", "is_partial"}.

    A period still running says so, as on the wall and in the explorer. Ticket and
    participation reports run to their data cut-off (the newest ticket reported, the
    newest ballot or engagement event, by `as_of`), as the wall's do: a month whose
    tickets stop at 08:59 of its last day reads "…–11-30 08:59（至今）", not whole; a population report is a snapshot: the newest population record, never
    a date range, and never partial.
    """
    subject = report_queries.REPORTS[report].subject
    if subject == "population":
        cut = data_cutoff(cur, as_of, table="residents", column="updated_at")
        when = "—" if cut is None else f"{cut:%Y-%m-%d %H:%M}"
        return {"zh": f"最新人口数据（截至 {when}）",
                "en": f"Newest population data (to {when})", "is_partial": False}
    if subject == "participation":
        cut = participation_cutoff(cur, as_of)
    elif subject == "tickets":
        cut = data_cutoff(cur, as_of)  # the newest ticket, as on the wall and explorer
    else:
        cut = None
    window = Window.dates(period.start, period.end, min(cut or as_of, as_of), as_of)
    return {"zh": window.label("zh"), "en": window.label("en"),
            "is_partial": window.is_partial}


def _export_one(cur, settings, job: ExportJob, filters, as_of, encoding, version,
                settings_values, record, run_id, written: dict[str, dict]) -> ExportRecord:
    names = {"report": job.report, "schedule": job.schedule_name or "export",
             "period": job.period.label, "from": job.period.start.isoformat(),
             "to": job.period.end.isoformat(),
             "community": filters.get("community", "all"),
             "compound": filters.get("compound", "all")}
    try:
        final = job.out / _file_name(job.file, names)
        if final.name in written:
            raise ExportError(f"{final.name} was already written for {written[final.name]} "
                              f"in this export; a file is never overwritten: put "
                              f"{{{job.split}}} in the file pattern")
        written[final.name] = filters
        params = report_queries.report_params(
            job.report, date_from=job.period.start, date_to=job.period.end, as_of=as_of,
            community=filters.get("community"), compound=filters.get("compound"),
            **settings_values)
        row_count, sha = write_csv(cur, job.report, params, final, encoding)
        generated = local_now(settings)
        window = export_window(cur, job.report, job.period, as_of)
        write_manifest(final, {
            "file": final.name,
            "report": job.report,
            "schedule": job.schedule_name,
            "run_id": run_id,
            "period": {"from": job.period.start.isoformat(),
                       "to": job.period.end.isoformat(), "label": job.period.label},
            "window": window,
            "parameters": {k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime))
                               else v) for k, v in params.items()},
            "filters": filters,
            "row_count": row_count,
            "sha256": sha,
            "encoding": encoding,
            "data_version": version,
            "as_of": as_of.isoformat(),
            "generated_at": generated.isoformat(),
            "formula_escaping": "text cells starting with = + - @ tab or CR are "
                                "prefixed with '",
        })
    except (ExportError, ValueError, OSError) as e:
        logger.error("export %s %s %s failed: %s", job.report, job.period.label, filters, e)
        return record(filters, message=str(e), data_version=version,
                      finished_at=local_now(settings))
    logger.info("exported %s rows of %s to %s", row_count, job.report, final)
    return record(filters, status="ok", output_path=str(final), row_count=row_count,
                  file_sha256=sha, data_version=version, finished_at=generated)


# --- export_log and its spool -------------------------------------------------------


def _state_dir(settings: Settings) -> Path:
    db = Path(settings.db_path)
    return db.with_name(db.name + ".exports")


def _spool_dir(settings: Settings) -> Path:
    return _state_dir(settings) / "pending"


def pending_records(settings: Settings) -> list[tuple[Path, ExportRecord]]:
    """Records waiting in the spool for a warehouse write."""
    folder = _spool_dir(settings)
    found = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # a spool file being written right now; next time
        found.extend((path, ExportRecord.from_json(r)) for r in data)
    return found


def _spool(settings: Settings, records: Sequence[ExportRecord]) -> Path:
    folder = _spool_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{records[0].run_id}-{uuid.uuid4().hex[:8]}.json"
    tmp = folder / f".{final.name}.tmp"
    tmp.write_text(json.dumps([r.to_json() for r in records], ensure_ascii=False),
                   encoding="utf-8")
    os.replace(tmp, final)
    return final


_INSERT_LOG = """
insert into export_log
select $run_id, $schedule_name, $report, $period_from, $period_to, $filters,
    $output_path, $row_count, $file_sha256, $data_version, $started_at, $finished_at,
    $status, $message
where not exists (
    select 1 from export_log
    where run_id = $run_id and status = $status and started_at = $started_at
        and output_path is not distinct from $output_path
)
"""


def record_runs(settings: Settings, records: Sequence[ExportRecord],
                lock_timeout: float | None = None) -> bool:
    """Add `records` (and any spooled ones) to export_log in one warehouse write.

    When the writer lock is busy for longer than `lock_timeout` (a long load), or the
    warehouse's schema is not this program's (it is never migrated here), the records
    are spooled beside the warehouse and moved in by a later call. Inserting is
    idempotent, so a spool file that survives a crash is not counted twice.

    Returns:
        True when everything reached the warehouse, False when spooled.
    """
    lock_timeout = LOG_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    pending = pending_records(settings)
    todo = [r for _, r in pending] + list(records)
    if not todo:
        return True
    try:
        # upgrade=False: a warehouse the export refused as behind stays as it was; the
        # records wait in the spool until `migrate` (or a load) has upgraded it
        with warehouse.writer(settings, lock_timeout=lock_timeout, bump_version=False,
                              create=False, upgrade=False) as con:
            for r in todo:
                params = asdict(r)
                params["filters"] = json.dumps(r.filters, ensure_ascii=False,
                                               sort_keys=True) if r.filters else None
                con.execute(_INSERT_LOG, params)
    except warehouse.WarehouseError as e:
        if records:
            path = _spool(settings, records)
            logger.warning("export_log not written (%s); kept in %s until the next run",
                           e, path)
        return False
    for path in {p for p, _ in pending}:
        path.unlink(missing_ok=True)
    return True


@dataclass
class LogState:
    """What has happened to each (schedule, period): done, or when it last failed."""

    done: set[tuple[str, dt.date, dt.date]] = field(default_factory=set)
    last_failure: dict[tuple[str, dt.date, dt.date], dt.datetime] = field(
        default_factory=dict)

    def add(self, schedule: str | None, start: dt.date, end: dt.date, status: str,
            started_at: dt.datetime) -> None:
        """Fold one log row in."""
        if schedule is None:
            return
        key = (schedule, start, end)
        if status == "ok":
            self.done.add(key)
        else:
            self.last_failure[key] = max(started_at, self.last_failure.get(key, started_at))


def log_state(settings: Settings) -> LogState:
    """Scheduled runs so far, from export_log and the spool.

    Raises:
        WarehouseError: the warehouse is missing or its schema is old.
    """
    state = LogState()
    con = warehouse.connect_read_only(settings.db_path)
    try:
        found = con.cursor().execute(
            "select schedule_name, period_from, period_to, status, max(started_at) "
            "from export_log where schedule_name is not null group by all").fetchall()
    finally:
        con.close()
    for row in found:
        state.add(*row)
    for _, r in pending_records(settings):
        state.add(r.schedule_name, r.period_from, r.period_to, r.status, r.started_at)
    return state


# --- what is due -------------------------------------------------------------------


@dataclass(frozen=True)
class DueRun:
    """A schedule to run now, for the period of its latest cron time."""

    schedule: Schedule
    period: Period
    fire_time: dt.datetime


def due_runs(schedules: Iterable[Schedule], now: dt.datetime, state: LogState,
             force: bool = False) -> list[DueRun]:
    """The schedules to run at `now`.

    Only each schedule's latest cron time at or before `now` counts, so after downtime a
    missed period is run once, however many ticks were missed. A period already done is
    skipped unless `force`; one that failed waits `retry_minutes` before the next try.
    """
    due = []
    for s in schedules:
        fire = last_fire_time(s.cron, now)
        period = period_for(s.period, fire)
        key = (s.name, period.start, period.end)
        if not force:
            if key in state.done:
                continue
            failed = state.last_failure.get(key)
            if failed and now - failed < dt.timedelta(minutes=s.retry_minutes):
                continue
        due.append(DueRun(s, period, fire))
    return due


@dataclass
class DueSummary:
    """What one `--due` invocation did."""

    ran: list[ExportRecord] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # schedules another process was running
    logged: bool = True

    @property
    def failed(self) -> list[ExportRecord]:
        """Records of failed runs."""
        return [r for r in self.ran if r.status != "ok"]


def _schedule_lock(settings: Settings, name: str) -> FileLock:
    folder = _state_dir(settings) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(str(folder / f"{name}.lock"), timeout=0)


def run_due(settings: Settings, schedules: Sequence[Schedule], now: dt.datetime,
            force: bool = False, only: Sequence[str] = ()) -> DueSummary:
    """Run every due schedule once; record the runs; safe to call every minute.

    Each due schedule's lock is taken without waiting (a busy one is skipped: another
    invocation is running it), then the log is read again under the locks, so two
    overlapping invocations never both export a schedule+period. The locks are held
    until the runs are recorded (or spooled).
    """
    summary = DueSummary()
    if only:
        unknown = set(only) - {s.name for s in schedules}
        if unknown:
            raise ScheduleError(f"no schedule named {', '.join(sorted(unknown))}")
        schedules = [s for s in schedules if s.name in only]
    candidates = due_runs(schedules, now, log_state(settings), force)
    locks = []
    try:
        held = []
        for run in candidates:
            lock = _schedule_lock(settings, run.schedule.name)
            try:
                lock.acquire()
            except Timeout:
                summary.busy.append(run.schedule.name)
                continue
            locks.append(lock)
            held.append(run.schedule)
        if held:
            # another invocation may have finished these between our first look and the lock
            for run in due_runs(held, now, log_state(settings), force):
                s = run.schedule
                job = ExportJob(report=s.report, period=run.period, out=s.out, file=s.file,
                                filters=dict(s.filters), split=s.split, encoding=s.encoding,
                                schedule_name=s.name)
                logger.info("running schedule %s for %s (cron time %s)", s.name,
                            run.period.label, run.fire_time)
                summary.ran.extend(run_job(settings, job, as_of=now))
        if summary.ran or pending_records(settings):
            summary.logged = record_runs(settings, summary.ran)
    finally:
        for lock in locks:
            lock.release()
    return summary


def export_report(settings: Settings, job: ExportJob, as_of: dt.datetime) -> list[ExportRecord]:
    """A one-off export: run `job`, record it, return its records."""
    records = run_job(settings, job, as_of=as_of)
    record_runs(settings, records)
    return records


def run_scheduler(
    settings: Settings,
    schedules_path: Path,
    clock: Callable[[], dt.datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    cycles: int | None = None,
) -> None:
    """Call `run_due` at the start of every minute, for ever (or `cycles` times).

    The schedules file is read again each minute, so edits apply without a restart. A
    failing minute is logged and the loop goes on.
    """
    clock = clock or (lambda: local_now(settings))
    done = 0
    while cycles is None or done < cycles:
        now = clock()
        try:
            summary = run_due(settings, load_schedules(schedules_path, settings), now)
            for r in summary.ran:
                logger.info("%s %s %s: %s", r.schedule_name, r.status,
                            r.output_path or "", r.message or "")
        except (ScheduleError, warehouse.WarehouseError) as e:
            logger.error("scheduler: %s", e)
        done += 1
        if cycles is None or done < cycles:
            next_minute = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
            sleep(max((next_minute - clock()).total_seconds(), 1.0))


# --- command line (wired into pipelines/__main__.py) ---------------------------------


def add_parsers(sub, common) -> None:
    """Add the `export` and `scheduler` subcommands to the CLI's subparsers."""
    export = sub.add_parser(
        "export", parents=[common],
        help="write a report as CSV, or (--due) every scheduled export that is due",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="reports (docs/exports.md):\n" + "\n".join(
            f"  {r.name:<19} {r.description}" for r in report_queries.REPORTS.values()))
    export.add_argument("report", nargs="?", choices=sorted(report_queries.REPORTS))
    export.add_argument("--from", dest="date_from", type=dt.date.fromisoformat,
                        help="first day, YYYY-MM-DD (inclusive)")
    export.add_argument("--to", dest="date_to", type=dt.date.fromisoformat,
                        help="last day, YYYY-MM-DD (inclusive)")
    export.add_argument("--community", help="only this community")
    export.add_argument("--compound", help="only this compound")
    export.add_argument(
        "--split", choices=sorted({d for r in report_queries.REPORTS.values()
                                   for d in r.splits}),
        help="one file per community or compound")
    export.add_argument("--out", type=Path, help="folder (default: WALL_EXPORT_DIR)")
    export.add_argument("--file", help="file-name pattern, e.g. '{report}_{period}.csv'")
    export.add_argument("--encoding", help="utf-8-sig (default), utf-8 or gb18030")
    export.add_argument("--due", action="store_true",
                        help="run every schedule that is due (safe from cron every minute)")
    export.add_argument("--schedules", type=Path,
                        help="schedules TOML (default: WALL_EXPORT_SCHEDULES)")
    export.add_argument("--schedule", action="append", default=[], dest="only",
                        help="with --due: only this schedule (repeatable)")
    export.add_argument("--force", action="store_true",
                        help="with --due: export again even if the period was exported")

    scheduler = sub.add_parser(
        "scheduler", parents=[common],
        help="run due exports every minute, for ever (for machines without cron)")
    scheduler.add_argument("--schedules", type=Path,
                           help="schedules TOML (default: WALL_EXPORT_SCHEDULES)")


def _print_records(records: Sequence[ExportRecord]) -> int:
    failed = 0
    for r in records:
        where = r.schedule_name or r.report
        if r.status == "ok":
            print(f"{where}: {r.row_count} rows -> {r.output_path or '(no file)'}"
                  + (f" ({r.message})" if r.message else ""))
        else:
            failed += 1
            print(f"error: {where} {r.period_from}..{r.period_to}: {r.message}",
                  file=sys.stderr)
    return failed


def command(args, settings: Settings) -> int:
    """Run `export` or `scheduler`; return the exit status (0 ok, 1 failed, 2 bad input)."""
    schedules_path = args.schedules or settings.export_schedules
    try:
        if args.command == "scheduler":
            load_schedules(schedules_path, settings)  # fail now, not in a minute
            run_scheduler(settings, schedules_path)
            return 0
        warehouse.require_existing(settings.db_path)  # an export never creates an empty one
        if args.due:
            if args.report or args.date_from or args.date_to:
                raise ScheduleError("--due runs the schedules; give no report or dates")
            summary = run_due(settings, load_schedules(schedules_path, settings),
                              local_now(settings), force=args.force, only=args.only)
            for name in summary.busy:
                print(f"{name}: being exported by another process; skipped")
            if not summary.logged:
                print("warning: export_log is busy (a load is writing); the runs are "
                      "spooled and will be recorded by the next run", file=sys.stderr)
            return 1 if _print_records(summary.ran) else 0
        if not (args.report and args.date_from and args.date_to):
            raise ScheduleError("give REPORT --from DATE --to DATE, or --due")
        period = Period.between(args.date_from, args.date_to)
        filters = {k: v for k, v in (("community", args.community),
                                     ("compound", args.compound)) if v}
        pattern = check_file_pattern(args.file) if args.file else "_".join(
            ["{report}", "{period}"] + [f"{{{k}}}" for k in filters]
            + ([f"{{{args.split}}}"] if args.split else [])) + ".csv"
        job = ExportJob(report=args.report, period=period, out=args.out or settings.export_dir,
                        file=pattern, filters=filters, split=args.split,
                        encoding=normalise_encoding(args.encoding or settings.export_encoding))
        records = export_report(settings, job, as_of=local_now(settings))
        return 1 if _print_records(records) else 0
    except (ScheduleError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
