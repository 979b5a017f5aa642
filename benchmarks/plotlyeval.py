"""Main-thread CPU of evaluating plotly.js bundles alone, in headless Chromium.

    .venv/bin/python -m benchmarks.plotlyeval --runs 10 BUNDLE.js [BUNDLE.js ...]

Each run opens a fresh browser (no HTTP or code cache) on a page holding nothing but one
bundle's script, and reads Chromium's `Performance.getMetrics` in thread-CPU time
(`timeDomain: threadTicks`) before navigating and once `Plotly.newPlot` is defined:
`ScriptDuration` (evaluating the bundle: parse, compile, run its top level, which
registers every trace and component module) and `TaskDuration` (all main-thread
tasks). CPU time, not wall time, so a busy machine inflates it less; the bundles are
loaded alternately, run after run. Prints a markdown table of medians and ranges.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.lightbench import fresh_browser

METRICS = ("ScriptDuration", "TaskDuration")
_PAGE = ("<!doctype html><html lang=en><head><title>loading</title></head><body>"
         "<script src='{name}'></script>"
         "<script>document.title = typeof Plotly.newPlot</script></body></html>")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # one line per request would drown the table
        pass


def _metrics(driver) -> dict[str, float]:
    got = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    return {m["name"]: m["value"] for m in got}


def _one_load(url: str, limit_s: float = 60) -> dict[str, float]:
    """Milliseconds of main-thread CPU per metric for one load of `url` (fresh browser)."""
    driver = fresh_browser()
    try:
        driver.get("about:blank")
        driver.execute_cdp_cmd("Performance.enable", {"timeDomain": "threadTicks"})
        before = _metrics(driver)
        start = time.perf_counter()
        driver.get(url)
        while driver.title != "function":
            if time.perf_counter() - start > limit_s:
                raise TimeoutError(f"{url}: Plotly not defined in {limit_s:g} s")
            time.sleep(0.05)
        after = _metrics(driver)
    finally:
        driver.quit()
    return {k: (after[k] - before.get(k, 0.0)) * 1000 for k in METRICS}


def measure(bundles: list[Path], runs: int) -> list[dict]:
    """Per bundle: its size and the median and range of each metric over `runs` loads."""
    with tempfile.TemporaryDirectory() as tmp:
        names = []
        for i, bundle in enumerate(bundles):
            name = f"b{i}.js"  # bundles of the same file name side by side
            shutil.copyfile(bundle, Path(tmp) / name)
            (Path(tmp) / f"b{i}.html").write_text(_PAGE.format(name=name), encoding="utf-8")
            names.append(f"b{i}.html")
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_Quiet, directory=tmp))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        loads: list[list[dict]] = [[] for _ in bundles]
        try:
            for _ in range(runs):
                for i, name in enumerate(names):
                    loads[i].append(_one_load(base + name))
        finally:
            server.shutdown()
    return [{"bundle": str(bundle), "bytes": bundle.stat().st_size,
             **{k: (statistics.median(x[k] for x in got), min(x[k] for x in got),
                    max(x[k] for x in got)) for k in METRICS}}
            for bundle, got in zip(bundles, loads)]


def main(argv: list[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", type=Path, nargs="+")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    print("| bundle | bytes | script ms (median, range) | main-thread tasks ms |")
    print("| --- | ---: | ---: | ---: |")
    for r in measure(args.bundles, args.runs):
        cells = [f"{m:.0f} ({lo:.0f}–{hi:.0f})" for m, lo, hi in (r[k] for k in METRICS)]
        print(f"| {r['bundle']} | {r['bytes']:,} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
