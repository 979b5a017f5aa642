"""Command line: python -m pipelines demo | load | export | scheduler | status | migrate | check.

Exit status: 0 done, 2 bad input (unreadable file, missing columns, bad mapping, a data
check of severity error: nothing changed), 1 any other failure (also nothing changed);
`check`: 1 when a check of severity error finds rows.
"""

from __future__ import annotations

import argparse
import glob
import logging
import sys
from pathlib import Path

from pipelines import checks, exports, privacy, warehouse
from pipelines.errors import LoadError
from pipelines.settings import load_settings
from pipelines.sources import MAP_SOURCE, SOURCES

logger = logging.getLogger("pipelines")


def _expand(patterns: list[str]) -> list[Path]:
    """Expand globs ourselves so quoted patterns work from cron. A file that exists is
    taken literally: `tickets[1].csv` is that file, never the pattern matching tickets1.csv."""
    paths: list[Path] = []
    for pattern in patterns:
        literal = Path(pattern).exists() or not glob.has_magic(pattern)
        matches = [pattern] if literal else sorted(glob.glob(pattern))
        if not matches:
            raise LoadError(f"{pattern}: no file matches")
        paths.extend(Path(m) for m in matches)
    return paths


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__)
    parser.add_argument("--db", type=Path, help="warehouse file (default: WALL_DB or data/)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, dest="sub_db", help=argparse.SUPPRESS)

    demo = sub.add_parser("demo", parents=[common], help="write demo input files (and load them with --load)")
    demo.add_argument("--out", type=Path, required=True, help="folder for the files")
    demo.add_argument("--seed", type=int, default=20261123)
    demo.add_argument("--years", type=int, default=2)
    demo.add_argument("--load", action="store_true", help="then load them into the warehouse")

    load = sub.add_parser(
        "load", parents=[common], help="load input files of one source",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="sources (docs/data-contract.md), in the order references load:\n"
        + "\n".join(f"  {s.name:<16} {s.description}" for s in SOURCES.values())
        + f"\n  {MAP_SOURCE:<16} the map: a GeoJSON file of communities, grids and "
          "compounds (docs/kiosk.md)")
    # ledger-balances and ledger_balances both work: people type hyphens
    load.add_argument("source", type=lambda name: name.replace("-", "_"),
                      choices=sorted([*SOURCES, MAP_SOURCE]), help="a source listed above")
    load.add_argument("files", nargs="+", help="files or glob patterns")
    load.add_argument("--mapping", type=Path, help="TOML mapping from another system's columns")
    load.add_argument("--encoding", help="CSV encoding (default: detect UTF-8 or GB18030)")
    load.add_argument("--quiet", action="store_true", help="no progress bar")

    sub.add_parser("status", parents=[common], help="print tables, row counts and the last loads")
    sub.add_parser("migrate", parents=[common], help="create or upgrade the warehouse schema")
    sub.add_parser("check", parents=[common],
                   help="run every data check on the warehouse (exit 1 on errors)")
    exports.add_parsers(sub, common)  # export, scheduler: pipelines/exports.py
    return parser


def _check(settings) -> int:
    """Print each finding of every data check; 1 when one of severity error found rows."""
    con = warehouse.connect_read_only(settings.db_path)
    try:
        found = checks.run_all(con)
    finally:
        con.close()
    for finding in found:
        print(finding.message())
    errors = sum(f.check.severity == "error" for f in found)
    print(f"{len(checks.all_checks())} checks: {errors} error(s), "
          f"{len(found) - errors} warning(s)")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    db = getattr(args, "sub_db", None) or args.db
    try:
        settings = load_settings(db_path=db)
    except ValueError as e:  # a setting that does not parse (WALL_SLA, WALL_TICKER_TEXT)
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        # The loader, the demo's generator and the map's shapely are imported by the
        # commands that use them: `export --due` from cron pays for none of them.
        if args.command == "demo":
            from pipelines import bootstrap

            files = bootstrap.write_demo_inputs(args.out, seed=args.seed, years=args.years)
            for name, path in files.items():
                print(f"{name}: {path}")
            if args.load:
                for report in bootstrap.load_demo_inputs(settings, files):
                    print(report.summary())
        elif args.command == "load" and args.source == MAP_SOURCE:
            from pipelines import geo

            if len(args.files) != 1:
                raise LoadError("the map is one GeoJSON file")
            print(geo.load_geo(settings, _expand(args.files)[0]).summary())
        elif args.command == "load":
            from pipelines.loader import load_files

            reports = load_files(settings, args.source, _expand(args.files), args.mapping,
                                 args.encoding, progress=False if args.quiet else None)
            for report in reports:
                print(report.summary())
                if report.quarantined:
                    print("\n".join(["quarantined:", *report.quarantine_lines()]))
            if any(r.quarantined for r in reports):
                print(f"every quarantined row, with its line and reason: table `quarantine` "
                      f"(load {reports[0].load_id}), shown on the status page (/)")
        elif args.command == "status":
            from pipelines import bootstrap

            print(bootstrap.status_text(settings))
        elif args.command == "migrate":
            # a new schema changes no figure: walls and caches keep their data version
            with warehouse.writer(settings, bump_version=False):
                pass
            print(f"{settings.db_path}: schema version {warehouse.SCHEMA_VERSION}")
        elif args.command == "check":
            return _check(settings)
        elif args.command in ("export", "scheduler"):
            return exports.command(args, settings)
    except LoadError as e:
        # a reader's or DuckDB's message may quote a cell: the cron log keeps it masked
        print(f"error: {privacy.mask_text(str(e))}", file=sys.stderr)
        return 2
    except warehouse.WarehouseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
