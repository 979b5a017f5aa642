"""Query layer for the analysts' explorer (/explore): one function per callback's data.

Entry points for pages, the CSV download route and the benchmark harness::

    f = TicketFilters(date_from=date(2026, 1, 1), date_to=date(2026, 3, 31),
                      communities=("龙塔社区",), levels=(3,))
    ticket_summary(con, f, now=datetime(2026, 4, 1))          # KPIs + comparisons
    ticket_trend(con, f, grain="week", now=...)               # tickets over time
    ticket_breakdown(con, f, dimension="category", now=...)   # one bar chart
    close_time_by_level(con, f, now=...)                      # median / p90 hours
    ticket_page(con, f, now=..., sort="reported_at:desc", start=0, end=50)
    ticket_detail(con, "T2025000001")                         # one ticket's timeline
    ticket_batches(con, f, now=..., sort=...)                 # streamed CSV

Every statement is a `sql/queries/explore__*.sql` file with `$params`. The filter
predicate is one shared fragment (`sql/fragments/explore_filters.sql`); the charted
dimension and the table's sort order are SQL fragments chosen from the allow-lists
DIMENSIONS and SORTS below. Nothing from a request is ever placed into SQL text: values
go in as bound parameters, names only select a constant from a dict.

"now" is a parameter of every function (default: local now in `Settings.timezone`,
`pipelines.settings.local_now`): closed, open and overdue are judged at that instant.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.metrics.catalog import METRICS, Metric
from pipelines.metrics.compute import data_cutoff
from pipelines.metrics.windows import Window, shift_periods
from pipelines.queries import QueryError, sql_text
from pipelines.settings import Settings, local_now

logger = logging.getLogger(__name__)

FRAGMENTS = Path(__file__).resolve().parent.parent / "sql" / "fragments"

# Chartable / filterable dimensions: URL key -> SQL expression over `tickets`.
DIMENSIONS: dict[str, str] = {
    "level": "level",
    "category": "category",
    "community": "community",
    "grid": "grid",
    "compound": "compound",
    "source": "source",
    "handler": "handler",
}

# Table sort keys: column -> SQL order expression; direction from SORT_DIRECTIONS.
SORTS: dict[str, str] = {
    "reported_at": "reported_at",
    "ticket_id": "ticket_id",
    "level": "level",
    "category": "category",
    "community": "community",
    "grid": "grid",
    "compound": "compound",
    "source": "source",
    "handler": "handler",
    "status": "status",
    "deadline_at": "deadline_at",
    "closed_at": "closed_at",
    "satisfaction": "satisfaction",
}
SORT_DIRECTIONS: dict[str, str] = {"asc": "asc", "desc": "desc"}
DEFAULT_SORT = "reported_at:desc"

# Table column filters (AG Grid filterModel): column -> parameter (substring match).
TEXT_FILTERS: dict[str, str] = {
    "ticket_id": "q_ticket_id",
    "category": "q_category",
    "community": "q_community",
    "grid": "q_grid",
    "compound": "q_compound",
    "description": "q_description",
}

GRAINS = ("day", "week", "month", "quarter", "year")
STATUSES = ("open", "closed", "overdue")
MAX_PAGE_ROWS = 500


@dataclass(frozen=True)
class TicketFilters:
    """The explorer's filters; an empty tuple means "no filter on this dimension".

    Dates are inclusive local dates of `reported_at`.
    """

    date_from: dt.date
    date_to: dt.date
    communities: tuple[str, ...] = ()
    grids: tuple[str, ...] = ()
    compounds: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()
    sources: tuple[str, ...] = ()
    handlers: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    def without(self, dimension: str) -> "TicketFilters":
        """The same filters with `dimension`'s own filter off (for its own chart)."""
        name = FILTER_FIELDS.get(dimension)
        return replace(self, **{name: ()}) if name else self

    def params(self, now: dt.datetime) -> dict[str, Any]:
        """Bound parameters of the shared filter fragment, dates and $now."""
        p: dict[str, Any] = {"date_from": self.date_from, "date_to": self.date_to,
                             "now": now}
        for f in fields(self):
            if f.name in ("date_from", "date_to"):
                continue
            value = getattr(self, f.name)
            p[f.name] = list(value) if value else None
        return p


# URL key / dimension -> TicketFilters field.
FILTER_FIELDS: dict[str, str] = {
    "community": "communities",
    "grid": "grids",
    "compound": "compounds",
    "category": "categories",
    "level": "levels",
    "source": "sources",
    "handler": "handlers",
    "status": "statuses",
}


# /*filters_at($x)*/, /*period_counts_at($x)*/ in a query file (its own text, not a request's)
_AT = re.compile(r"/\*(filters|period_counts)_at\((\$[a-z_]+)\)\*/")
# /*mart_counts(cur)*/ in explore__*_mart, /*changes_part(cur)*/ in
# explore__summary_changes: that part, with that period's prefix
_PERIOD_PART = re.compile(
    r"/\*(mart_tickets|mart_counts|mart_hours|changes_part)\((cur|prev|ly)\)\*/")
_PERIOD_PREFIXES = (("current", "cur"), ("previous", "prev"), ("last_year", "ly"))
# The filters the summary marts hold (migrations 0020, 0022), as SQL over them and
# `tickets`; any other filter reads the tickets. Only those in use are spliced: binding
# the unused ones cost CPU in every one of the query's 21 scans.
_MART_FILTERS = {"categories": "list_contains($categories, category)",
                 "levels": "list_contains($levels, level)"}
# The view's filters but status over `tickets` (explore__summary_changes): only those in
# use are spliced, as for the marts (binding the others cost 6 of its 15 ms at 10M).
_TICKET_FILTERS = {"communities": "list_contains($communities, community)",
                   **_MART_FILTERS,
                   "grids": "list_contains($grids, grid)",
                   "compounds": "list_contains($compounds, compound)",
                   "sources": "list_contains($sources, source)",
                   "handlers": "list_contains($handlers, handler)"}
# ticket_summary_daily's rows per filter in use (`rollup`, grouping(category, level)):
# categories or levels alone read their own grain, none the totals, both the finest rows.
_ROLLUPS = {(): 3, ("categories",): 1, ("levels",): 2, ("categories", "levels"): 0}
# Summaries the marts answer for less CPU than the ticket scan (at 10M, 1 thread): more
# than a week. A week or less, or one to three communities (a filter the marts no longer
# hold: migration 0022), read few enough tickets that the scan costs as little or less
# (docs/benchmarks-history.md).
_MARTS_FROM_DAYS = 8


@functools.cache
def _fragment(name: str) -> str:
    return (FRAGMENTS / f"{name}.sql").read_text(encoding="utf-8")


def _sql(name: str, dimension: str | None = None, order_by: str | None = None,
         mart_filters: str | None = None, ticket_filters: str | None = None) -> str:
    """Query text with its constant fragments spliced in (allow-listed keys only)."""
    text = sql_text(name).replace("/*filters*/", _fragment("explore_filters"))
    # explore__summary judges each compared period at its own as-of parameter: the
    # filters (status) and the counts with `$now` / `$as_of` read as that parameter
    text = _AT.sub(lambda m: _fragment(f"explore_{m[1]}").replace(
        "$now" if m[1] == "filters" else "$as_of", m[2]), text)
    # explore__*_mart, explore__summary_changes: each period's parts with its parameter
    # prefix, the judged tickets, the summary's figures, then the filters in use
    text = _PERIOD_PART.sub(lambda m: _fragment(f"explore_{m[1]}").replace(
        "$p_", f"${m[2]}_"), text)
    text = text.replace("/*mart_judged*/", _fragment("explore_mart_judged")).replace(
        "/*summary_figures*/", _fragment("explore_summary_figures"))
    if mart_filters is not None:
        text = text.replace("/*mart_filters*/", mart_filters)
    if ticket_filters is not None:
        text = text.replace("/*ticket_filters*/", ticket_filters)
    if dimension is not None:
        text = text.replace("/*dimension*/", DIMENSIONS[dimension])
    if order_by is not None:
        text = text.replace("/*order_by*/", order_by)
    return text


def _execute(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any],
             **fragments: str | None):
    try:
        return con.execute(_sql(name, **fragments), dict(params))
    except duckdb.Error as e:
        logger.error("query %s failed with params %r: %s", name, dict(params), e)
        raise QueryError(f"query {name} failed: {e}") from e


def default_now(settings: Settings | None = None) -> dt.datetime:
    """Local now (naive) in the configured time zone."""
    return local_now(settings or Settings())


def summary_windows(filters: TicketFilters, now: dt.datetime,
                    cutoff: dt.datetime | None = None) -> dict[str, Window]:
    """The selected dates (to the data `cutoff` if they run past it), the previous period
    and last year's, like for like: the same span, each judged as long after its end as
    the selected one is at `now` (pipelines.metrics.windows)."""
    current = Window.dates(filters.date_from, filters.date_to, min(cutoff or now, now), now)
    return {"current": current, "previous": current.previous(),
            "last_year": current.year_ago()}


def ticket_summary(con: duckdb.DuckDBPyConnection, filters: TicketFilters, *,
                   now: dt.datetime | None = None, from_marts: bool = True) -> pd.DataFrame:
    """KPIs of the selected, previous and last year's period (rows in that order).

    Columns: period, period_from, period_to, period_end (the last instant counted),
    as_of (when it is judged), is_partial, label_zh, label_en, reported_count,
    closed_count, on_time_count, overdue_count, rated_count, satisfied_count,
    closure_pct, on_time_pct, satisfaction_pct, median_close_hours.

    Read from the summary marts (`_summary_from_marts`) for more than a week when they
    answer exactly, else (or with `from_marts=False`) counted from the tickets; both
    give the same frame.
    """
    now = now or default_now()
    windows = summary_windows(filters, now, data_cutoff(con, now))
    cheaper = (filters.date_to - filters.date_from).days + 1 >= _MARTS_FROM_DAYS
    df = _summary_from_marts(con, filters, windows) if from_marts and cheaper else None
    if df is None:
        params = filters.params(now)
        del params["date_from"], params["date_to"]
        for name, prefix in _PERIOD_PREFIXES:
            params.update(windows[name].params(prefix + "_"))
        del params["cur_as_of"]  # the current window is judged at $now
        df = _execute(con, "explore__summary", params).df()
    df["is_partial"] = [windows[p].is_partial for p in df["period"]]
    df["label_zh"] = [windows[p].label("zh") for p in df["period"]]
    df["label_en"] = [windows[p].label("en") for p in df["period"]]
    return df


def summary_moved(con: duckdb.DuckDBPyConnection, filters: TicketFilters,
                  frame: pd.DataFrame, *, judged_at: dt.datetime,
                  now: dt.datetime) -> pd.DataFrame | None:
    """`frame`, the summary `ticket_summary(con, filters, now=judged_at)` gave, as
    `ticket_summary(con, filters, now=now)` gives it (`now` later), or None when it may
    differ and must be computed.

    Only its `as_of` column moves when, between the two instants, no ticket was reported
    (the data cut-off and so the periods' dates stay) and none of the periods' tickets
    closed or fell due between its two as-ofs (explore__summary_changes.sql): the
    summary judges tickets by nothing else. About 12 ms of CPU at 10M where computing a
    summary takes 50 to 100 (docs/benchmarks-history.md).
    """
    cutoff = data_cutoff(con, now)
    if cutoff is None or now <= judged_at or cutoff != data_cutoff(con, judged_at):
        return None
    before, after = summary_windows(filters, judged_at, cutoff), summary_windows(
        filters, now, cutoff)
    if any(replace(before[p], as_of=after[p].as_of) != after[p] for p in after):
        return None
    # status is judged at the as-of too: left out (the SQL says why)
    used = tuple(f for f in _TICKET_FILTERS if getattr(filters, f))
    params: dict[str, Any] = {f: list(getattr(filters, f)) for f in used}
    for name, prefix in _PERIOD_PREFIXES:
        params.update(after[name].params(prefix + "_"))
        params[f"{prefix}_since"] = before[name].as_of
    (changed,), = _execute(
        con, "explore__summary_changes", params,
        ticket_filters=" and ".join(_TICKET_FILTERS[f] for f in used) or "true").fetchall()
    if changed:
        return None
    moved = frame.copy()
    moved["as_of"] = [after[p].as_of for p in moved["period"]]
    return moved


def _mart_period_params(w: Window, prefix: str) -> dict[str, Any]:
    """explore_mart_period's parameters for window `w`: its whole reported days, the
    partial ones around them and the day of its as-of (see that fragment)."""
    midnight = dt.datetime.combine
    tick = dt.timedelta(microseconds=1)
    first = w.start.date() + dt.timedelta(days=w.start != midnight(w.start.date(), dt.time()))
    last = w.end.date() - dt.timedelta(
        days=w.end != midnight(w.end.date() + dt.timedelta(days=1), dt.time()) - tick)
    if first > last:  # no whole day: every ticket of the window is read from `tickets`
        full_start = full_stop = w.start
    else:
        full_start = midnight(first, dt.time())
        full_stop = midnight(last + dt.timedelta(days=1), dt.time())
    day_start = midnight(w.as_of.date(), dt.time())
    p = {"start": w.start, "end": w.end, "as_of": w.as_of, "full_from": first,
         "full_to": last, "full_start": full_start, "full_stop": full_stop,
         "head_end": min(w.end, full_start - tick), "tail_start": max(w.start, full_stop),
         "day": w.as_of.date(), "day_start": day_start,
         "day_stop": day_start + dt.timedelta(days=1)}
    return {f"{prefix}_{k}": v for k, v in p.items()}


def _summary_from_marts(con: duckdb.DuckDBPyConnection, filters: TicketFilters,
                       windows: Mapping[str, Window]) -> pd.DataFrame | None:
    """The summary's rows for `windows` (summary_windows) from the marts of migrations
    0020 and 0022, or None when they cannot give the exact figures: a filter they do
    not hold (community, grid, compound, source, handler, status) or a median whose two
    middle tickets lie in different 0.1-h buckets (docs/explorer.md)."""
    if any(getattr(filters, f.name) for f in fields(filters)
           if f.name not in ("date_from", "date_to", *_MART_FILTERS)):
        return None
    used = tuple(f for f in _MART_FILTERS if getattr(filters, f))
    params: dict[str, Any] = {f: list(getattr(filters, f)) for f in used}
    params["rollup"] = _ROLLUPS[used]
    for order, (name, prefix) in enumerate(_PERIOD_PREFIXES, 1):
        params.update(_mart_period_params(windows[name], prefix))
        params[f"{prefix}_order"] = order
    df = _execute(con, "explore__summary_mart", params,
                  mart_filters=" and ".join(_MART_FILTERS[f] for f in used) or "true").df()
    if df["median_unsettled"].any():
        logger.debug("summary median between two 0.1-h buckets: counted from tickets")
        return None
    return df.drop(columns="median_unsettled")


def ticket_trend(con: duckdb.DuckDBPyConnection, filters: TicketFilters, *,
                 grain: str = "month", now: dt.datetime | None = None,
                 from_marts: bool = True) -> pd.DataFrame:
    """Tickets reported per day, week (from Monday) or month, with closure/on-time %.

    Read from the summary marts under the same rule as `ticket_summary` (more than a
    week, only the marts' filters: categories, levels), else (or with
    `from_marts=False`) counted from the tickets; both give the same frame.

    Raises:
        ValueError: `grain` is not one of GRAINS.
    """
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}, not {grain!r}")
    now = now or default_now()
    marts = from_marts and _marts_answer(filters)
    if marts:
        df = _trend_from_marts(con, filters, grain, now)
    else:
        params = filters.params(now)
        params["grain"] = grain
        df = _execute(con, "explore__trend", params).df()
    return mark_buckets(df, Window.dates(filters.date_from, filters.date_to, now), grain)


def _marts_answer(filters: TicketFilters) -> bool:
    """True when the marts hold every filter in use and reading them costs less CPU
    than the tickets: more than a week (`ticket_summary`)."""
    if any(getattr(filters, f.name) for f in fields(filters)
           if f.name not in ("date_from", "date_to", *_MART_FILTERS)):
        return False
    return (filters.date_to - filters.date_from).days + 1 >= _MARTS_FROM_DAYS


def _trend_from_marts(con: duckdb.DuckDBPyConnection, filters: TicketFilters,
                      grain: str, now: dt.datetime) -> pd.DataFrame:
    """explore__trend's frame from the marts (explore__trend_mart.sql)."""
    whole = Window.dates(filters.date_from, filters.date_to,
                         dt.datetime.combine(filters.date_to + dt.timedelta(days=1),
                                             dt.time()), now)
    used = tuple(f for f in _MART_FILTERS if getattr(filters, f))
    params: dict[str, Any] = {f: list(getattr(filters, f)) for f in used}
    params.update(_mart_period_params(whole, "cur"), cur_order=1, grain=grain,
                  rollup=_ROLLUPS[used])
    return _execute(con, "explore__trend_mart", params,
                    mart_filters=" and ".join(_MART_FILTERS[f] for f in used) or "true"
                    ).df()


def mark_buckets(df: pd.DataFrame, window: Window, grain: str) -> pd.DataFrame:
    """Add bucket_from, bucket_to (dates inside `window`) and is_partial to a trend.

    A bucket cut by the window's start or end (the range starts on the 5th, or the
    month is still running) is partial: it is labelled by its own first day and drawn
    apart, never as a whole period.
    """
    starts = [pd.Timestamp(d).date() for d in df["period_start"]]
    first = window.start.date()
    ends = [dt.datetime.combine(shift_periods(grain, d, 1), dt.time()) for d in starts]
    df["bucket_from"] = [max(d, first) for d in starts]
    df["bucket_to"] = [min(e - dt.timedelta(microseconds=1), window.end).date()
                       for e in ends]
    df["is_partial"] = [d < first or window.end < e - dt.timedelta(microseconds=1)
                        for d, e in zip(starts, ends)]
    return df


def ticket_breakdown(con: duckdb.DuckDBPyConnection, filters: TicketFilters, *,
                     dimension: str, now: dt.datetime | None = None,
                     limit: int = 60) -> pd.DataFrame:
    """Tickets per value of `dimension` with closure, on-time and satisfaction rates.

    The filter on `dimension` itself is dropped, so the chart still shows every value
    (the selected ones are highlighted by the page).

    Raises:
        ValueError: `dimension` is not in DIMENSIONS.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {tuple(DIMENSIONS)}")
    params = filters.without(dimension).params(now or default_now())
    params["limit"] = int(limit)
    return _execute(con, "explore__breakdown", params, dimension=dimension).df()


def close_time_by_level(con: duckdb.DuckDBPyConnection, filters: TicketFilters, *,
                        now: dt.datetime | None = None) -> pd.DataFrame:
    """Median and 90th-percentile hours from report to closure, per level."""
    params = filters.params(now or default_now())
    return _execute(con, "explore__close_time", params).df()


@dataclass(frozen=True)
class ExplorerPage:
    """An explorer page (/explore/<id>) and the catalogue's metrics it shows: /metrics
    and docs/metrics.md say where each metric is shown from these."""

    id: str
    title: tuple[str, str]
    metrics: tuple[str, ...]


EXPLORER_PAGES: dict[str, ExplorerPage] = {p.id: p for p in (
    ExplorerPage("tickets", ("事件", "tickets"),
                 ("reported", "closed", "overdue", "closed_late", "missed_deadline",
                  "closure_pct", "on_time_pct", "median_close_hours", "p90_close_hours",
                  "satisfaction_pct")),
    ExplorerPage("participation", ("参与", "participation"),
                 ("participation_pct", "turnout_owners_pct", "approval_owners_pct")),
    ExplorerPage("accounts", ("收支", "accounts"), ("income", "expense", "balance")),
    ExplorerPage("population", ("人口", "population"),
                 ("residents", "key_group_people", "key_group_count")),
    ExplorerPage("warnings", ("预警", "warnings"), ("warnings_active",)),
)}

# The analysts' breakdown: any ticket measure the tickets page shows (the metrics
# layer's SQL, judged at $as_of) by one or two allow-listed dimensions. "period" splits by
# `date_trunc($grain, reported_at)`.
BREAKDOWN_MEASURES: dict[str, Metric] = {
    m.id: m for m in METRICS
    if m.source == "tickets" and m.id in EXPLORER_PAGES["tickets"].metrics}
BREAKDOWN_BY: dict[str, str] = {**DIMENSIONS,
                                "period": "cast(date_trunc($grain, reported_at) as date)"}
MAX_BREAKDOWN_VALUES = 500  # per dimension: a pivot wider than this is not a table


@dataclass(frozen=True)
class Breakdown:
    """One breakdown request: `measure` by `by` (and `by2`), periods of `grain`."""

    measure: str = "reported"
    by: str = "category"
    by2: str | None = None
    grain: str = "month"

    def __post_init__(self) -> None:
        if self.measure not in BREAKDOWN_MEASURES:
            raise ValueError(f"measure must be one of {tuple(BREAKDOWN_MEASURES)}, "
                             f"not {self.measure!r}")
        for name in (self.by, self.by2):
            if name is not None and name not in BREAKDOWN_BY:
                raise ValueError(f"dimension must be one of {tuple(BREAKDOWN_BY)}, "
                                 f"not {name!r}")
        if self.by2 == self.by:
            raise ValueError(f"the second dimension repeats the first ({self.by!r})")
        if self.grain not in GRAINS:
            raise ValueError(f"grain must be one of {GRAINS}, not {self.grain!r}")


def _breakdown_sql(b: Breakdown) -> str:
    """Constant text: the metric's declared SQL and allow-listed dimension expressions.

    Grouping sets give the cells and, computed over the rows themselves (so a median or
    a rate of the total is right, not a sum of cells), each row's, column's and the
    grand total.
    """
    dims = [BREAKDOWN_BY[b.by]] + ([BREAKDOWN_BY[b.by2]] if b.by2 else [])
    names = ["value", "value2"][:len(dims)]
    select = ", ".join(f"{e} as {n}" for e, n in zip(dims, names))
    flags = ", ".join(f"grouping({n}) = 1 as {n}_total" for n in names)
    sets = "(value, value2), (value), (value2), ()" if b.by2 else "(value), ()"
    # the explorer judges every figure at $now, the filter's instant too
    measure = BREAKDOWN_MEASURES[b.measure].sql.replace("$as_of", "$now")
    return (f"select {select}, {flags}, {measure} as measure, "
            "count(*) as reported_count\n"
            "from tickets\n"
            "where reported_at >= $date_from and reported_at < $date_to + interval 1 day\n"
            f"    and {_fragment('explore_filters')}\n"
            f"group by grouping sets ({sets})")


def ticket_measure_breakdown(con: duckdb.DuckDBPyConnection, filters: TicketFilters,
                             breakdown: Breakdown, *, now: dt.datetime | None = None
                             ) -> pd.DataFrame:
    """`breakdown.measure` per value of `breakdown.by` (and `by2`), with totals.

    Long form, one row per cell: value (value2), value_total (value2_total: True on the
    total over that dimension), measure, reported_count, and for "period" values
    is_partial (cut by the dates or still running). Judged at `now`, like every figure
    of the explorer. Unsorted: `sort_breakdown` orders it.

    Raises:
        QueryError: the statement failed.
    """
    now = now or default_now()
    params = filters.params(now)
    if "period" in (breakdown.by, breakdown.by2):
        params["grain"] = breakdown.grain
    text = _breakdown_sql(breakdown)
    try:
        df = con.execute(text, params).df()
    except duckdb.Error as e:
        logger.error("query explore:breakdown failed with params %r: %s", params, e)
        raise QueryError(f"query explore:breakdown failed: {e}") from e
    window = Window.dates(filters.date_from, filters.date_to, now)
    for col in ("value", "value2"):
        if col not in df:
            continue
        if (breakdown.by if col == "value" else breakdown.by2) == "period":
            cells = df.loc[~df[f"{col}_total"], col]
            marked = mark_buckets(pd.DataFrame({"period_start": cells}), window,
                                  breakdown.grain)
            df[f"{col}_partial"] = False
            df.loc[cells.index, f"{col}_partial"] = marked["is_partial"].to_numpy()
            df[col] = [None if t else pd.Timestamp(v).date()
                       for v, t in zip(df[col], df[f"{col}_total"])]
    return df


def sort_order(measure: str) -> bool:
    """True when a larger `measure` is worse or simply larger, so it goes first."""
    return BREAKDOWN_MEASURES[measure].good != "up"



def parse_sort(sort: str | None) -> tuple[str, str]:
    """'closed_at:asc' -> ('closed_at', 'asc'); anything not allow-listed -> default."""
    column, _, direction = (sort or "").partition(":")
    if column not in SORTS or direction not in SORT_DIRECTIONS:
        column, _, direction = DEFAULT_SORT.partition(":")
    return column, direction


def _order_by(sort: str | None) -> str:
    column, direction = parse_sort(sort)
    return f"{SORTS[column]} {SORT_DIRECTIONS[direction]} nulls last, ticket_id"


def _table_params(filters: TicketFilters, now: dt.datetime,
                  text_filters: Mapping[str, str] | None) -> dict[str, Any]:
    params = filters.params(now)
    for column, name in TEXT_FILTERS.items():
        value = (text_filters or {}).get(column)
        params[name] = str(value)[:200] if value not in (None, "") else None
    return params


def ticket_page(con: duckdb.DuckDBPyConnection, filters: TicketFilters, *,
                now: dt.datetime | None = None, sort: str | None = DEFAULT_SORT,
                start: int = 0, end: int = 50,
                text_filters: Mapping[str, str] | None = None
                ) -> tuple[pd.DataFrame, int]:
    """One page of the ticket table (rows start..end-1) and the number of rows in all.

    Args:
        sort: 'column:asc|desc' with column in SORTS; anything else sorts by DEFAULT_SORT.
        text_filters: {column: substring} for columns in TEXT_FILTERS; others ignored.
    """
    now = now or default_now()
    start = max(0, int(start))
    end = min(max(start, int(end)), start + MAX_PAGE_ROWS)
    params = _table_params(filters, now, text_filters)
    total = _execute(con, "explore__ticket_count", params).fetchall()[0][0]
    params.update(limit=end - start, offset=start)
    page = _execute(con, "explore__ticket_rows", params,
                    order_by=_order_by(sort)).df()
    return page, int(total)


def ticket_batches(con: duckdb.DuckDBPyConnection, filters: TicketFilters, *,
                   now: dt.datetime | None = None, sort: str | None = DEFAULT_SORT,
                   text_filters: Mapping[str, str] | None = None,
                   batch_rows: int = 20_000) -> pa.RecordBatchReader:
    """Every row of the ticket table as Arrow record batches (for streamed CSV)."""
    params = _table_params(filters, now or default_now(), text_filters)
    params.update(limit=None, offset=0)
    try:
        relation = con.sql(_sql("explore__ticket_rows", order_by=_order_by(sort)),
                           params=params)
        return relation.to_arrow_reader(batch_rows)
    except duckdb.Error as e:
        logger.error("query explore__ticket_rows failed with params %r: %s", params, e)
        raise QueryError(f"query explore__ticket_rows failed: {e}") from e


def ticket_detail(con: duckdb.DuckDBPyConnection, ticket_id: str) -> dict | None:
    """One ticket's lifecycle timestamps and deadline, or None if there is none."""
    cur = _execute(con, "explore__ticket", {"ticket_id": str(ticket_id)[:200]})
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row))


def ticket_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Values each filter offers ({dimension: sorted values}); levels are always 1-4."""
    found: dict[str, list[str]] = {d: [] for d in DIMENSIONS if d != "level"}
    for dimension, value, _count in _execute(con, "explore__options", {}).fetchall():
        found[dimension].append(value)
    return found


def table_row_count(con: duckdb.DuckDBPyConnection, table_name: str) -> int:
    """Rows in `table_name` (estimate), or -1 when the warehouse has no such table."""
    return int(_execute(con, "explore__table_rows",
                        {"table_name": table_name}).fetchall()[0][0])


# ---------------------------------------------------------------------------------------
# Participation, accounts and population (explorer sub-pages). Same rules: every value a
# bound parameter, aggregation in DuckDB, money read through Arrow as exact Decimal.

VOTE_MATTERS = ("ordinary", "major")
VOTE_STATES = ("open", "passed", "failed")

# Population measures in display order (key groups follow, as 'kg:<code>').
POPULATION_MEASURES: tuple[str, ...] = (
    "residents", "households",
    "res_registered", "res_resident", "res_floating", "res_other",
    "age_0_17", "age_18_59", "age_60_79", "age_80_plus", "age_unknown",
)


@dataclass(frozen=True)
class PeopleFilters:
    """Filters of the participation and accounts explorers; empty tuple = no filter.

    Dates are inclusive local dates. Communities select compounds by the one rule of
    pipelines/dimensions.py (mart compound_community). Matters and states apply to votes
    only.
    """

    date_from: dt.date
    date_to: dt.date
    communities: tuple[str, ...] = ()
    compounds: tuple[str, ...] = ()
    matters: tuple[str, ...] = ()
    states: tuple[str, ...] = ()

    def params(self, *names: str) -> dict[str, Any]:
        """Bound parameters: dates, then each of `names` as a list or None."""
        p: dict[str, Any] = {"date_from": self.date_from, "date_to": self.date_to}
        for name in names:
            value = getattr(self, name)
            p[name] = list(value) if value else None
        return p


def _arrow(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any]
           ) -> pa.Table:
    try:
        return con.sql(sql_text(name), params=dict(params)).to_arrow_table()
    except duckdb.Error as e:
        logger.error("query %s failed with params %r: %s", name, dict(params), e)
        raise QueryError(f"query {name} failed: {e}") from e


def people_compounds(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None]]:
    """(compound, community) of every compound in residents, votes or the ledger."""
    return [(c, m) for c, m in _execute(con, "explore__people_compounds", {}).fetchall()]


def vote_table(con: duckdb.DuckDBPyConnection, filters: PeopleFilters, *,
               now: dt.datetime | None = None) -> pd.DataFrame:
    """Votes open at some moment of the period: turnout and approval by owners and by
    area (display %), the approval threshold %, meets_turnout / meets_approval (exact,
    from vote_results) and the state at `now` (open, passed, failed)."""
    params = filters.params("communities", "compounds", "matters", "states")
    params["now"] = now or default_now()
    return _execute(con, "explore__votes", params).df()


def participation_by_month(con: duckdb.DuckDBPyConnection, filters: PeopleFilters
                           ) -> pd.DataFrame:
    """Participation rate (%) per compound and month overlapping the period."""
    params = filters.params("communities", "compounds")
    return _execute(con, "explore__participation_monthly", params).df()


def participation_by_compound(con: duckdb.DuckDBPyConnection, filters: PeopleFilters
                              ) -> pd.DataFrame:
    """Per compound: votes held, ballots, engagement events and participating
    households in the period (exact dates), and is_silent (no ballot, no engagement)."""
    params = filters.params("communities", "compounds")
    return _execute(con, "explore__participation_compounds", params).df()


def ledger_statements(con: duckdb.DuckDBPyConnection, filters: PeopleFilters
                      ) -> pa.Table:
    """Monthly statements (opening, income, expense, adjustment, closing; exact
    decimal(18,2)) per compound for months overlapping the period."""
    return _arrow(con, "explore__ledger_statement",
                  filters.params("communities", "compounds"))


def ledger_month_entries(con: duckdb.DuckDBPyConnection, compound: str,
                         month: dt.date) -> pa.Table:
    """The lines behind `compound`'s statement of `month` (any day of it)."""
    return _arrow(con, "explore__ledger_entries",
                  {"compound": str(compound)[:200], "month": month.replace(day=1)})


def ledger_categories(con: duckdb.DuckDBPyConnection, filters: PeopleFilters
                      ) -> pa.Table:
    """Income and expense per category over the statements in view (exact)."""
    return _arrow(con, "explore__ledger_categories",
                  filters.params("communities", "compounds"))


def population_cells(con: duckdb.DuckDBPyConnection, *, small_count: int,
                     key_groups: list[str], year: int,
                     communities: tuple[str, ...] = ()) -> pd.DataFrame:
    """The population portrait in long form, suppressed in SQL.

    Rows: row_kind (0 grid, 1 community total, 2 sub-district total), community, grid,
    measure (POPULATION_MEASURES, then 'kg:<code>'), ord, cell (text: a count, '<k' or
    '—') and shown_count (null when hidden). See explore__population.sql for the rule.
    """
    params = {"small_count": int(small_count), "key_groups": list(key_groups),
              "year": int(year), "communities": list(communities) or None}
    return _execute(con, "explore__population", params).df()


def population_table(con: duckdb.DuckDBPyConnection, **kwargs: Any) -> pd.DataFrame:
    """`population_cells` pivoted: one row per grid / community / sub-district total,
    one text column per measure (cells as the query wrote them)."""
    long = population_cells(con, **kwargs)
    if long.empty:
        return pd.DataFrame(columns=["row_kind", "community", "grid"])
    order = long.drop_duplicates("measure").sort_values("ord")["measure"].tolist()
    long = long.assign(community=long["community"].fillna("合计"),
                       grid=long["grid"].fillna("合计"))
    wide = long.pivot_table(index=["row_kind", "community", "grid"], columns="measure",
                            values="cell", aggfunc="first", sort=False)
    wide = wide.reset_index()[["row_kind", "community", "grid", *order]]
    wide.columns.name = None
    return wide
