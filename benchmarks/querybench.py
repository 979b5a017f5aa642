"""Query paths: the product's query functions against the pandas way, per size.

Two measurements, each run in its own process so that its peak memory is its own
(`python -m benchmarks serve|pandas`, started by `benchmarks.run`):

- `serve_queries`: every public query function in `pipelines/queries/*.py` (found by
  introspection: any function whose first parameter is `con`), called through
  `warehouse.Reader` as the app calls it, with filters varied per call from
  `PARAM_VALUES` below. A function needing a parameter this table does not know is
  listed as skipped, with the parameter's name: add it here (or, for an input that is
  another query's answer, to `PREPARED`). Then the same SQL as the
  pandas baseline's queries (`BASELINE`), and 1,000 wall refreshes to see memory grow.
- `pandas_queries`: "the way most Dash dashboards are built": every ticket in one
  DataFrame held in memory, filtered and grouped per callback (`BASELINE`).

Timings are server-side: from the call to the last row in Python (Arrow tables,
DataFrames and row lists are all fully materialised by the query layer). A function
that returns a stream (an Arrow record batch reader: a CSV download) is timed to its
first record batch, what the analyst waits for before the file starts; the stream is
then read to its end, and that whole-stream time is kept apart (`entry["stream"]`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import inspect
import json
import logging
import pkgutil
import re
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent

# Which page or job each query module serves, and its p95 target at 10M tickets (ms).
OWNERS = {
    "wall": ("wall view", 100),
    "explore": ("explorer callback", 150),
    "explorer": ("explorer callback", 150),
    "exports": ("export", None),
    "serving": ("app health", None),
    "status": ("status page", None),
    "warnings": ("explorer callback", 150),  # /explore/warnings
}
# A function returning a stream serves a download: the analyst waits for its first rows
# as for an explorer callback. The whole stream has no target: it grows with its rows.
STREAM_OWNER = ("download start", 150)


# ---------------------------------------------------------------- parameter values
class Context:
    """What parameter generators draw from: the warehouse's clock and dimensions."""

    def __init__(self, con, now: dt.datetime):
        self.con = con
        self.now = now
        self.today = now.date()
        self.communities = [
            r[0]
            for r in con.execute(
                "select distinct community from tickets order by 1"
            ).fetchall()
        ]
        self.compounds = [
            r[0]
            for r in con.execute(
                "select distinct compound from tickets "
                "where compound is not null order by 1"
            ).fetchall()
        ]
        self.categories = [
            r[0]
            for r in con.execute(
                "select distinct category from tickets order by 1"
            ).fetchall()
        ]
        self.tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = current_database()"
            ).fetchall()
        }
        first = dt.date(self.today.year, self.today.month, 1)
        self.months = [_add_months(first, -k) for k in range(12)]

    def period(self, k: int) -> tuple[dt.date, dt.date]:
        """Call k's period: today, the last 7 days, this month, or an earlier month."""
        kind = k % 4
        if kind == 0:
            return self.today, self.today
        if kind == 1:
            return self.today - dt.timedelta(days=6), self.today
        month = self.months[0 if kind == 2 else 1 + k % 11]
        return month, _add_months(month, 1) - dt.timedelta(days=1)

    def community(self, k: int) -> str | None:
        """No filter on even calls, one community on odd ones."""
        return None if k % 2 == 0 else self.communities[(k * 7) % len(self.communities)]


def _add_months(day: dt.date, n: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


# parameter name -> value for call k. One table: extend it when a query takes a new one.
PARAM_VALUES: dict[str, Callable[[Context, int, Any], Any]] = {
    "now": lambda c, k, m: c.now,
    "as_of": lambda c, k, m: c.now,
    "today": lambda c, k, m: c.today,
    "day": lambda c, k, m: c.today - dt.timedelta(days=k % 30),
    "on": lambda c, k, m: c.today - dt.timedelta(days=k % 30),
    "month": lambda c, k, m: c.months[k % 12],
    "date_from": lambda c, k, m: c.period(k)[0],
    "date_to": lambda c, k, m: c.period(k)[1],
    "community": lambda c, k, m: c.community(k),
    "compound": lambda c, k, m: (
        None if k % 4 != 3 else c.compounds[k % len(c.compounds)]
    ),
    "category": lambda c, k, m: None if k % 3 else c.categories[k % len(c.categories)],
    "level": lambda c, k, m: 1 + k % 4,
    "levels": lambda c, k, m: [[1, 2, 3, 4], [3, 4], [1], [2, 3, 4]][k % 4],
    "limit": lambda c, k, m: 50,
    "response_hours": lambda c, k, m: 6,
    "small_count": lambda c, k, m: 5,
    "table_name": lambda c, k, m: "tickets",
    "dimension": lambda c, k, m: (
        list(getattr(m, "DIMENSIONS", ())) or ["community", "compound"]
    )[k % len(getattr(m, "DIMENSIONS", ()) or [0, 0])],
    "ticket_id": lambda c, k, m: f"T{(k * 7919) % 1000:09d}",
    "grain": lambda c, k, m: ("day", "week", "month")[k % 3],
    "sort": lambda c, k, m: (
        f"{sorted(m.SORTS)[k % len(m.SORTS)]}:{('asc', 'desc')[k % 2]}"
        if hasattr(m, "SORTS")
        else None
    ),
    "settings": lambda c, k, m: _default_settings(),
    "clock": lambda c, k, m: m.Clock.at(c.now),
    "key_groups": lambda c, k, m: _key_groups()[: 1 + k % 3],
    "year": lambda c, k, m: c.today.year,
    "communities": lambda c, k, m: () if c.community(k) is None else (c.community(k),),
    "tables": lambda c, k, m: c.tables,
    "breakdown": lambda c, k, m: _breakdown(m, k),
}

# A required parameter must not be None: the value used instead.
REQUIRED_VALUES: dict[str, Callable[[Context, int], Any]] = {
    "community": lambda c, k: c.communities[k % len(c.communities)],
    "compound": lambda c, k: c.compounds[k % len(c.compounds)],
}

# Fields of a filter dataclass (the explorer's TicketFilters, PeopleFilters, ...).
FILTER_FIELDS: dict[str, Callable[[Context, int], Any]] = {
    "date_from": lambda c, k: c.period(k)[0],
    "date_to": lambda c, k: c.period(k)[1],
    "communities": lambda c, k: () if c.community(k) is None else (c.community(k),),
    "levels": lambda c, k: ((), (3, 4), (), (1,))[k % 4],
    "categories": lambda c, k: () if k % 3 else (c.categories[k % len(c.categories)],),
}

# Parameters holding the page's filters (a dataclass of the module, or the wall's dict).
FILTER_PARAMS = ("filters", "f")

# Functions taking **kwargs: measured with the parameters of the function named here.
KWARGS_LIKE = {"explore.population_table": "population_cells"}


def _summary_a_minute_ago(c: Context, k: int, module) -> dict:
    """summary_moved's inputs for call k: the view's filters and the summary of them
    judged a minute before the clock, as the app stored it (not timed)."""
    filters = _filters(c, k, module, "TicketFilters")
    judged_at = c.now - dt.timedelta(minutes=1)
    return {"filters": filters, "judged_at": judged_at,
            "frame": module.ticket_summary(c.con, filters, now=judged_at)}


# Functions whose inputs are another query's answer: the arguments of call k, made
# before the call is timed.
PREPARED = {"explore.summary_moved": _summary_a_minute_ago}


def _breakdown(module, k: int):
    """Call k's breakdown: every measure in turn, by one dimension, every other call a
    second one (a pivot), at the grains in turn."""
    measures, dims = list(module.BREAKDOWN_MEASURES), list(module.BREAKDOWN_BY)
    by = dims[k % len(dims)]
    by2 = None if k % 2 == 0 else dims[(k + 3) % len(dims)]
    return module.Breakdown(measure=measures[k % len(measures)], by=by,
                            by2=by2 if by2 != by else None,
                            grain=module.GRAINS[k % len(module.GRAINS)])


def _default_settings():
    from pipelines.settings import Settings

    return Settings()


def _key_groups() -> list[str]:
    from pipelines.settings import Settings, parse_key_groups

    return list(parse_key_groups(Settings().key_groups))


def _filters(c: Context, k: int, module, annotation: Any) -> Any:
    """A filter object of the parameter's annotated class (a dataclass of the module),
    else the wall's {"community": ...} dict."""
    name = str(annotation).split("|")[0].strip().strip("'\"")
    cls = getattr(module, name, None)
    if cls is not None and dataclasses.is_dataclass(cls):
        return cls(
            **{
                f.name: FILTER_FIELDS[f.name](c, k)
                for f in dataclasses.fields(cls)
                if f.name in FILTER_FIELDS
            }
        )
    return {} if c.community(k) is None else {"community": c.community(k)}


# A parameter whose values are a module's own list: one measured row per value
# ("every wall view", "every report").
EXPAND = {"view": "VIEWS", "report": "REPORTS"}

# Functions measured through others, with the reason shown in the report.
NOT_MEASURED = {
    "exports.report_table": "dispatcher by report name: the per-report functions are "
    "the same queries",
}


def query_functions() -> list[tuple[str, str, Callable]]:
    """(module, function name, function) of every public query function, sorted.

    A query function lives in a module of `pipelines.queries`, is defined there, and
    takes the connection (`con`) first.
    """
    import pipelines.queries as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"pipelines.queries.{info.name}")
        except Exception as e:  # noqa: BLE001 - a colleague's module mid-edit must not stop the run
            logger.warning("cannot import pipelines.queries.%s: %s", info.name, e)
            continue
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != module.__name__:
                continue
            params = list(inspect.signature(fn).parameters)
            if params and params[0] == "con":
                found.append((info.name, name, fn))
    return sorted(found, key=lambda t: (t[0], t[1]))


def users_of(name: str) -> list[str]:
    """Files under dashboards/, app.py and pipelines/exports.py that call `name`."""
    files = [
        *sorted((ROOT / "dashboards").glob("*.py")),
        ROOT / "app.py",
        ROOT / "pipelines" / "exports.py",
    ]
    pattern = re.compile(rf"\b{re.escape(name)}\s*\(")
    return [
        str(f.relative_to(ROOT))
        for f in files
        if f.is_file() and pattern.search(f.read_text(encoding="utf-8"))
    ]


def measured_calls(fn: Callable, module) -> list[dict]:
    """The fixed arguments of each row to measure for `fn`: one per value of an
    expanded parameter (a view, a report), else one row with none."""
    for p in list(inspect.signature(fn).parameters)[1:]:
        values = getattr(module, EXPAND.get(p, ""), None)
        if values:
            return [{p: v} for v in values]
    return [{}]


def call_args(
    fn: Callable, module, ctx: Context, k: int, fixed: dict | None = None
) -> tuple[dict, list[str]]:
    """Keyword arguments for call k of `fn`, and required parameters nobody knows."""
    kwargs, unknown = dict(fixed or {}), []
    key = f"{module.__name__.rsplit('.', 1)[-1]}.{fn.__name__}"
    if key in PREPARED:
        kwargs.update(PREPARED[key](ctx, k, module))
    like = KWARGS_LIKE.get(key)
    signature = inspect.signature(getattr(module, like) if like else fn)
    for p in list(signature.parameters.values())[1:]:
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.name in kwargs:
            continue
        if p.name in FILTER_PARAMS:
            kwargs[p.name] = _filters(ctx, k, module, p.annotation)
        elif p.name in REQUIRED_VALUES and p.default is p.empty:
            kwargs[p.name] = REQUIRED_VALUES[p.name](ctx, k)
        elif p.name in PARAM_VALUES:
            kwargs[p.name] = PARAM_VALUES[p.name](ctx, k, module)
        elif p.default is p.empty:
            unknown.append(p.name)
    report = getattr(module, "REPORTS", {}).get(kwargs.get("report"))
    if "dimension" in kwargs and getattr(report, "splits", None):
        kwargs["dimension"] = report.splits[k % len(report.splits)]
    return kwargs, unknown


def _summary(times_s: list[float]) -> dict:
    ms = np.array(times_s) * 1000
    return {
        "n": len(ms),
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "max": float(ms.max()),
    }


def _rss_mb() -> float:
    """Current resident memory in MB (Linux /proc), 0 when unknown."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return 0.0


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB.

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over fork and exec, so a
    child started by a large parent would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- the baseline queries
# The same five questions, once in SQL against the warehouse and once in pandas against
# a DataFrame of all tickets. p: day, month_start, month_end, as_of, community.
BASELINE_SQL = {
    "levels_today": """
        select level, count(*) as n from tickets
        where reported_at >= $day and reported_at < $day + interval 1 day
            and ($community is null or community = $community)
        group by level order by level""",
    "levels_month": """
        select level, count(*) as n from tickets
        where reported_at >= $month_start and reported_at < $month_end
            and ($community is null or community = $community)
        group by level order by level""",
    "closure_by_community": """
        select community, count(*) as ticket_count,
            count(*) filter (where closed_at <= $as_of) as closed,
            count(*) filter (where closed_at <= $as_of and closed_at <= deadline_at)
                as on_time,
            closed / ticket_count as closure_rate,
            on_time / nullif(closed, 0) as on_time_rate
        from tickets
        where reported_at >= $month_start and reported_at < $month_end
        group by community order by community""",
    "overdue_top50": """
        select ticket_id, community, level, category, reported_at, deadline_at
        from tickets
        where closed_at is null and deadline_at < $as_of
            and ($community is null or community = $community)
        order by deadline_at, ticket_id limit 50""",
    "category_counts": """
        select category, count(*) as n from tickets
        where reported_at >= $month_start and reported_at < $month_end
            and ($community is null or community = $community)
        group by category order by n desc, category""",
}
_BASELINE_PARAMS = {
    "levels_today": ("day", "community"),
    "levels_month": ("month_start", "month_end", "community"),
    "closure_by_community": ("month_start", "month_end", "as_of"),
    "overdue_top50": ("as_of", "community"),
    "category_counts": ("month_start", "month_end", "community"),
}


def baseline_params(ctx: Context, k: int) -> dict:
    """Filters for call k of the baseline queries (the same in SQL and pandas)."""
    month = ctx.months[k % 12]
    day = ctx.today - dt.timedelta(days=k % 30)
    return {
        "day": dt.datetime.combine(day, dt.time()),
        "month_start": dt.datetime.combine(month, dt.time()),
        "month_end": dt.datetime.combine(_add_months(month, 1), dt.time()),
        "as_of": ctx.now,
        "community": ctx.community(k),
    }


def _pd_levels(df: pd.DataFrame, start, end, community) -> pd.DataFrame:
    mask = (df["reported_at"] >= start) & (df["reported_at"] < end)
    if community is not None:
        mask &= df["community"] == community
    return df.loc[mask].groupby("level").size().rename("n").reset_index()


def _pd_closure(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    month = df.loc[
        (df["reported_at"] >= p["month_start"]) & (df["reported_at"] < p["month_end"])
    ]
    closed = month["closed_at"] <= p["as_of"]
    out = pd.DataFrame(
        {
            "community": month["community"],
            "closed": closed,
            "on_time": closed & (month["closed_at"] <= month["deadline_at"]),
        }
    )
    g = out.groupby("community").agg(
        ticket_count=("closed", "size"),
        closed=("closed", "sum"),
        on_time=("on_time", "sum"),
    )
    g["closure_rate"] = g["closed"] / g["ticket_count"]
    g["on_time_rate"] = g["on_time"] / g["closed"].where(g["closed"] > 0)
    return g.reset_index()


def _pd_overdue(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    mask = df["closed_at"].isna() & (df["deadline_at"] < p["as_of"])
    if p["community"] is not None:
        mask &= df["community"] == p["community"]
    cols = ["ticket_id", "community", "level", "category", "reported_at", "deadline_at"]
    return df.loc[mask, cols].sort_values(["deadline_at", "ticket_id"]).head(50)


def _pd_categories(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    mask = (df["reported_at"] >= p["month_start"]) & (
        df["reported_at"] < p["month_end"]
    )
    if p["community"] is not None:
        mask &= df["community"] == p["community"]
    return (
        df.loc[mask]
        .groupby("category")
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["n", "category"], ascending=[False, True])
    )


BASELINE_PANDAS = {
    "levels_today": lambda df, p: _pd_levels(
        df, p["day"], p["day"] + dt.timedelta(days=1), p["community"]
    ),
    "levels_month": lambda df, p: _pd_levels(
        df, p["month_start"], p["month_end"], p["community"]
    ),
    "closure_by_community": _pd_closure,
    "overdue_top50": _pd_overdue,
    "category_counts": _pd_categories,
}


# ---------------------------------------------------------------- the two processes
def serve_queries(db: Path, now: dt.datetime, calls: int, refreshes: int) -> dict:
    """Time every query function and the baseline SQL through a Reader; then refreshes.

    Returns:
        {"functions": [...], "baseline_sql": {...}, "memory": {...}}.
    """
    from pipelines.warehouse import Reader

    started_rss = _rss_mb()
    reader = Reader(db)
    ctx = Context(reader.cursor(), now)
    results, calls_of = [], {}
    for module_name, name, fn in query_functions():
        module = importlib.import_module(f"pipelines.queries.{module_name}")
        owner, target = OWNERS.get(module_name, (module_name, None))
        dispatch = f"{module_name}.{name}" in NOT_MEASURED
        for fixed in [{}] if dispatch else measured_calls(fn, module):
            label = name + "".join(f"({k}={v})" for k, v in fixed.items())
            entry = {
                "module": module_name,
                "function": label,
                "owner": owner,
                "target_ms": target,
                "used_by": users_of(name),
            }
            results.append(entry)
            if f"{module_name}.{name}" in NOT_MEASURED:
                entry["skipped"] = NOT_MEASURED[f"{module_name}.{name}"]
                continue
            _, unknown = call_args(fn, module, ctx, 0, fixed)
            if unknown:
                entry["skipped"] = f"no value for parameter(s) {', '.join(unknown)}"
                continue
            times, totals, rows_of, cpu = [], [], [], []
            try:
                for k in range(calls + 1):  # call 0 warms up (parses SQL, fills caches)
                    kwargs, _ = call_args(fn, module, ctx, k, fixed)
                    c0 = time.process_time()
                    first, total, rows = timed_call(fn, reader.cursor(), kwargs)
                    if k:
                        # CPU of every thread of the process: what other people's work
                        # on a shared machine moves far less than the wall time
                        cpu.append(time.process_time() - c0)
                        times.append(first)
                        rows_of.append(rows)
                        if total is not None:
                            totals.append(total)
            except Exception as e:  # noqa: BLE001 - report and go on: one broken query must not hide others
                entry["skipped"] = (
                    f"failed: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
                )
                continue
            entry.update(_summary(times), rows=rows,
                         cpu={k: v for k, v in _summary(cpu).items() if k != "n"})
            if totals:
                entry.update(
                    owner=STREAM_OWNER[0],
                    target_ms=STREAM_OWNER[1],
                    stream=stream_summary(totals, rows_of),
                )
            calls_of[(module_name, label)] = (fn, module, fixed)

    baseline = {}
    for qname, sql in BASELINE_SQL.items():
        times = []
        for k in range(calls + 1):
            p = baseline_params(ctx, k)
            p = {key: p[key] for key in _BASELINE_PARAMS[qname]}
            t0 = time.perf_counter()
            reader.cursor().sql(sql, params=p).to_arrow_table()
            if k:
                times.append(time.perf_counter() - t0)
        baseline[qname] = _summary(times)

    # wall refreshes: what a wall page calls per refresh (the wall functions a
    # dashboards/ module uses; all wall functions if none does yet; before the wall
    # exists, every measured query function)
    wall = [
        (key, r)
        for r in results
        if (key := (r["module"], r["function"])) in calls_of and r["module"] == "wall"
    ]
    used = [
        key for key, r in wall if any(u.startswith("dashboards/") for u in r["used_by"])
    ]
    refresh_keys = used or [key for key, _ in wall] or list(calls_of)
    scope = (
        "wall functions used by pages"
        if used
        else "all wall functions"
        if wall
        else "all measured query functions"
    )
    before = _rss_mb()
    t0 = time.perf_counter()
    for k in range(refreshes):
        for key in refresh_keys:
            fn, module, fixed = calls_of[key]
            fn(reader.cursor(), **call_args(fn, module, ctx, k, fixed)[0])
    refresh_s = time.perf_counter() - t0
    after = _rss_mb()
    return {
        "functions": results,
        "baseline_sql": baseline,
        "memory": {
            "start_rss_mb": started_rss,
            "peak_rss_mb": _peak_rss_mb(),
            "refreshes": refreshes,
            "refresh_scope": scope,
            "rss_before_refreshes_mb": before,
            "rss_after_refreshes_mb": after,
            "refresh_mean_ms": 1000 * refresh_s / max(1, refreshes),
        },
    }


def cpu_per_call(db: Path, now: dt.datetime, calls: int, threads: int = 1,
                 only: str = ".") -> list[dict]:
    """CPU time per call (ms, p50/p95/max) of every query function whose label
    ("module.function(view=...)") matches the regex `only`, DuckDB at `threads` threads.

    On a shared machine other people's work moves wall time far more than the CPU a
    single-threaded call spends; the arguments vary per call as in `serve_queries`,
    after one warm-up call.
    """
    from pipelines.warehouse import Reader

    reader = Reader(db)
    reader.cursor().execute(f"set threads = {int(threads)}")
    ctx = Context(reader.cursor(), now)
    pattern, found = re.compile(only), []
    for module_name, name, fn in query_functions():
        module = importlib.import_module(f"pipelines.queries.{module_name}")
        if f"{module_name}.{name}" in NOT_MEASURED:
            continue
        for fixed in measured_calls(fn, module):
            label = f"{module_name}.{name}" + "".join(f"({k}={v})" for k, v in fixed.items())
            if not pattern.search(label) or call_args(fn, module, ctx, 0, fixed)[1]:
                continue
            cpu = []
            for k in range(calls + 1):
                kwargs, _ = call_args(fn, module, ctx, k, fixed)
                c0 = time.process_time()
                timed_call(fn, reader.cursor(), kwargs)
                if k:
                    cpu.append(time.process_time() - c0)
            found.append({"function": label, **_summary(cpu)})
    return found


def timed_call(fn: Callable, con, kwargs: dict) -> tuple[float, float | None, int]:
    """Call `fn(con, **kwargs)`: (seconds to its answer, seconds to the end of a stream
    or None, rows).

    The answer of a stream (anything with `read_next_batch`) is its first record batch;
    it is then read to its end, as a download would.
    """
    t0 = time.perf_counter()
    out = fn(con, **kwargs)
    if not hasattr(out, "read_next_batch"):
        return time.perf_counter() - t0, None, _row_count(out)
    try:
        rows = out.read_next_batch().num_rows
    except StopIteration:  # an empty stream: its end is its first answer
        rows = 0
    first = time.perf_counter() - t0
    rows += sum(batch.num_rows for batch in out)
    return first, time.perf_counter() - t0, rows


def stream_summary(totals_s: list[float], rows: list[int]) -> dict:
    """Whole-stream times (ms), rows per call and rows per second over all calls."""
    return {
        **_summary(totals_s),
        "rows_median": int(np.median(rows)),
        "rows_max": int(max(rows)),
        "rows_per_s": sum(rows) / max(sum(totals_s), 1e-9),
    }


def _row_count(out) -> int:
    for attr in ("num_rows", "shape"):
        if hasattr(out, attr):
            v = getattr(out, attr)
            return v[0] if isinstance(v, tuple) else int(v)
    try:
        return len(out)
    except TypeError:
        return 1


def pandas_queries(db: Path, now: dt.datetime, calls: int) -> dict:
    """Load every ticket into one DataFrame, then time the pandas baseline queries."""
    import duckdb

    from pipelines.warehouse import Reader

    ctx = Context(Reader(db).cursor(), now)
    t0 = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    # the whole table, as `pd.read_sql("select * from tickets", ...)` would give it
    df = con.execute("select * from tickets").df()
    con.close()
    load_s = time.perf_counter() - t0
    results = {}
    for qname, fn in BASELINE_PANDAS.items():
        times = []
        for k in range(calls + 1):
            p = baseline_params(ctx, k)
            t0 = time.perf_counter()
            fn(df, p)
            if k:
                times.append(time.perf_counter() - t0)
        results[qname] = _summary(times)
    return {
        "queries": results,
        "load_s": load_s,
        "frame_mb": float(df.memory_usage(deep=True).sum() / 2**20),
        "peak_rss_mb": _peak_rss_mb(),
        "rows": len(df),
    }


def write_json(result: dict, path: Path) -> None:
    """Write a result for the parent process."""
    Path(path).write_text(json.dumps(result, default=str, indent=1), encoding="utf-8")
