"""First start and demo: write demo inputs and load them through the real loaders.

`ensure_warehouse` is what `python app.py` calls when there is no warehouse yet: it writes
demo input files and loads them exactly as an office's files would be loaded.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from pipelines import derived, freshness, geo, warehouse
from pipelines.loader import LoadReport, load_files
from pipelines.settings import Settings, local_now
from pipelines.sources import SOURCES

logger = logging.getLogger(__name__)


def write_demo_inputs(out_dir: Path, seed: int = 20261123, years: int = 2,
                      now: dt.datetime | None = None) -> dict[str, Path]:
    """Write the demo sub-district's input files; return {source: path}.

    The demo's data runs up to `now` (local time; the minute it is generated, when given)
    and stops there: it is a snapshot, so a wall left running on it turns stale.
    """
    from pipelines.demo import write_demo

    if now is None:
        return write_demo(Path(out_dir), seed=seed, years=years)
    return write_demo(Path(out_dir), seed=seed, years=years, today=now.date(),
                      clock=now.time().replace(second=0, microsecond=0))


def load_demo_inputs(settings: Settings, files: dict[str, Path]
                     ) -> list[LoadReport | geo.GeoReport]:
    """Load every demo file whose source the loaders know, in dependency order, then the map."""
    reports = []
    for source in SOURCES:  # SOURCES is ordered so that references load first
        if source in files:
            reports += load_files(settings, source, [files[source]], progress=False)
    if "geo" in files:  # the map names communities, grids and compounds: last
        reports.append(geo.load_geo(settings, files["geo"]))
    return reports


def ensure_warehouse(settings: Settings) -> bool:
    """Create a demo warehouse at settings.db_path when none exists; True when created."""
    if Path(settings.db_path).exists():
        return False
    # A first start is expected, not a problem: INFO. The loader logs each load report.
    logger.info("no warehouse at %s: generating demo data in %s and loading it",
                settings.db_path, settings.demo_dir)
    now = local_now(settings)
    files = write_demo_inputs(settings.demo_dir, now=now)
    reports = load_demo_inputs(settings, files)
    logger.info("demo warehouse ready: %d files, %s rows, data up to %s (a snapshot: "
                "it does not grow)", len(reports), f"{sum(r.inserted for r in reports):,}",
                f"{now:%Y-%m-%d %H:%M}")
    return True


def status_text(settings: Settings) -> str:
    """A plain-text summary of the warehouse for `python -m pipelines status`."""
    con = warehouse.connect_read_only(settings.db_path)
    try:
        lines = [f"warehouse {settings.db_path}: schema {warehouse.schema_version(con)}, "
                 f"data version {warehouse.data_version(con)}"]
        for (table,) in con.execute(
                "select table_name from duckdb_tables() where not internal "
                "order by table_name").fetchall():
            n = con.execute(f'select count(*) from "{table}"').fetchall()[0][0]
            lines.append(f"  {table:<24} {n:>12,} rows")
        lines.append("last loads:")
        for row in con.execute(
                "select load_id, source, source_file, rows_read, inserted, updated, unchanged, "
                "duplicates, quarantined, status, finished_at, message from load_log "
                "order by load_id desc, source_file limit 10").fetchall():
            lines.append("  #{} {} {}: read {} ins {} upd {} same {} dup {} quar {} {} {}"
                         .format(*row[:11]))
            if row[11]:
                lines.append("    " + row[11].replace("\n", "\n    "))
        lines.append("freshness (newest record, expected cadence; failed load attempts):")
        for v in freshness.freshness(con, settings, local_now(settings)):
            failing = (f"; FAILING: newest load {v.last_outcome} ({v.last_error})"
                       if v.failing else "")
            lines.append(f"  {v.source:<16} {v.state:<7} data {v.data_at or '-'} "
                         f"(every {freshness.hours(v.cadence):g} h){failing}")
        lines += derived.adjustments_text(con)
        return "\n".join(lines)
    finally:
        con.close()
