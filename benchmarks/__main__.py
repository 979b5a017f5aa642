"""Benchmark harness: `python -m benchmarks run [--sizes 100k,1m,10m] [--out FILE]`.

Subcommands `serve` and `pandas` are the child processes `run` starts, one per size.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import tempfile
from pathlib import Path

logger = logging.getLogger("benchmarks")


def _now(text: str | None) -> dt.datetime:
    if text:
        return dt.datetime.fromisoformat(text)
    return dt.datetime.now().replace(second=0, microsecond=0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run every benchmark and write the report")
    run.add_argument(
        "--sizes",
        default="100k,1m",
        help="tickets per warehouse, comma-separated (default 100k,1m; "
        "the full run is 100k,1m,10m)",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="markdown report to write, e.g. docs/benchmarks.md "
        "(default: print where the results are)",
    )
    run.add_argument(
        "--load-rows",
        default="1m",
        help="rows of the ticket CSV for the load benchmark; 0 skips it",
    )
    run.add_argument("--repeats", type=int, default=3, help="load rounds (median)")
    run.add_argument("--calls", type=int, default=40, help="calls per query (p50/p95)")
    run.add_argument(
        "--refreshes", type=int, default=1000, help="wall refreshes for memory growth"
    )
    run.add_argument("--no-pages", action="store_true", help="skip the browser")
    run.add_argument(
        "--page-watch",
        type=float,
        default=10,
        help="seconds to watch each page for refresh traffic",
    )
    run.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="scratch folder (default: a new temp folder)",
    )
    run.add_argument("--keep", action="store_true", help="keep warehouses and the CSV")
    run.add_argument("--now", help="the data's clock, ISO (default: now)")
    cpu = sub.add_parser("cpu", help="CPU time per call of the query functions (a "
                         "fair measure on a shared machine)")
    cpu.add_argument("--db", type=Path, required=True, help="warehouse (read only)")
    cpu.add_argument("--now", required=True, help="the data's clock, ISO")
    cpu.add_argument("--calls", type=int, default=20, help="calls per function")
    cpu.add_argument("--threads", type=int, default=1, help="DuckDB threads")
    cpu.add_argument("--only", default=".", help="regex on module.function(view=...)")
    again = sub.add_parser("report", help="write the report again from a results.json")
    again.add_argument("results", type=Path, help="results.json of a run")
    again.add_argument("--out", type=Path, required=True)
    for name in ("serve", "pandas"):
        child = sub.add_parser(name, help=argparse.SUPPRESS)
        child.add_argument("--db", type=Path, required=True)
        child.add_argument("--now", required=True)
        child.add_argument("--calls", type=int, default=40)
        child.add_argument("--json", type=Path, required=True)
        if name == "serve":
            child.add_argument("--refreshes", type=int, default=1000)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("pipelines").setLevel(logging.ERROR)
    from benchmarks import querybench

    if args.command == "serve":
        result = querybench.serve_queries(
            args.db, _now(args.now), args.calls, args.refreshes
        )
        querybench.write_json(result, args.json)
        return 0
    if args.command == "pandas":
        querybench.write_json(
            querybench.pandas_queries(args.db, _now(args.now), args.calls), args.json
        )
        return 0

    if args.command == "cpu":
        for r in querybench.cpu_per_call(args.db, _now(args.now), args.calls,
                                         args.threads, args.only):
            print(f"{r['function']:48s} {r['p50']:7.1f} {r['p95']:7.1f} ms CPU (p50, p95)")
        return 0
    if args.command == "report":
        import json

        from benchmarks import report

        report.write(json.loads(args.results.read_text(encoding="utf-8")), args.out)
        return 0

    from benchmarks.run import parse_size, run

    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    load_rows = parse_size(args.load_rows)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="benchmarks-"))
    run(
        sizes,
        args.out,
        workdir,
        load_rows or None,
        args.repeats,
        args.calls,
        args.refreshes,
        not args.no_pages,
        args.keep,
        _now(args.now),
        page_watch=args.page_watch,
    )
    print(
        f"results: {workdir / 'results.json'}"
        + (f"; report: {args.out}" if args.out else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
