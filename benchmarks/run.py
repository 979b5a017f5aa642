"""One benchmark run: warehouses per size, load, query paths, memory, pages, report.

`python -m benchmarks run` calls `run()`. Query measurements run in child processes
(`python -m benchmarks serve|pandas`) so that each one's peak memory is its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import generate, loadbench, pagebench, report

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent


def parse_size(text: str) -> int:
    """'100k' -> 100000, '1m' -> 1000000, '2500' -> 2500."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if scale > 1 else text
    return int(float(number) * scale)


def size_label(n: int) -> str:
    """1000000 -> '1M', 100000 -> '100k'."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def machine() -> dict:
    """nproc, memory, CPU model, Python and library versions, date."""
    import duckdb
    import pandas

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        mem = f"{mem_kb / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        mem = "unknown"
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    return {
        "nproc": os.cpu_count(),
        "memory": mem,
        "cpu": cpu,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "os": platform.platform(),
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


@contextlib.contextmanager
def generation_lock(workdir: Path, poll_s: float = 5):
    """Hold `workdir/.gen.lock` while generating: a workdir shared with colleagues gets
    one warehouse generated at a time (waits while someone else's lock exists)."""
    lock = workdir / ".gen.lock"
    while True:
        try:
            with lock.open("x") as f:
                f.write(f"benchmarks.run pid {os.getpid()}\n")
            break
        except FileExistsError:
            logger.info("waiting for %s: another warehouse is being generated", lock)
            time.sleep(poll_s)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _child(args: list[str], out: Path) -> dict:
    cmd = [sys.executable, "-m", "benchmarks", *args, "--json", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def run(
    sizes: list[int],
    out: Path | None,
    workdir: Path,
    load_rows: int | None,
    repeats: int,
    calls: int,
    refreshes: int,
    pages: bool,
    keep: bool,
    now: dt.datetime,
    page_watch: float = 10,
) -> dict:
    """Run every measurement; write the report to `out` (when given); return results."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings_for = loadbench.settings_factory(workdir)
    results: dict = {
        "machine": machine(),
        "now": now.isoformat(),
        "sizes": [],
        "repeats": repeats,
        "calls": calls,
        "refreshes": refreshes,
    }
    started = time.perf_counter()
    # the report is written after every size: compare with the one this run started from
    previous = report.previous_summary(
        Path(out).read_text(encoding="utf-8") if out and Path(out).exists() else "")

    if load_rows:
        csv = workdir / f"tickets-{size_label(load_rows)}.csv"
        t0 = time.perf_counter()
        generate.write_ticket_csv(csv, load_rows, now)
        logger.info(
            "wrote %s (%d rows) in %.1f s", csv, load_rows, time.perf_counter() - t0
        )
        results["load"] = loadbench.measure_load(csv, workdir, settings_for, repeats)
        logger.info("load: %s", results["load"]["median"])
        results["load_cli"] = loadbench.measure_cli_load(csv, workdir, repeats)
        logger.info("load, whole processes: %s", results["load_cli"]["median"])
        if not keep:
            csv.unlink(missing_ok=True)

    for n in sizes:
        db = workdir / f"warehouse-{size_label(n)}.duckdb"
        with generation_lock(workdir):
            built = generate.build_warehouse(db, n, settings_for(db), now)
        logger.info("built %s in %.1f s", db, built["seconds"])
        entry = {"tickets": n, "label": size_label(n), "build": built}
        common = ["--db", str(db), "--now", now.isoformat(), "--calls", str(calls)]
        # memory growth over refreshes is a leak check: all of them at the smallest
        # size, 100 at the others (1,000 at 10M would take most of an hour)
        size_refreshes = refreshes if n == min(sizes) else min(refreshes, 100)
        entry["serve"] = _child(
            ["serve", *common, "--refreshes", str(size_refreshes)],
            workdir / f"serve-{n}.json",
        )
        entry["pandas"] = _child(["pandas", *common], workdir / f"pandas-{n}.json")
        if pages and n == max(sizes):
            why = pagebench.missing_tools()
            found = pagebench.available_pages()
            if why or not found:
                entry["pages"] = {"pending": why or "no wall or explorer page yet"}
            else:
                try:
                    entry["pages"] = pagebench.measure_pages(
                        db, found, watch_s=page_watch
                    )
                except Exception as e:  # noqa: BLE001 - the rest of the report still stands
                    entry["pages"] = {"pending": f"failed: {e}"[:300]}
        if n == max(sizes):
            update = workdir / "update-1k.csv"
            generate.write_ticket_csv(update, 1000, now)  # the warehouse's first tickets
            entry["update"] = loadbench.measure_update(db, update, workdir, repeats)
            logger.info("update: %s", entry["update"]["median"])
            generate.write_recent_update_csv(db, update, 1000)  # a center's regular one
            entry["update_recent"] = loadbench.measure_update(db, update, workdir, repeats)
            logger.info("regular update: %s", entry["update_recent"]["median"])
            update.unlink(missing_ok=True)
        entry["loadavg_after"] = round(os.getloadavg()[0], 1)
        results["sizes"].append(entry)
        if not keep:
            db.unlink(missing_ok=True)
        # after every size, so that a long run interrupted at 10M still reports the rest
        results["seconds"] = time.perf_counter() - started
        (workdir / "results.json").write_text(
            json.dumps(results, default=str, indent=1), encoding="utf-8"
        )
        if out:
            report.write(results, Path(out), previous=previous)
    loadbench.cleanup(workdir)
    return results
