"""Load benchmark: the product's ticket load of one CSV against a bare `read_csv`.

Measured side by side in one process, alternating, `repeats` times each, medians:
- floor (file): a fresh DuckDB file, `create table t as select * from read_csv(file)`,
  close (what issue 2's 1.5x target is measured against);
- floor (memory): the same into an in-memory database;
- load: `pipelines.loader.load_files(settings, 'tickets', [file])` into a fresh
  warehouse;
- reload: the same file again into the loaded warehouse (every row unchanged).
"""

from __future__ import annotations

import logging
import shutil
import statistics
import time
from pathlib import Path

import duckdb

from pipelines.loader import load_files
from pipelines.settings import Settings

logger = logging.getLogger(__name__)


def _floor(csv: Path, db: str) -> float:
    t0 = time.perf_counter()
    con = duckdb.connect(db)
    try:
        con.execute(
            "create table t as select * from read_csv($path)", {"path": str(csv)}
        )
    finally:
        con.close()
    return time.perf_counter() - t0


def measure_load(csv: Path, workdir: Path, settings_for, repeats: int) -> dict:
    """Alternate floor, floor in memory, load and reload `repeats` times; medians.

    Args:
        csv: the ticket CSV.
        workdir: scratch folder (warehouses are created and removed here).
        settings_for: function(db_path) -> Settings for a warehouse at db_path.
        repeats: rounds of the four measurements.
    """
    times: dict[str, list[float]] = {
        "floor_file": [],
        "floor_memory": [],
        "load": [],
        "reload": [],
    }
    report = None
    for r in range(repeats):
        floor_db = workdir / f"floor-{r}.duckdb"
        floor_db.unlink(missing_ok=True)
        times["floor_file"].append(_floor(csv, str(floor_db)))
        floor_db.unlink(missing_ok=True)
        times["floor_memory"].append(_floor(csv, ":memory:"))

        settings = settings_for(workdir / f"load-{r}.duckdb")
        Path(settings.db_path).unlink(missing_ok=True)
        t0 = time.perf_counter()
        (report,) = load_files(settings, "tickets", [csv], progress=False)
        times["load"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        (again,) = load_files(settings, "tickets", [csv], progress=False)
        times["reload"].append(time.perf_counter() - t0)
        if again.unchanged != report.inserted:
            logger.warning("reload was not all unchanged: %s", again.summary())
        for leftover in workdir.glob(f"load-{r}.duckdb*"):
            leftover.unlink(missing_ok=True)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "rows": report.rows_read if report else 0,
        "inserted": report.inserted if report else 0,
        "quarantined": report.quarantined if report else 0,
        "csv_bytes": csv.stat().st_size,
        "repeats": repeats,
        "times": times,
        "median": medians,
        "ratio_load": medians["load"] / medians["floor_file"],
        "ratio_reload": medians["reload"] / medians["floor_file"],
        "ratio_load_vs_memory": medians["load"] / medians["floor_memory"],
    }


def settings_factory(workdir: Path):
    """Settings on scratch warehouses, with a fixed pseudonym key (no key file)."""

    def make(db_path: Path) -> Settings:
        return Settings(
            db_path=Path(db_path),
            demo_dir=workdir / "demo",
            secret="benchmark-secret-not-for-production",
            secret_file=workdir / "pseudonym.key",
            calendar_file=None,
        )

    return make


def cleanup(workdir: Path) -> None:
    """Remove scratch files left by an interrupted run."""
    for path in workdir.glob("floor-*.duckdb*"):
        path.unlink(missing_ok=True)
    shutil.rmtree(workdir / "demo", ignore_errors=True)
