"""Every explorer summary the marts answer, against the tickets: `python -m
benchmarks.summary_equality --db FILE --now ISO` (read only).

The explorer asks for the time presets (dashboards/_explore_state.PRESETS) and the
default last 90 days, judged at the clock or at a pinned `asof`, with no filter,
categories and levels (alone and together: the marts' filters since migration 0022;
a community filter reads the tickets). For each, the summary read from the marts
(`_summary_from_marts`) is compared with the one counted from the tickets
(explore__summary.sql); prints the number of summaries, of differences and of
fallbacks (a median between two 0.1-h buckets).

`--cpu N`: instead, CPU time per summary (DuckDB at one thread) of N new 90-day
windows (each ending a day earlier), unfiltered and for one community, and of the
presets, as served (`ticket_summary`: the marts where they are cheaper) and from the
tickets, alternately (p50 / p95 ms).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import statistics
import time
from pathlib import Path

import duckdb
import pandas as pd

from dashboards._explore_state import PRESETS, preset_window
from pipelines.metrics.compute import data_cutoff
from pipelines.queries import explore as q


def _top(con: duckdb.DuckDBPyConnection, column: str, n: int) -> tuple:
    """The `n` values of `column` with the most tickets."""
    return tuple(v for (v,) in con.execute(
        f"select {column} from tickets group by all order by count(*) desc, 1 "
        f"limit {n}").fetchall())


def filter_sets(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """No filter, then the largest values' filters, alone and combined."""
    cats = _top(con, "category", 2)
    return [{}, {"categories": cats[:1]}, {"categories": cats}, {"levels": (3,)},
            {"levels": (1, 2)}, {"categories": cats, "levels": (1, 3)}]


def windows(clock: dt.datetime, cutoff: dt.datetime) -> list[tuple[dt.date, dt.date]]:
    """The presets' dates at the cut-off, the default 90 days, a custom range."""
    out = [(w.start.date(), w.end.date())
           for w in (preset_window(p, cutoff) for p in PRESETS)]
    out.append((cutoff.date() - dt.timedelta(days=89), cutoff.date()))
    out.append((dt.date(clock.year, 1, 15), dt.date(clock.year, 3, 10)))
    return out


def cpu_per_summary(con: duckdb.DuckDBPyConnection, clock: dt.datetime, n: int) -> None:
    """Print CPU ms per summary, as served against from the tickets, asked alternately."""
    con.execute("set threads = 1")
    cutoff = data_cutoff(con, clock)
    community = {"communities": _top(con, "community", 1)}
    cases = {
        "new 90-day window, unfiltered": [
            q.TicketFilters(cutoff.date() - dt.timedelta(days=89 + k),
                            cutoff.date() - dt.timedelta(days=k)) for k in range(n)],
        "new 90-day window, one community": [
            q.TicketFilters(cutoff.date() - dt.timedelta(days=89 + k),
                            cutoff.date() - dt.timedelta(days=k), **community)
            for k in range(n)],
        "the presets, unfiltered": [q.TicketFilters(a, b) for a, b in windows(clock, cutoff)],
    }
    for name, asked in cases.items():
        spent: dict[bool, list[float]] = {True: [], False: []}
        for f in asked:
            for from_marts in (True, False):
                c0 = time.process_time()
                q.ticket_summary(con, f, now=clock, from_marts=from_marts)
                spent[from_marts].append((time.process_time() - c0) * 1000)
        for from_marts, ms in spent.items():
            ms.sort()
            print(f"{name}, {'served' if from_marts else 'tickets'}: "
                  f"p50 {statistics.median(ms):.1f} ms, "
                  f"p95 {ms[min(len(ms) - 1, int(0.95 * len(ms)))]:.1f} ms CPU "
                  f"({len(ms)} summaries)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--now", required=True, help="the data's clock, ISO")
    parser.add_argument("--cpu", type=int, default=0, help="time N windows instead")
    args = parser.parse_args(argv)
    clock = dt.datetime.fromisoformat(args.now).replace(second=0, microsecond=0)
    con = duckdb.connect(str(args.db), read_only=True)
    if args.cpu:
        cpu_per_summary(con, clock, args.cpu)
        return 0
    cutoff = data_cutoff(con, clock)
    # the clock (to the minute, as the page asks), later the same day, a pinned asof
    nows = [clock, clock + dt.timedelta(hours=5, minutes=7),
            clock - dt.timedelta(days=40, hours=2, minutes=33)]
    total = differences = fallbacks = 0
    for now, (first, last), f in itertools.product(nows, windows(clock, cutoff),
                                                   filter_sets(con)):
        filters = q.TicketFilters(date_from=first, date_to=last, **f)
        scan = q.ticket_summary(con, filters, now=now, from_marts=False)
        marts = q._summary_from_marts(
            con, filters, q.summary_windows(filters, now, data_cutoff(con, now)))
        total += 1
        if marts is None:
            fallbacks += 1
            continue
        try:
            pd.testing.assert_frame_equal(scan.drop(columns=["is_partial", "label_zh",
                                                             "label_en"]), marts)
        except AssertionError as e:
            differences += 1
            print(f"DIFFERENT now={now} {first}..{last} {f}: {e}")
    print(f"{total} summaries, {differences} different, {fallbacks} from the tickets "
          "(median between two buckets)")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
