"""Load benchmark: the product's ticket load of one CSV against a bare `read_csv`.

Measured side by side in one process, alternating, `repeats` times each, medians:
- floor (file): a fresh DuckDB file, `create table t as select * from read_csv(file)`,
  close (what issue 2's 1.5x target is measured against);
- floor (memory): the same into an in-memory database;
- load: `pipelines.loader.load_files(settings, 'tickets', [file])` into a fresh
  warehouse;
- reload: the same file again into the loaded warehouse (every row unchanged).

`measure_update` loads a 1,000-ticket update into a copy of a big warehouse against
the same file into an empty one, both by the CLI (issue 18: ≤ 1.5×): with the standby
copy a previous write leaves (`pipelines.standby`), with it and the summary marts'
pending rows due to be merged (migration 0021), and without a standby.

`measure_cli_load` compares whole processes, as an operator's cron job runs them:
`python -m pipelines load tickets FILE` against `python FLOOR_SCRIPT` (import duckdb,
the same `read_csv` into a fresh file), each a child process, alternating. It reports
wall time and CPU time (user + system of the child, from `getrusage`, and the system
part alone: copying the warehouse file is system time): on a shared machine the CPU
time moves far less with other people's work than the wall time does.

Only these two, without the rest of `python -m benchmarks run`:
    python -m benchmarks.loadbench cli TICKETS.csv WORKDIR [--repeats N]
    python -m benchmarks.loadbench update WAREHOUSE UPDATE.csv WORKDIR [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from pipelines.loader import load_files
from pipelines.settings import Settings

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
# The whole-process floor: a Python process that imports duckdb and reads the file into a
# new database file with DuckDB's defaults.
FLOOR_SCRIPT = (
    "import sys\n"
    "import duckdb\n"
    "con = duckdb.connect(sys.argv[2])\n"
    "con.execute('create table t as select * from read_csv($p)', {'p': sys.argv[1]})\n"
    "con.close()\n"
)
# A fixed pseudonym key for the CLI's child processes (benchmark data has no people).
BENCH_SECRET = "5e" * 32


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


def _cli_env() -> dict:
    """The CLI's environment, with its bytecode written first as `scripts/setup` writes
    it (the same command), so a checkout edited since setup is measured as installed."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "app.py", "pipelines",
                    "dashboards"], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    env = {**os.environ, "WALL_SECRET": BENCH_SECRET, "PYTHONPATH": str(REPO)}
    env.pop("WALL_DB", None)
    return env


def _child(args: list[str], env: dict) -> tuple[float, float, float]:
    """Run one child process to its end; (wall seconds, CPU seconds: user + system,
    system seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): "
                           f"{done.stderr.strip()[-2000:]}")
    system = after.ru_stime - before.ru_stime
    return wall, (after.ru_utime - before.ru_utime) + system, system


def measure_cli_load(csv: Path, workdir: Path, repeats: int) -> dict:
    """Whole process against whole process, alternating `repeats` times; medians.

    floor: `python FLOOR_SCRIPT csv fresh.duckdb`; cli: `python -m pipelines load
    tickets csv --quiet --db fresh.duckdb`. Both wall and CPU time are reported.
    """
    env = _cli_env()
    times: dict[str, list[float]] = {"floor_wall": [], "floor_cpu": [], "floor_sys": [],
                                     "cli_wall": [], "cli_cpu": [], "cli_sys": []}
    for r in range(repeats):
        floor_db, cli_db = workdir / f"floor-cli-{r}.duckdb", workdir / f"cli-{r}.duckdb"
        for path in (floor_db, cli_db):
            path.unlink(missing_ok=True)
        runs = (("floor", [sys.executable, "-c", FLOOR_SCRIPT, str(csv), str(floor_db)]),
                ("cli", _cli_args(csv, cli_db)))
        for kind, args in runs:
            for name, value in zip(("wall", "cpu", "sys"), _child(args, env)):
                times[f"{kind}_{name}"].append(value)
        for leftover in [*workdir.glob(f"floor-cli-{r}.duckdb*"),
                         *workdir.glob(f"cli-{r}.duckdb*")]:
            leftover.unlink(missing_ok=True)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "repeats": repeats,
        "times": times,
        "median": medians,
        "ratio_wall": medians["cli_wall"] / medians["floor_wall"],
        "ratio_cpu": medians["cli_cpu"] / medians["floor_cpu"],
    }


def _cli_args(csv: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "pipelines", "load", "tickets", str(csv), "--quiet",
            "--db", str(db)]


def measure_update(warehouse: Path, csv: Path, workdir: Path, repeats: int) -> dict:
    """A small update (`csv`: tickets already in `warehouse`) loaded by the CLI, against
    the same file into a new warehouse, alternating; medians of wall and CPU time (whole
    processes; every copy is made and flushed to disk before the clock starts):

    - update: into a copy of `warehouse` whose standby (`pipelines.standby`) is ready, as
      the background process of the previous write leaves it for a center loading every
      few minutes; then the seconds from the load's end until its own background
      process has the next one ready (`standby_ready`), and the CPU seconds one standby
      costs (`standby_cpu`, made in this process);
    - merging: as update, into a copy whose summary marts hold one row less than
      `derived.PENDING_MERGE_ROWS` pending (migration 0021: copies of stored keys, each
      one ticket more), so this load merges them into the marts, as one load in every
      ~25 of 1,000 tickets does;
    - cold: into a copy without one (the first write after a restore; a filesystem that
      clones needs none, and then this is the same as update).
    """
    from pipelines import standby
    from pipelines.settings import load_settings

    env = _cli_env()
    min_mib = load_settings(env).standby_min_mib
    times: dict[str, list[float]] = {f"{kind}_{name}": [] for kind in UPDATE_KINDS
                                     for name in ("wall", "cpu", "sys")}
    ready_s, standby_cpu = [], []
    for r in range(repeats):
        dbs = {kind: workdir / f"{kind}-{r}.duckdb" for kind in UPDATE_KINDS}
        dbs["empty"].unlink(missing_ok=True)
        for kind in UPDATE_KINDS[1:]:
            shutil.copyfile(warehouse, dbs[kind])
            if kind == "merging":
                _fill_pending(dbs[kind])
            # on disk before the clock, as a warehouse is after the write that made it:
            # else the child waits for the copy's write-back (XFS flushes before cloning)
            with open(dbs[kind], "rb") as f:
                os.fsync(f.fileno())
        cpu = time.process_time()
        made = standby.make(dbs["update"])  # what the previous write's process does
        if made == "made":
            standby_cpu.append(time.process_time() - cpu)
        standby.make(dbs["merging"])
        background = standby.wanted(dbs["update"], "clone" if made == "clone" else None,
                                    min_mib)
        for kind in UPDATE_KINDS:
            for name, value in zip(("wall", "cpu", "sys"),
                                   _child(_cli_args(csv, dbs[kind]), env)):
                times[f"{kind}_{name}"].append(value)
            if kind == "merging" and not _merged(dbs[kind]):
                raise RuntimeError(f"{dbs[kind]}: the load left the pending rows unmerged")
            if kind != "empty" and background:  # each starts one: wait, then clean up
                ready = _standby_ready(dbs[kind])
                if kind == "update":
                    ready_s.append(ready)
        for leftover in [p for kind in UPDATE_KINDS
                         for p in workdir.glob(f"{kind}-{r}.duckdb*")]:
            leftover.unlink(missing_ok=True)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "rows": sum(1 for _ in csv.open(encoding="utf-8")) - 1,
        "warehouse_bytes": warehouse.stat().st_size,
        "repeats": repeats,
        "times": times,
        "median": medians,
        "standby_ready": ready_s,
        "standby_cpu": standby_cpu,
        "ratio_wall": medians["update_wall"] / medians["empty_wall"],
        "ratio_cpu": medians["update_cpu"] / medians["empty_cpu"],
        "ratio_merging_wall": medians["merging_wall"] / medians["empty_wall"],
        "ratio_merging_cpu": medians["merging_cpu"] / medians["empty_cpu"],
        "ratio_cold_wall": medians["cold_wall"] / medians["empty_wall"],
        "ratio_cold_cpu": medians["cold_cpu"] / medians["empty_cpu"],
    }


UPDATE_KINDS = ("empty", "update", "merging", "cold")


def _fill_pending(db: Path) -> None:
    """Give each counted mart of `db` one row less pending than a merge takes: its
    stored rows (repeated as often as needed), each one ticket more."""
    from pipelines import derived, warehouse

    want = derived.PENDING_MERGE_ROWS - 1
    con = duckdb.connect(str(db))
    try:
        warehouse.migrate(con)  # a warehouse made before migration 0021 has no pending
        for mart in derived.COUNTED_MARTS:
            first = derived.count_columns(con, mart)[0]
            (rows,), = con.execute(f"select count(*) from {mart}").fetchall()
            con.execute(f"insert into {mart}_pending select * exclude (copy) replace "
                        f"({first} + 1 as {first}) from {mart}, range($copies) c(copy) "
                        f"limit $want", {"copies": -(-want // max(rows, 1)), "want": want})
    finally:
        con.close()


def _merged(db: Path) -> bool:
    """Whether the counted marts of `db` hold no pending row (the load merged them)."""
    from pipelines import derived

    con = duckdb.connect(str(db), read_only=True)
    try:
        return all(con.execute(f"select count(*) = 0 from {mart}_pending").fetchall()[0][0]
                   for mart in derived.COUNTED_MARTS)
    finally:
        con.close()


def _standby_ready(db: Path, timeout_s: float = 120) -> float:
    """Seconds until the background process started by the last write of `db` has made
    its standby (the load has just ended).

    Raises:
        RuntimeError: it recorded a failure, or made none within `timeout_s`.
    """
    from pipelines import standby

    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if standby.ready_path(db, standby.identity(db)).exists():
            return time.perf_counter() - started
        failed = standby.failed_path(db)
        if failed.exists():
            raise RuntimeError(f"{db}: {failed.read_text(encoding='utf-8').strip()}")
        time.sleep(0.02)
    raise RuntimeError(f"{db}: no standby {timeout_s:.0f} s after the load")


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


def main(argv: list[str] | None = None) -> int:
    """Run `measure_cli_load` or `measure_update` alone; print the result as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadbench",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    cli = sub.add_parser("cli", help="whole-process load against a bare read_csv")
    cli.add_argument("csv", type=Path)
    update = sub.add_parser("update", help="an update into a copy of WAREHOUSE against "
                            "the same file into an empty warehouse")
    update.add_argument("warehouse", type=Path, help="read only: copied for each round")
    update.add_argument("csv", type=Path)
    for command in (cli, update):
        command.add_argument("workdir", type=Path, help="scratch folder")
        command.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.command == "cli":
        result = measure_cli_load(args.csv, args.workdir, args.repeats)
    else:
        result = measure_update(args.warehouse, args.csv, args.workdir, args.repeats)
    print(json.dumps({**result, "loadavg": os.getloadavg()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
