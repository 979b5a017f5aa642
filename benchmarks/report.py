"""The report: docs/benchmarks.md (tables) and a hand-drawn SVG chart of cost vs size.

Everything in the report is computed from one run's results, verdicts on the targets
included, so the document is always what was measured.
"""

from __future__ import annotations

import math
from pathlib import Path

from pipelines import derived

CHART_NAME = "benchmarks-cost.svg"
# A new report keeps what follows this line in the file it replaces.
HAND_MARKER = "<!-- measured by hand below: a new harness run keeps these sections -->"

HEADER = """\
# Benchmarks

How fast the product loads and answers, against what, and how cost grows with data.
Everything down to the "measured by hand" line was written by the harness from one run;
the sections after that line were measured by hand, say when, and a new run keeps them.

## How to run

```bash
.venv/bin/python -m benchmarks run --sizes 100k,1m,10m --out docs/benchmarks.md
```

Options: `--sizes` (tickets per warehouse; `k`/`m` suffixes), `--load-rows` (rows of
the load benchmark's CSV, default `1m`; `0` skips it), `--repeats` (load rounds,
default 3), `--calls` (calls per query, default 40), `--refreshes` (wall refreshes for
the memory check: all at the smallest size, at most 100 at the others; default 1000),
`--no-pages` (no browser), `--page-watch` (seconds per page, default 10),
`--workdir`, `--keep` (keep the warehouses), `--now` (the data's clock; default now).
`python -m benchmarks report RESULTS.json --out FILE` writes the report again from a
run's results; "Machine and run" says how long the run took. The summary keeps the
previous report's figures beside the new ones. CI runs it at 20k tickets with one repeat (`tests/unit/test_benchmarks_smoke.py`) so that
it cannot rot; it asserts no timings.
`python -m benchmarks cpu --db FILE --now ISO [--threads 1] [--calls 20] [--only REGEX]`
prints the CPU time per call of the same query functions with the same arguments
(DuckDB at 1 thread by default): on a shared machine, the figure to compare.

What it does:
1. **Warehouses** of each size are generated inside DuckDB with set-based SQL
   (`benchmarks/generate.py`: `range()` and `hash(i, k)` pseudo-randomness, so the same
   size and clock give the same data) straight into the product's schema
   (`pipelines.warehouse.migrate`), deadlines from
   `pipelines.workdays.refresh_calendar`.
   Tickets cover the two years up to the clock; larger sizes are a bigger city (14
   communities up to 1M, 14 more per 900k tickets above). Tables of later migrations
   (population, votes, ledger) are filled in proportion (~1M residents and ~1M ledger
   entries at 10M tickets) when they exist,
   from their column names and types (not derived from each other): figures for
   population, participation and ledger queries are indicative. Then the serving
   marts and the warnings, as a load ends: the time of
   `pipelines.warnings_engine.refresh` is issue 15's "warnings after a load".
2. **Load**: a canonical ticket CSV of `--load-rows` rows; in the same process,
   alternating, `--repeats` rounds: the floor (a fresh DuckDB file,
   `create table t as select * from read_csv(file)`, close), the same in memory, the
   product's `pipelines.loader.load_files(settings, 'tickets', [file])` into a fresh
   warehouse, and a reload of the same file (every row unchanged). Medians. Then whole
   processes, as cron runs them: `python -m pipelines load tickets FILE` against a
   Python script that imports duckdb and runs the same `read_csv` (wall and CPU time
   of each child process, alternating). At the largest size, an **update**: the CLI
   loads 1,000 of the warehouse's tickets, all changed, into an empty warehouse, into a
   copy of it with the standby copy a previous write leaves ready
   (`pipelines.standby`), and into a copy without one; the ratio is judged on wall
   time, what a center loading every few minutes waits for (CPU time is shown too).
3. **Query paths**: every public function of `pipelines/queries/*.py` (found by
   introspection; parameters from one table, `PARAM_VALUES` in
   `benchmarks/querybench.py`), called through `warehouse.Reader` as the app calls
   it, `--calls` times with varied filters (today / last 7 days / this month / an
   earlier month; all communities or one). Against it, "the way most Dash dashboards
   are built": all tickets in one pandas DataFrame, filtered and grouped per callback,
   for five representative questions, each also asked in SQL of the warehouse.
   A function that returns a stream (an Arrow record batch reader: the explorer's CSV
   download) is timed to its first record batch, what the analyst waits for before the
   download starts: that is its p50/p95 ("download start", held to the explorer's
   150 ms) and the time its cost growth is judged by. The stream is then read to its
   end; the whole stream's time, rows and rows per second are reported apart, with no
   target, since that time grows with the rows written.
4. **Memory**: peak resident memory (VmHWM) of the process serving the queries and
   of the pandas process, per size; resident memory before and after `--refreshes` wall
   refreshes.
5. **Pages**: first full render of `/wall` and `/explore` in headless Chromium, and
   bytes per refresh (`benchmarks/pagebench.py`), when those pages exist.

**Noise.** Other engineers run tests on the same 2-core machine while this runs, so
absolute times move by tens of percent between runs. Ratios measured side by side in
the same run (load vs floor, DuckDB vs pandas, 10M vs 1M) are the figures to trust.
"""


def _ms(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


def _update_ratios(update: dict) -> str:
    """The update's ratios to the empty load: with a standby ready, then without."""
    return (f"**{update['ratio_wall']:.2f}×** wall, {update['ratio_cpu']:.2f}× CPU "
            f"(the load that merges the marts' pending rows: "
            f"{update['ratio_merging_wall']:.2f}× wall, {update['ratio_merging_cpu']:.2f}× "
            f"CPU; no standby: {update['ratio_cold_wall']:.2f}× wall, "
            f"{update['ratio_cold_cpu']:.2f}× CPU)")


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "**missed**")


def _functions_table(sizes: list[dict]) -> list[str]:
    labels = [s["label"] for s in sizes]
    head = (
        "| query function | serves | used by | "
        + " | ".join(f"{lb} p50 / p95 (ms)" for lb in labels)
        + " | growth p95 "
        + (f"{labels[-2]}→{labels[-1]}" if len(labels) > 1 else "")
        + " | target p95 | at "
        + labels[-1]
        + " |"
    )
    lines = [head, "|" + " --- |" * (len(labels) + 6)]
    keyed: dict[tuple, list] = {}
    for s in sizes:
        for f in s["serve"]["functions"]:
            keyed.setdefault((f["module"], f["function"]), []).append(f)
    for (module, name), entries in keyed.items():
        first = entries[0]
        if first.get("skipped"):
            lines.append(
                f"| `{module}.{name}` | {first['owner']} | "
                f"{', '.join(first['used_by']) or '–'} | skipped: "
                f"{first['skipped']} |" + " |" * (len(labels) + 2)
            )
            continue
        cells = [
            f"{_ms(e.get('p50'))} / {_ms(e.get('p95'))}"
            + (" †" if e.get("remeasured") else "")
            for e in entries
        ]
        growth = (
            entries[-1]["p95"] / entries[-2]["p95"]
            if len(entries) > 1
            and entries[-2].get("p95")
            and entries[-1].get("p95")
            else None
        )
        target = first.get("target_ms")
        ok = None if target is None else entries[-1].get("p95", math.inf) <= target
        lines.append(
            f"| `{module}.{name}` | {first['owner']} | "
            f"{', '.join(first['used_by']) or '–'} | "
            + " | ".join(cells)
            + f" | {'–' if growth is None else f'{growth:.1f}×'} | "
            f"{'–' if target is None else f'{target} ms'} | {_verdict(ok)} |"
        )
    return lines


def _streams_table(sizes: list[dict]) -> list[str]:
    """Streamed functions: first rows against the whole stream, per size (no target)."""
    lines = [
        "| query function | size | first rows p50 / p95 (ms) | whole stream p50 / "
        "p95 (ms) | rows per call: median / max | rows per second |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in sizes:
        for f in s["serve"]["functions"]:
            if "stream" in f:
                st = f["stream"]
                lines.append(
                    f"| `{f['module']}.{f['function']}` | {s['label']} | "
                    f"{_ms(f['p50'])} / {_ms(f['p95'])} | {_ms(st['p50'])} / "
                    f"{_ms(st['p95'])} | {st['rows_median']:,} / {st['rows_max']:,} | "
                    f"{st['rows_per_s']:,.0f} |"
                )
    return lines if len(lines) > 2 else []


def _baseline_table(sizes: list[dict]) -> list[str]:
    lines = [
        "| question | size | DuckDB p50 / p95 (ms) | pandas p50 / p95 (ms) | "
        "pandas ÷ DuckDB (p95) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for q in sizes[0]["serve"]["baseline_sql"]:
        for s in sizes:
            d, p = s["serve"]["baseline_sql"][q], s["pandas"]["queries"][q]
            lines.append(
                f"| {q} | {s['label']} | {_ms(d['p50'])} / {_ms(d['p95'])} | "
                f"{_ms(p['p50'])} / {_ms(p['p95'])} | "
                f"{p['p95'] / d['p95']:.1f}× |"
            )
    return lines


def _series(sizes: list[dict]) -> dict[str, list[tuple[int, float]]]:
    """Cost per size: the slowest measured page query, and the baselines' medians."""
    out: dict[str, list[tuple[int, float]]] = {
        "slowest product query (p95)": [],
        "product queries, median p95": [],
        "same questions, DuckDB SQL (median p95)": [],
        "same questions, pandas (median p95)": [],
    }
    for s in sizes:
        p95 = sorted(f["p95"] for f in s["serve"]["functions"] if "p95" in f)
        if p95:
            out["slowest product query (p95)"].append((s["tickets"], p95[-1]))
            out["product queries, median p95"].append(
                (s["tickets"], p95[len(p95) // 2])
            )
        d = sorted(v["p95"] for v in s["serve"]["baseline_sql"].values())
        p = sorted(v["p95"] for v in s["pandas"]["queries"].values())
        out["same questions, DuckDB SQL (median p95)"].append(
            (s["tickets"], d[len(d) // 2])
        )
        out["same questions, pandas (median p95)"].append(
            (s["tickets"], p[len(p) // 2])
        )
    return {k: v for k, v in out.items() if v}


def chart_svg(series: dict[str, list[tuple[int, float]]]) -> str:
    """A log-log line chart of milliseconds against tickets, as SVG text."""
    w, h, left, right, top, bottom = 760, 420, 70, 250, 30, 50
    xs = [x for pts in series.values() for x, _ in pts]
    ys = [max(y, 0.01) for pts in series.values() for _, y in pts]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    if y1 == y0:
        y1 = y0 + 1

    def px(x: float) -> float:
        return left + (math.log10(x) - x0) / (x1 - x0) * (w - left - right)

    def py(y: float) -> float:
        return (
            h
            - bottom
            - (math.log10(max(y, 0.01)) - y0) / (y1 - y0) * (h - top - bottom)
        )

    colors = ["#c0392b", "#e67e22", "#2471a3", "#7d3c98", "#229954"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="14">Cost against size '
        f"(ms, log scale; tickets, log scale)</text>",
    ]
    for e in range(y0, y1 + 1):
        y = py(10**e)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" '
            f'stroke="#ddd"/><text x="{left - 8}" y="{y + 4:.1f}" '
            f'text-anchor="end">{10**e:g}</text>'
        )
    for x in sorted(set(xs)):
        label = f"{x / 1e6:g}M" if x >= 1e6 else f"{x / 1e3:g}k"
        parts.append(
            f'<line x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" '
            f'y2="{h - bottom}" stroke="#eee"/><text x="{px(x):.1f}" '
            f'y="{h - bottom + 18}" text-anchor="middle">{label}</text>'
        )
    for i, (name, pts) in enumerate(series.items()):
        c = colors[i % len(colors)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>'
        )
        parts += [
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{c}"/>'
            for x, y in pts
        ]
        ly = top + 20 + 20 * i
        parts.append(
            f'<line x1="{w - right + 15}" y1="{ly}" x2="{w - right + 35}" '
            f'y2="{ly}" stroke="{c}" stroke-width="2"/>'
            f'<text x="{w - right + 40}" y="{ly + 4}">{name}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _summary(results: dict) -> list[str]:
    """The targets of issues 2 and 8, each met or missed with the measured figure."""
    sizes = results["sizes"]
    top = sizes[-1]
    rows = [
        "## Summary against the targets",
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
    ]
    load = results.get("load")
    if load:
        ok = load["ratio_load"] <= 1.5
        rows.append(
            f"| load of a {load['rows']:,}-row CSV ≤ 1.5 × bare `read_csv` "
            f"(issue 2) | {load['ratio_load']:.2f}× ({load['median']['load']:.1f} s "
            f"vs {load['median']['floor_file']:.1f} s) | {_verdict(ok)} |"
        )
    cli = results.get("load_cli")
    if cli:
        rows.append(
            f"| the same, whole processes: `python -m pipelines load` ≤ 1.5 × a bare "
            f"`read_csv` script (issue 18) | {cli['ratio_wall']:.2f}× wall "
            f"({cli['median']['cli_wall']:.1f} s vs {cli['median']['floor_wall']:.1f} s), "
            f"{cli['ratio_cpu']:.2f}× CPU | {_verdict(cli['ratio_wall'] <= 1.5)} |"
        )
    update, recent = top.get("update"), top.get("update_recent")
    if update:
        also = (f"; a center's regular update: **{recent['ratio_wall']:.2f}×** wall, "
                f"{recent['ratio_cpu']:.2f}× CPU" if recent else "")
        met = update["ratio_wall"] <= 1.5 and (not recent or recent["ratio_wall"] <= 1.5)
        rows.append(
            f"| update of {update['rows']:,} tickets into {top['tickets']:,} ≤ 1.5 × the "
            f"same file into an empty warehouse (issue 18) | tickets over two years: "
            f"{_update_ratios(update)}{also} | {_verdict(met)} |"
        )
    at_10m = top["tickets"] >= 10_000_000
    warned = top.get("build", {}).get("warnings_seconds")
    if warned is not None:
        rows.append(
            f"| warnings after a load ≤ 5 s at 10M (issue 15) | "
            f"`warnings_engine.refresh` at {top['label']}: {warned:.1f} s | "
            + (_verdict(warned <= 5) if at_10m
               else f"{_verdict(warned <= 5)} at {top['label']}; 10M not run")
            + " |"
        )
    for owner, target, plural in (
        ("wall view", 100, "wall views"),
        ("explorer callback", 150, "explorer callbacks"),
        ("download start", 150, "downloads start"),
    ):
        measured = [
            f for f in top["serve"]["functions"] if f["owner"] == owner and "p95" in f
        ]
        if not measured:
            rows.append(
                f"| {plural} ≤ {target} ms p95 at 10M | not measured (no such "
                "query functions yet) | pending |"
            )
            continue
        worst = max(measured, key=lambda f: f["p95"])
        ok = worst["p95"] <= target
        rows.append(
            f"| {plural} ≤ {target} ms p95 at 10M | slowest at {top['label']}: "
            f"`{worst['module']}.{worst['function']}` {_ms(worst['p95'])} ms"
            + (" to the first rows" if "stream" in worst else "")
            + " | "
            + (
                _verdict(ok)
                if at_10m
                else f"{_verdict(ok)} at {top['label']}; 10M not run"
            )
            + " |"
        )
    if len(sizes) > 1:
        prev = sizes[-2]
        before = {
            (f["module"], f["function"]): f["p95"]
            for f in prev["serve"]["functions"]
            if "p95" in f
        }
        growth = sorted(
            (f["p95"] / before[k], f"{k[0]}.{k[1]}")
            for f in top["serve"]["functions"]
            if "p95" in f
            and (k := (f["module"], f["function"])) in before
            and before[k] > 0
        )
        factor = top["tickets"] / prev["tickets"]
        if growth:
            median, (worst, name) = growth[len(growth) // 2][0], growth[-1]
            over = [g for g in growth if g[0] >= factor / 2]
            rows.append(
                f"| cost {prev['label']} → {top['label']} ({factor:g}× the data) "
                f"far less than {factor:g}× | p95 grows {median:.1f}× (median "
                f"query), {worst:.1f}× (worst, `{name}`); {len(over)} of "
                f"{len(growth)} queries grow ≥ {factor / 2:g}×"
                + (
                    " (streams by their first rows)"
                    if any("stream" in f for f in top["serve"]["functions"])
                    else ""
                )
                + f" | {_verdict(not over)} |"
            )
        pandas = [
            top["pandas"]["queries"][q]["p95"] / top["serve"]["baseline_sql"][q]["p95"]
            for q in top["serve"]["baseline_sql"]
        ]
        rows.append(
            f"| faster than the pandas way at {top['label']} | pandas ÷ DuckDB "
            f"p95: {min(pandas):.1f}× to {max(pandas):.1f}× | – |"
        )
    pages = top.get("pages") or {}
    rows.append(
        "| first render of `/wall` and `/explore`, bytes per refresh | "
        + (
            "pending"
            if not pages or "pending" in pages
            else ", ".join(f"`{p}` {r['render_s']:.2f} s" for p, r in pages.items())
        )
        + " | – |"
    )
    return rows + [""]


def previous_summary(text: str) -> tuple[str, dict[str, str]]:
    """The date and the summary's {target: measured} of an earlier report's text."""
    date = next((line.split("|")[2].strip() for line in text.splitlines()
                 if line.startswith("| date |")), "")
    at = text.find("## Summary against the targets")
    measured = {}
    for line in text[at:].splitlines()[4:] if at >= 0 else []:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        measured[cells[0]] = cells[1]
    return date, measured


def _with_previous(rows: list[str], previous: tuple[str, dict[str, str]]) -> list[str]:
    """The summary with a column of the previous run's figures, so a run says what moved."""
    date, measured = previous
    if not measured:
        return rows
    out = []
    for line in rows:
        if line.startswith("| target |"):
            line += f" previous run ({date}) |"
        elif line.startswith("| --- |"):
            line += " --- |"
        elif line.startswith("|"):
            target = line.strip("|").split("|")[0].strip()
            line += f" {measured.get(target, '–')} |"
        out.append(line)
    return out


def write(results: dict, out: Path,
          previous: tuple[str, dict[str, str]] | None = None) -> None:
    """Write the markdown report to `out` and the chart beside it.

    `previous` is the earlier run's (date, {target: measured}) for the summary's last
    column (`previous_summary`); by default it is read from the report `out` holds. A run
    that writes its report after every size passes the one it started with: read again,
    it would be this run's own partial report.
    """
    m = results["machine"]
    sizes = results["sizes"]
    lines = [
        HEADER,
        "## Machine and run",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {m['date']} |",
        f"| CPU | {m['cpu']} |",
        f"| cores (nproc) | {m['nproc']} |",
        f"| memory | {m['memory']} |",
        f"| load average at start | {', '.join(map(str, m['loadavg_at_start']))} |",
        f"| software | Python {m['python']}, DuckDB {m['duckdb']}, "
        f"pandas {m['pandas']} |",
        f"| data clock (`--now`) | {results['now']} |",
        f"| calls per query / load rounds / refreshes | {results['calls']} / "
        f"{results['repeats']} / {results['refreshes']} |",
        f"| whole run | {results['seconds'] / 60:.1f} min |",
        "",
    ]
    if previous is None:
        previous = previous_summary(out.read_text(encoding="utf-8") if out.exists() else "")
    lines += _with_previous(_summary(results), previous)

    lines += [
        "## Generated warehouses",
        "",
        "| tickets | generated in (s) | of which deadlines (s) | warnings after it "
        "(s) | file (MB) | other tables (rows) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in sizes:
        b = s["build"]
        other = ", ".join(
            f"{t} {n:,}"
            for t, n in sorted(b["tables"].items())
            if t
            not in (
                "tickets",
                "schema_version",
                "warehouse_meta",
                "load_log",
                "quarantine",
                "sla_rule",
            )
        )
        lines.append(
            f"| {s['tickets']:,} | {b['seconds']:.1f} | "
            f"{b['deadline_seconds']:.1f} | "
            + ("–" if b.get("warnings_seconds") is None
               else f"{b['warnings_seconds']:.1f}")
            + f" | {b['file_bytes'] / 2**20:,.0f} | "
            f"{other} |"
        )
    if not any("residents" in s["build"]["tables"] for s in sizes):
        lines += [
            "",
            "Population, participation and ledger tables are not in the "
            "schema yet (their migration has not landed), so only tickets are "
            "generated; the harness fills them as soon as they exist.",
        ]
    lines.append("")

    load = results.get("load")
    if load:
        md = load["median"]
        lines += [
            f"## Load: {load['rows']:,}-row ticket CSV "
            f"({load['csv_bytes'] / 2**20:,.0f} MB), median of {load['repeats']}",
            "",
            "| step | median (s) | all rounds (s) | ÷ floor (file) |",
            "| --- | --- | --- | --- |",
        ]
        names = {
            "floor_file": "floor: `create table t as select * from read_csv(file)`, "
            "fresh file",
            "floor_memory": "floor, in memory",
            "load": "`load_files` into a fresh warehouse",
            "reload": "reload of the same file (all unchanged)",
        }
        for k, label in names.items():
            rounds = ", ".join(f"{t:.2f}" for t in load["times"][k])
            lines.append(
                f"| {label} | {md[k]:.2f} | {rounds} | {md[k] / md['floor_file']:.2f} |"
            )
        ok = load["ratio_load"] <= 1.5
        lines += [
            "",
            f"Target (issue 2): load ≤ 1.5 × floor. Measured "
            f"**{load['ratio_load']:.2f}×** ({_verdict(ok)}"
            + ("" if ok else f", by {load['ratio_load'] / 1.5 - 1:.0%}")
            + f"); reload {load['ratio_reload']:.2f}×; load vs the in-memory floor "
            f"{load['ratio_load_vs_memory']:.2f}×. Rows loaded {load['inserted']:,}, "
            f"quarantined {load['quarantined']:,}.",
            "",
        ]

    cli = results.get("load_cli")
    if cli:
        md = cli["median"]
        lines += [
            f"### Whole processes, median of {cli['repeats']}",
            "",
            "`python -m pipelines load tickets FILE` against a Python script that imports "
            "duckdb and runs the same `read_csv` into a fresh file, each a child process, "
            "alternating; CPU is user + system time of the child (`getrusage`).",
            "",
            "| process | wall median (s) | CPU median (s) | wall, all rounds (s) |",
            "| --- | --- | --- | --- |",
        ]
        for k, label in (("floor", "bare `read_csv` script"), ("cli", "CLI load")):
            rounds = ", ".join(f"{t:.2f}" for t in cli["times"][f"{k}_wall"])
            lines.append(f"| {label} | {md[k + '_wall']:.2f} | {md[k + '_cpu']:.2f} "
                         f"| {rounds} |")
        lines += [
            "",
            f"Target (issue 18): ≤ 1.5× whole process. Measured **{cli['ratio_wall']:.2f}×** "
            f"wall ({_verdict(cli['ratio_wall'] <= 1.5)}), {cli['ratio_cpu']:.2f}× CPU.",
            "",
        ]
    update = sizes[-1].get("update") if sizes else None
    if update:
        md = update["median"]
        lines += [
            f"## Update: {update['rows']:,} tickets into {sizes[-1]['tickets']:,} "
            f"({update['warehouse_bytes'] / 2**20:,.0f} MB), median of {update['repeats']}",
            "",
            "The CLI loads the same file into a copy of the largest warehouse (its first "
            "tickets, all changed) and into an empty one, alternating: with the standby "
            "copy a previous write leaves ready (`pipelines.standby`), and without it (the "
            "write copies the file itself, as after a restore). A load appends its changes "
            "to the summary marts' pending rows (migration 0021); the one that finds "
            f"{derived.PENDING_MERGE_ROWS:,} of them (about one in 25 such loads) merges "
            "them: measured on a copy given one row less.",
            "",
            "| into | wall median (s) | CPU median (s) |",
            "| --- | --- | --- |",
            f"| an empty warehouse | {md['empty_wall']:.2f} | {md['empty_cpu']:.2f} |",
            f"| {sizes[-1]['tickets']:,} tickets, standby ready | {md['update_wall']:.2f} "
            f"| {md['update_cpu']:.2f} |",
            f"| {sizes[-1]['tickets']:,} tickets, standby ready, merging | "
            f"{md['merging_wall']:.2f} | {md['merging_cpu']:.2f} |",
            f"| {sizes[-1]['tickets']:,} tickets, no standby | {md['cold_wall']:.2f} "
            f"| {md['cold_cpu']:.2f} |",
            "",
            f"Target (issue 18): ≤ 1.5×. Measured {_update_ratios(update)} "
            f"({_verdict(update['ratio_wall'] <= 1.5)} on wall time).",
        ]
        if update["standby_ready"]:
            lines.append(
                f"The next standby was ready {min(update['standby_ready']):.2f}–"
                f"{max(update['standby_ready']):.2f} s after each update ended; one costs "
                f"{min(update['standby_cpu']):.2f}–{max(update['standby_cpu']):.2f} s of "
                "CPU, in the background.")
        recent = sizes[-1].get("update_recent")
        if recent:
            rd = recent["median"]
            lines += [
                "",
                "A center's regular update, measured the same way: the 1,000 newest "
                "tickets again in their latest state, each updated an hour after its "
                "last step, the open ones closed (`generate.write_recent_update_csv`). "
                f"Medians: empty {rd['empty_wall']:.2f} s, {sizes[-1]['tickets']:,} "
                f"tickets {rd['update_wall']:.2f} s (merging {rd['merging_wall']:.2f} s, "
                f"no standby {rd['cold_wall']:.2f} s). Measured {_update_ratios(recent)} "
                f"({_verdict(recent['ratio_wall'] <= 1.5)} on wall time).",
            ]
        lines.append("")

    lines += [
        "## Query paths: server time per call",
        "",
        f"Each function called {results['calls']} times per size through "
        "`warehouse.Reader` with varied filters, after one warm-up call. "
        "Targets (issue 8) apply at 10M tickets: wall views ≤ 100 ms p95, explorer "
        "callbacks ≤ 150 ms p95; exports (one report for one period) have no target. "
        'A streamed download ("download start") is timed to its first rows, '
        "against the explorer's 150 ms; its whole stream is in the table of "
        "streamed downloads below.",
        "",
    ]
    busy = [f"{s['label']} {s['loadavg_after']}" for s in sizes if "loadavg_after" in s]
    if busy:
        lines += [
            f"Machine load (1-minute load average on {m['nproc']} cores) after "
            f"each size: {', '.join(busy)}.",
            "",
        ]
    lines += _functions_table(sizes)
    if any(f.get("remeasured") for s in sizes for f in s["serve"]["functions"]):
        lines += [
            "",
            "† Re-measured in a separate process after the run (same generator, same "
            "clock, same number of calls, at the time given in results.json): the "
            "harness could not yet build the people explorer's filter objects when "
            "the run reached those functions.",
        ]
    streams = _streams_table(sizes)
    if streams:
        lines += [
            "",
            "### Streamed downloads: first rows and the whole stream",
            "",
            "Each call's stream is read to its last record batch, as the download "
            "route reads it (the route's CSV encoding is not timed). The whole "
            "stream has no target: its time grows with the rows "
            "it writes (up to a whole month of tickets per call), so it is left out "
            "of the cost-growth verdict; rows per second are all calls' rows over "
            "all calls' time.",
            "",
            *streams,
        ]
    lines += [
        "",
        "## Against the pandas way",
        "",
        "The same five questions asked of all tickets held in one pandas "
        "DataFrame (filtered and grouped per callback) and of the warehouse in "
        "SQL, in the same run.",
        "",
    ]
    lines += _baseline_table(sizes)

    lines += [
        "",
        "## Memory",
        "",
        "| tickets | serving process peak RSS (MB) | RSS before → after "
        "refreshes (MB) | refreshes (scope) | pandas process peak RSS (MB) | "
        "DataFrame (MB) | pandas: load all tickets (s) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in sizes:
        mem, p = s["serve"]["memory"], s["pandas"]
        lines.append(
            f"| {s['tickets']:,} | {mem['peak_rss_mb']:,.0f} | "
            f"{mem['rss_before_refreshes_mb']:,.0f} → "
            f"{mem['rss_after_refreshes_mb']:,.0f} "
            f"| {mem['refreshes']:,} ({mem['refresh_scope']}; "
            f"{mem['refresh_mean_ms']:.0f} ms each) | {p['peak_rss_mb']:,.0f} | "
            f"{p['frame_mb']:,.0f} | {p['load_s']:.1f} |"
        )

    series = _series(sizes)
    chart = out.with_name(CHART_NAME)
    chart.write_text(chart_svg(series), encoding="utf-8")
    lines += [
        "",
        "## Cost against size",
        "",
        f"![cost against size]({CHART_NAME})",
        "",
        "| series | " + " | ".join(s["label"] for s in sizes) + " |",
        "|" + " --- |" * (len(sizes) + 1),
    ]
    for name, pts in series.items():
        lines.append(f"| {name} (ms) | " + " | ".join(_ms(y) for _, y in pts) + " |")

    lines += ["", "## Pages", ""]
    pages = next((s.get("pages") for s in reversed(sizes) if s.get("pages")), None)
    if not pages or "pending" in pages:
        why = (pages or {}).get("pending", "not run (--no-pages)")
        lines += [
            "**Pending: wall and explorer pages.** First full render of `/wall` and "
            "`/explore` in headless Chromium and bytes per refresh are measured by "
            f"`benchmarks/pagebench.py` once those pages exist. This run: {why}.",
            "",
        ]
    else:
        lines += [
            "| page | first full render (s) | bytes on first render (requests) | "
            "no data change: requests, bytes per second | after a data change: "
            "redraw callbacks, their bytes |",
            "| --- | --- | --- | --- | --- |",
        ]
        for page, r in pages.items():
            lines.append(
                f"| `{page}` | {r['render_s']:.2f} | {r['first_bytes']:,} "
                f"({r['first_requests']}) | {r['idle_requests']} in "
                f"{r['watch_s']:.0f} s, "
                f"{r['idle_bytes'] / r['watch_s']:,.0f} B/s | {r['redraw_requests']}, "
                f"{r['redraw_bytes']:,} B |"
            )
        lines += [
            "",
            "Measured at the largest size, polling every second (`?poll=1`; "
            "the wall's default is 30 s). A data change is a real write through "
            "`warehouse.writer` (copy, data version + 1, atomic swap).",
        ]
        lines.append("")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n" + _hand_sections(out), encoding="utf-8")


def _hand_sections(out: Path) -> str:
    """The hand-measured part of the report at `out` (from HAND_MARKER on), if any."""
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    at = old.find(HAND_MARKER)
    return "\n" + old[at:] if at >= 0 else ""
