"""Query layer for the LED wall: one function per view, aggregated in DuckDB, and the
views' one declaration (`WALL_VIEWS`, at the end: id, titles, tables, query, renderer).

Entry point for pages, exports and the benchmark harness::

    wall_view_data(con, "levels", now=datetime(2026, 11, 23, 9), filters={...})

returns a plain dict of Python values (ints, floats, str, datetime, lists of dicts)
for one view. Every SQL statement is a `sql/queries/wall__*.sql` file with `$params`.
"Now" and "today" are parameters (default: local now in `Settings.timezone`), so tests
and benchmarks can pin the clock. Small counts of people (1..k-1) are suppressed in the
SQL, never in view code. A view whose tables are not in the warehouse yet returns
``{"available": False, ...}`` instead of failing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from pipelines import freshness
from pipelines.freshness import SourceFreshness
from pipelines.metrics.catalog import Metric, load_thresholds
from pipelines.metrics.compute import participation_cutoff, ticket_judged_at
from pipelines.metrics.windows import Window
from pipelines.queries import arrow
from pipelines.settings import TICKER_TEXTS, Settings

logger = logging.getLogger(__name__)

# What the map colours its communities by (?views=map:metric=overdue_open): metrics of
# pipelines/metrics/catalog.py, and open tickets per 1,000 residents. First = default.
MAP_METRICS = ("open", "overdue_open", "open_per_1000")

# load_log sources behind each "data as of" badge; each source's freshness (and its
# expected cadence) is judged by pipelines.freshness, the same verdict as /healthz.
SOURCE_GROUPS: dict[str, tuple[str, ...]] = {
    "tickets": ("tickets",),
    "population": ("population", "grids", "compounds"),
    "participation": ("votes", "ballots", "engagement"),
    "ledger": ("ledger", "ledger_balances"),
}
# A badge shows its worst source: a failing load first, then the oldest data.
# worst first; "none" last: a source whose first load is still running has no data yet,
# and a sibling's data time says more
_BADGE_ORDER = ("failing", "missed", "late", "ok", "none")

TICKER_DAYS = 7  # the ticker shows reports from the last week at most


def local_now(timezone: str = "Asia/Shanghai") -> datetime:
    """The local wall-clock time in `timezone`, without zone (as stored)."""
    return datetime.now(ZoneInfo(timezone)).replace(tzinfo=None)


@dataclass(frozen=True)
class Clock:
    """The instants one view is computed at: now, and the period starts derived from it."""

    now: datetime
    today: date

    @classmethod
    def at(
        cls, now: datetime | None = None, today: date | None = None, timezone: str = "Asia/Shanghai"
    ) -> Clock:
        """`now` given: as is. Only `today`: the end of that day. Neither: local now."""
        if now is None:
            if today is None:
                now = local_now(timezone)
            else:
                now = datetime.combine(today, time(23, 59, 59))
        return cls(now=now, today=today or now.date())

    @property
    def today_start(self) -> datetime:
        return datetime.combine(self.today, time())

    @property
    def month_start(self) -> date:
        return self.today.replace(day=1)

    def months_back(self, n: int) -> date:
        """First day of the month `n` months before this month."""
        y, m = divmod(self.today.year * 12 + self.today.month - 1 - n, 12)
        return date(y, m + 1, 1)

    @property
    def year_ago(self) -> datetime:
        """The same wall-clock time one year earlier (29 Feb -> 28 Feb)."""
        try:
            return self.now.replace(year=self.now.year - 1)
        except ValueError:
            return self.now.replace(year=self.now.year - 1, day=28)


def _records(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict]:
    """Rows of query `name` as dicts of exact Python values."""
    return arrow(con, name, **params).to_pylist()


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables in the warehouse."""
    return {r["table_name"] for r in _records(con, "wall__tables")}


def ticket_clock(con: duckdb.DuckDBPyConnection, clock: Clock) -> Clock:
    """The clock of the ticket views: at the data cut-off (newest ticket by `clock.now`).

    Today's and this month's figures run to the newest record, not to the wall clock,
    and so do their comparisons; without tickets the clock stays as it is.
    """
    now = ticket_judged_at(con, clock.now)
    return clock if now == clock.now else Clock(now=now, today=now.date())


def window_labels(*windows: tuple[str, Window]) -> dict[str, dict[str, str]]:
    """{name: {"zh": label, "en": label}} for the windows a view shows."""
    return {name: {lang: w.label(lang) for lang in ("zh", "en")} for name, w in windows}


def _pct_change(now: int, before: int) -> float | None:
    if not before:
        return None
    return round(100.0 * (now - before) / before, 1)


def levels_data(
    con: duckdb.DuckDBPyConnection,
    clock: Clock,
    *,
    community: str | None = None,
) -> dict:
    """Levels view: how many events today, and is anything serious happening?

    Returns:
        levels: per level 1-4 today_count, month_count, the same periods a year ago
            (ly_*), their change in percent (None when last year had none) and open_count;
        today_total, month_total, open_total and their year-ago counterparts;
        serious: open level-3/4 events (newest report first, 8) and serious_count;
        categories: this month's top 8 categories; communities: ranked by this month's
        count (all, with open_count). The ticker is the alarm strip's (`alarm_data`).
    """
    c = clock
    # like for like: today and month to date against the same spans a year earlier,
    # both ending at the same time of day as the data cut-off (c.now)
    today, month = Window.to_date("day", c.now), Window.to_date("month", c.now)
    ly_today, ly_month = today.year_ago(), month.year_ago()
    levels = _records(
        con,
        "wall__level_counts",
        now=c.now,
        today_start=today.start,
        month_start=month.start,
        ly_now=ly_month.end,
        ly_today_start=ly_today.start,
        ly_month_start=ly_month.start,
        community=community,
    )
    for row in levels:
        row["today_change_pct"] = _pct_change(row["today_count"], row["ly_today_count"])
        row["month_change_pct"] = _pct_change(row["month_count"], row["ly_month_count"])
    totals = {
        key: sum(r[key] for r in levels)
        for key in ("today_count", "month_count", "ly_today_count", "ly_month_count",
                    "open_count")
    }
    serious = _records(
        con, "wall__serious_open", now=c.now, community=community, limit=8
    )
    return {
        "available": True,
        "cutoff": c.now,
        "windows": window_labels(("today", today), ("month", month),
                                 ("ly_today", ly_today)),
        "levels": levels,
        "today_total": totals["today_count"],
        "month_total": totals["month_count"],
        "open_total": totals["open_count"],
        "today_change_pct": _pct_change(totals["today_count"], totals["ly_today_count"]),
        "month_change_pct": _pct_change(totals["month_count"], totals["ly_month_count"]),
        "serious": serious,
        "serious_count": serious[0]["serious_count"] if serious else 0,
        "categories": _records(
            con,
            "wall__categories",
            now=c.now,
            month_start=c.month_start,
            community=community,
            limit=8,
        ),
        "communities": _records(
            con,
            "wall__communities",
            now=c.now,
            month_start=c.month_start,
            community=community,
            limit=14,
        ),
    }


def closure_data(
    con: duckdb.DuckDBPyConnection,
    clock: Clock,
    *,
    response_hours: int,
    community: str | None = None,
) -> dict:
    """Closure view: are we closing on time, and what is overdue right now?

    Returns:
        by_level: this month's reported/closed/on-time/overdue counts and closure_pct,
            on_time_pct per level 1-4; total: the same over all levels;
        trend: 12 months of closure_pct and on_time_pct (oldest first), the running
            month with is_partial; overdue: open tickets past their deadline (any
            report date: metric overdue_open), most recently overdue first (10), overdue_total,
            and per level as by_level's overdue_open_count (they add up to the total);
        response: late responses, escalations, satisfaction;
        communities: ranked by on-time rate (all communities).
    """
    c = clock
    # one scan of this month's tickets, counted per level, per community and in total
    rows = _records(
        con,
        "wall__closure_month",
        now=c.now,
        month_start=c.month_start,
        response_hours=response_hours,
        community=community,
    )
    sets: dict[str, list[dict]] = {"level": [], "community": [], "total": []}
    for r in rows:
        sets[r.pop("grouping_set")].append(r)
    level_keys = ("level", "reported_count", "closed_count", "on_time_count",
                  "overdue_count", "closure_pct", "on_time_pct")
    total = {k: sets["total"][0][k] for k in level_keys}
    by_level = {r["level"]: {k: r[k] for k in level_keys} for r in sets["level"]}
    response = {k: sets["total"][0][k] for k in (
        "reported_count", "late_response_count", "response_timeout_pct", "escalated_count",
        "rated_count", "satisfied_count", "satisfaction_pct")}
    # best on-time rate first, nothing due yet last; then by name (as SQL orders text)
    ranked = sorted(
        sets["community"],
        key=lambda r: (r["on_time_pct"] is None, -(r["on_time_pct"] or 0), r["community"]),
    )
    communities = [
        {k: r[k] for k in ("community", "on_time_count", "due_count", "overdue_count",
                           "on_time_pct")}
        for r in ranked[:14]
    ]
    empty = {
        "reported_count": 0,
        "closed_count": 0,
        "on_time_count": 0,
        "overdue_count": 0,
        "closure_pct": None,
        "on_time_pct": None,
    }
    overdue = _records(
        con, "wall__overdue_open", now=c.now, community=community, limit=10
    )
    first = overdue[0] if overdue else {}
    month = Window.to_date("month", c.now)
    trend = _closure_trend(con, c, total, community=community)
    for row in trend:
        row["is_partial"] = month.is_partial and row["month_start"] == c.month_start
    return {
        "available": True,
        "cutoff": c.now,
        "windows": window_labels(("month", month)),
        "running": month.is_partial,
        "total": total,
        "by_level": [
            {**empty, **by_level.get(lv, {}), "level": lv,
             "overdue_open_count": first.get(f"overdue_l{lv}", 0)}
            for lv in (1, 2, 3, 4)
        ],
        "trend": trend,
        "overdue": overdue,
        "overdue_total": overdue[0]["overdue_total"] if overdue else 0,
        "response": response,
        "response_hours": response_hours,
        "communities": communities,
    }


def _closure_trend(
    con: duckdb.DuckDBPyConnection,
    clock: Clock,
    total: dict,
    *,
    community: str | None,
) -> list[dict]:
    """12 months of closure_pct and on_time_pct to the month of `clock.now`, oldest first.

    The months before the first one not settled at `clock.now` are read from
    wall_closure_monthly (wall__closure_stored: no ticket of theirs can change its
    figures after `now`); the rest are counted from tickets (wall__closure_trend),
    except this month, whose figures are those of `total` (wall__closure_month over
    the same tickets, with the same definitions and rounding), so its tickets are read
    once. A month without tickets has reported_count 0 and no rates.
    """
    months = [clock.months_back(n) for n in range(11, -1, -1)]
    stored = _records(
        con,
        "wall__closure_stored",
        now=clock.now,
        trend_start=months[0],
        month_start=clock.month_start,
        community=community,
    )
    settled = {r["month_start"] for r in stored if r["is_settled"]}
    next_month = clock.months_back(-1)
    live_from = next((m for m in months if m not in settled), next_month)
    # the total counts reported_at in [month_start, now]: all of this month's trend
    # range while now is before next month (a caller may pin `today` and `now` apart)
    reuse_total = live_from <= clock.month_start and clock.now < datetime.combine(
        next_month, time()
    )
    until = clock.month_start if reuse_total else next_month
    by_month = {r["month_start"]: r for r in stored if r["month_start"] < live_from}
    if live_from < until:
        live = _records(
            con,
            "wall__closure_trend",
            now=clock.now,
            live_from=live_from,
            until=until,
            community=community,
        )
        by_month.update((r["month_start"], r) for r in live)
    if reuse_total:
        by_month[clock.month_start] = total
    keys = ("reported_count", "closure_pct", "on_time_pct")
    none = {"reported_count": 0, "closure_pct": None, "on_time_pct": None}
    return [
        {"month_start": m, **{k: by_month.get(m, none)[k] for k in keys}} for m in months
    ]


# The alarm strip's figures in the order shown, each the id of its metric (its verdict
# colours it); "reported" (new today) has no thresholds: information, never an alarm.
ALARMS = ("serious_open", "overdue_open", "reported", "response_timeout_pct",
          "warnings_active")
PULSE_WINDOW = timedelta(hours=1)  # a red crossing or a level-4 report this recent pulses


def alarm_data(
    con: duckdb.DuckDBPyConnection,
    clock: Clock,
    *,
    settings: Settings,
    tables: set[str],
    metrics: Mapping[str, Metric] | None = None,
    ticker_limit: int = 20,
) -> dict:
    """The alarm strip on every slide: what needs attention now, judged by thresholds.

    Ticket figures are taken at the data cut-off (newest ticket by `clock.now`), the
    late-response rate over this month to then, active warnings at their latest
    evaluation. Each item's `verdict` is its metric's `Metric.level` ("ok", "amber",
    "red"; "" when the metric is not judged); `pulse` is True when it turned red within
    PULSE_WINDOW (or, for open level 3/4, a level-4 event was reported within it).

    Args:
        metrics: the declarations with this installation's thresholds (default: read
            `settings.metric_thresholds`).

    Returns:
        cutoff; items: [{"id", "value", "verdict", "pulse", "unit"}] in ALARMS order,
        the warnings item with value None when the warnings table is not there yet;
        ticker: the newest reports of the last week (with their description only when
        `settings.wall_ticker_text` is "description").

    Raises:
        ValueError: settings.wall_ticker_text is not one of TICKER_TEXTS.
    """
    if settings.wall_ticker_text not in TICKER_TEXTS:
        raise ValueError(f"ticker_text must be one of {TICKER_TEXTS}, "
                         f"got {settings.wall_ticker_text!r}")
    metrics = metrics or load_thresholds(settings.metric_thresholds)
    c = ticket_clock(con, clock) if "tickets" in tables else clock
    before = c.now - PULSE_WINDOW
    values: dict[str, Any] = {}
    if "tickets" in tables:
        values = _records(con, "wall__alarms", now=c.now, before=before,
                          today_start=c.today_start, month_start=c.month_start,
                          response_hours=settings.response_hours)[0]
        values["reported"] = values.pop("reported_today")
    if "warnings" in tables:
        # warnings are stamped when a load evaluates them: judged by the clock, not
        # by the tickets' cut-off
        values.update(_records(con, "wall__alarm_warnings",
                               before=clock.now - PULSE_WINDOW)[0])
    items = []
    for key in ALARMS:
        m = metrics[key]
        value = values.get(key)
        if isinstance(value, Decimal):
            value = float(value)
        verdict = m.level(value)
        was = m.level(_float(values.get(f"{key}_before")))
        pulse = verdict == "red" and was != "red"
        if key == "serious_open":
            pulse = pulse or bool(values.get("level4_new"))
        items.append({"id": key, "value": value, "verdict": verdict, "pulse": pulse,
                      "unit": m.unit})
    ticker = (_records(con, "wall__ticker", now=c.now,
                       since=c.now - timedelta(days=TICKER_DAYS), community=None,
                       limit=ticker_limit,
                       with_description=settings.wall_ticker_text == "description")
              if "tickets" in tables else [])
    return {"cutoff": c.now, "items": items, "ticker": ticker}


def fallback_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Years whose working days fell back to Monday-Friday."""
    return [r["calendar_year"] for r in _records(con, "wall__calendar_fallback")]


def status_from(verdicts: list[SourceFreshness], years: list[int]) -> dict:
    """Top-bar status from `pipelines.freshness` verdicts (no query).

    A badge is "ok", "late" (amber: data older than its cadence), "missed" (red: older
    than twice its cadence), "failing" (red: its newest load attempt failed or was
    refused, whatever the age of the data) or "none" (never loaded); it shows its worst
    source's data time. The wall is stale when any source's data is late or missed.
    """
    badges = []
    for group, sources in SOURCE_GROUPS.items():
        found = [v for v in verdicts if v.source in sources]
        if not found:
            badges.append({"source": group, "as_of": None, "state": "none", "error": None})
            continue
        worst = min(found, key=lambda v: (
            _BADGE_ORDER.index("failing" if v.failing else v.state), v.data_at or datetime.min))
        badges.append({"source": group, "as_of": worst.data_at,
                       "state": "failing" if worst.failing else worst.state,
                       "error": worst.last_error})
    stale = [v for v in verdicts if v.stale]
    oldest = min((v.data_at for v in stale if v.data_at), default=None)
    return {
        "badges": badges,
        "stale_sources": [v.source for v in stale],
        "newest_load_at": oldest,
        "is_stale": not verdicts or bool(stale),
        "fallback_years": list(years),
    }


def wall_status(
    con: duckdb.DuckDBPyConnection, *, now: datetime, settings: Settings
) -> dict:
    """Top bar: "data as of" per source group, staleness and calendar fallback years.

    See `status_from` for the states.
    """
    return status_from(freshness.freshness(con, settings, now), fallback_years(con))


def wall_view_data(
    con: duckdb.DuckDBPyConnection,
    view: str,
    today: date | None = None,
    filters: Mapping[str, str] | None = None,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
    tables: set[str] | None = None,
) -> dict:
    """The data of one wall view, computed in DuckDB.

    Args:
        con: a (read-only) cursor on the warehouse.
        view: one of VIEWS (declared in WALL_VIEWS).
        today: the day to show; with `now` unset, the view is computed at its end.
        filters: e.g. {"community": "龙塔社区"}; keys the view does not take are ignored.
        now: the instant to compute at (default: local now in settings.timezone).
        settings: response_hours, small_count, timezone and wall_ticker_text (default:
            Settings()).
        tables: the warehouse's table names when the caller already has them.

    Returns:
        A dict with "available" (False when the view's tables are not loaded yet, with
        "missing" naming them), "view", "now" and the view's figures.

    Raises:
        ValueError: unknown view.
        QueryError: a query failed.
    """
    spec = WALL_VIEWS.get(view)
    if spec is None:
        raise ValueError(f"unknown wall view {view!r}; expected one of {VIEWS}")
    settings = settings or Settings()
    clock = Clock.at(now, today, settings.timezone)
    filters = {k: v for k, v in (filters or {}).items() if k in spec.filters and v}
    tables = existing_tables(con) if tables is None else tables
    missing = [t for t in spec.tables if t not in tables]
    # this installation's thresholds: the views colour figures by Metric.level
    base = {"view": view, "now": clock.now, "filters": filters,
            "metrics": load_thresholds(settings.metric_thresholds)}
    if missing:
        return {**base, "available": False, "missing": missing}
    if spec.at_cutoff:
        clock = ticket_clock(con, clock)
    return {**base, **spec.query(con, clock, settings, filters)}


def participation_data(
    con: duckdb.DuckDBPyConnection,
    clock: Clock,
    *,
    small_count: int,
    community: str | None = None,
) -> dict:
    """Participation view: are residents taking part more, and will open votes pass?

    The running month is partial: it is marked (is_partial) and shown apart as
    `running`, never as `latest` nor compared with whole months; `latest`, `first` and
    each compound's first → latest rates are whole months. The month runs to the data
    cut-off (the newest ballot or engagement event, `participation_cutoff`), not the
    wall clock; open votes are those open at the wall clock.

    Returns:
        trend: 12 months of participation_pct (households), ballots, questionnaires,
            opinions, is_partial; latest: the newest whole month (None without data);
        first: the oldest month of the trend; running: this month so far (or None),
            with window: its label {"zh", "en"}; cutoff: the newest act (or None);
        compounds: per compound its monthly_pct list, first_pct and latest_pct over
            the 12 whole months before this one;
        votes: open votes with turnout/approval percentages, thresholds and is_at_risk.
    """
    cutoff = participation_cutoff(con, clock.now)
    c = clock if cutoff is None or cutoff >= clock.now else Clock(cutoff, cutoff.date())
    window = Window.to_date("month", c.now)
    trend_start = c.months_back(11)
    trend = _records(
        con,
        "wall__participation_trend",
        month_start=c.month_start,
        trend_start=trend_start,
        community=community,
    )
    for row in trend:
        row["participation_pct"] = _float(row["participation_pct"])
        row["is_partial"] = window.is_partial and row["month"] == c.month_start
    whole = [r for r in trend if not r["is_partial"]]
    running = next((r for r in trend if r["is_partial"]), None)
    last_whole = c.months_back(1) if window.is_partial else c.month_start
    return {
        "available": True,
        "trend": trend,
        "latest": whole[-1] if whole else None,
        "first": whole[0] if whole else None,
        "running": running,
        "window": window_labels(("month", window))["month"],
        "compounds": _records(
            con,
            "wall__participation_compounds",
            month_start=last_whole,
            trend_start=c.months_back(12) if window.is_partial else trend_start,
            community=community,
        ),
        "cutoff": cutoff,
        "votes": _records(con, "wall__open_votes", now=clock.now, community=community,
                          limit=5),
    }


# per direction on the wall's accounts view: 3 + 3 rows fit its panel at every wall size
# (4 + 4 clipped the last row at 1920x1080)
TOP_CATEGORIES = 3


def accounts_data(
    con: duckdb.DuckDBPyConnection,
    clock: Clock,
    *,
    small_count: int,
    community: str | None = None,
    publish_days: int = 10,
) -> dict:
    """Accounts view: where did each compound's public money come from and go?

    Money is exact (`decimal.Decimal`). The month shown is the month of `today`, or the
    newest month before it that has a statement. A month still running, or ended less
    than `publish_days` ago, is not final: it has no closing balance to show
    (is_final False; net_yuan = income − expense so far, window its label).

    Returns:
        month, is_final, window, net_yuan; compounds: opening/income/expense/adjustment/closing per compound;
        income_yuan, expense_yuan, closing_yuan: their sums; trend: 12 months of
        sums, the month still running marked is_partial; top_income, top_expense: this
        month's top TOP_CATEGORIES categories of each direction.
    """
    month = _records(con, "wall__ledger_month", month_start=clock.month_start)[0]["month"]
    if month is None:
        return {"available": False, "missing": []}
    compounds = _records(con, "wall__ledger_compounds", month=month, community=community)
    categories = _records(
        con, "wall__ledger_categories", month=month, community=community,
        limit=TOP_CATEGORIES)
    income = sum((r["income_yuan"] for r in compounds), Decimal("0.00"))
    expense = sum((r["expense_yuan"] for r in compounds), Decimal("0.00"))
    if month >= clock.month_start:
        window = Window.to_date("month", clock.now)
    else:
        window = Window.complete("month", month, clock.now)
    published = datetime.combine(window.period_end.date() + timedelta(days=publish_days),
                                 time())
    return {
        "available": True,
        "month": month,
        "is_final": clock.now >= published,
        "window": window_labels(("month", window))["month"],
        "net_yuan": income - expense,
        "compounds": compounds,
        "income_yuan": income,
        "expense_yuan": expense,
        "closing_yuan": sum((r["closing_yuan"] for r in compounds), Decimal("0.00")),
        "trend": [{**r, "is_partial": r["month"] >= clock.month_start}
                  for r in _records(con, "wall__ledger_trend", month=month,
                                    community=community)],
        "top_income": [r for r in categories if r["direction"] == "income"],
        "top_expense": [r for r in categories if r["direction"] == "expense"],
    }


def population_data(
    con: duckdb.DuckDBPyConnection,
    clock: Clock,
    *,
    small_count: int,
    community: str | None = None,
) -> dict:
    """Population view: who lives here, and how many people need care?

    Counts of people from 1 to k-1 arrive as None with suppressed='small'; cells hidden
    so that a small count cannot be worked out from totals arrive as None with
    suppressed='complement' (see wall__population.sql).

    Returns:
        k; totals: {measure: {"value", "suppressed"}} over the scope; communities:
        [{"community", measure: {"value", "suppressed"}, ...}] by residents, largest
        first; groups: key-group codes, largest total first; key_group_people.
    """
    cells = _records(con, "wall__population", k=small_count, community=community)
    totals: dict[str, dict] = {}
    per: dict[str, dict] = {}
    for r in cells:
        cell = {"value": r["value"], "suppressed": r["suppressed"]}
        if r["community"] is None:
            totals[r["measure"]] = cell
        else:
            per.setdefault(r["community"], {"community": r["community"]})[r["measure"]] = cell
    groups = sorted(
        (m[3:] for m in totals if m.startswith("kg:")),
        key=lambda g: (-(totals["kg:" + g]["value"] or 0), g),
    )
    communities = sorted(
        per.values(),
        key=lambda r: (-(r.get("residents", {}).get("value") or 0), r["community"]),
    )
    kg = _records(con, "wall__key_group_people", k=small_count, community=community)[0]
    return {
        "available": bool(totals),
        "missing": [],
        "k": small_count,
        "totals": totals,
        "communities": communities,
        "groups": groups,
        "key_group_people": {
            "value": kg["people_count"],
            "suppressed": "small" if kg["is_suppressed"] else None,
        },
    }


def map_data(
    con: duckdb.DuckDBPyConnection,
    clock: Clock,
    *,
    community: str | None = None,
    metric: str | None = None,
) -> dict:
    """Map view: where is the work, and where are the serious events?

    Args:
        con: a cursor on the warehouse.
        clock: the ticket clock (figures at the data cut-off).
        community: draw only this community (its grids inside it).
        metric: one of MAP_METRICS (anything else: the first).

    Returns:
        {"metric", "areas": [{community, grid, geometry (GeoJSON dict), label_lon,
        label_lat}], "figures": {community: {open_count, overdue_open_count,
        serious_open_count, residents, value}}, "points": [{compound, level, event_count,
        lon, lat}], "unplaced": open level-3/4 events without a location, "cutoff"}.
        Without a loaded map, "areas" is empty and the view draws a tile per community.
    """
    metric = metric if metric in MAP_METRICS else MAP_METRICS[0]
    areas = [
        {**a, "geometry": json.loads(a.pop("geometry_json"))}
        for a in _records(con, "wall__map_areas")
        if community is None or a["community"] == community
    ]
    figures = {}
    for row in _records(con, "wall__map_figures", as_of=clock.now):
        if community is not None and row["community"] != community:
            continue
        if metric == "open_per_1000":
            people = row["residents"]
            row["value"] = 1000 * row["open_count"] / people if people else None
        else:
            row["value"] = row[f"{metric}_count"]
        figures[row["community"]] = row
    points = [p for p in _records(con, "wall__map_points", as_of=clock.now)
              if community is None or p["community"] == community]
    serious = sum(f["serious_open_count"] for f in figures.values())
    return {"available": True, "metric": metric, "areas": areas, "figures": figures,
            "points": points,
            "unplaced": serious - sum(p["event_count"] for p in points),
            "cutoff": clock.now}


WARNINGS_SHOWN = 8  # rows on the warnings slide: readable from the back of the room


def warnings_data(
    con: duckdb.DuckDBPyConnection,
    clock: Clock,
    *,
    community: str | None = None,
    limit: int = WARNINGS_SHOWN,
) -> dict:
    """Warnings view: what did the pipeline find unusual, most severe first?

    Warnings are computed after each load (pipelines/warnings_engine.py) and stamped
    with that evaluation's time, so the slide shows them as they stand, not at a data
    cut-off. Their evidence counts tickets, hours, percentages and yuan, never people:
    there is no small count to suppress. A compound's warning belongs to its
    compound's community.

    Returns:
        warnings: the `limit` most severe active warnings (then newest first), each
        with its rule, scope, evidence (exact Decimals) and first_seen_at; active_count
        and by_severity {"critical", "high", "medium"}: counts of all active ones.
    """
    rows = _records(con, "wall__warnings", community=community, limit=limit)
    keys = ("active", "critical", "high", "medium")
    # every row carries the counts over the whole scope: keep them once
    counts = {k: (rows[0][f"{k}_count"] if rows else 0) for k in keys}
    for r in rows:
        for k in keys:
            del r[f"{k}_count"]
    return {
        "available": True,
        "warnings": rows,
        "active_count": counts.pop("active"),
        "by_severity": counts,
    }


def _float(value) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class WallView:
    """One wall view, declared once: everything else about it is derived from here.

    The page (/wall/<id>), the playlists' allow-list, the slide's title in both
    languages, the status page's links, the tables it waits for, the CSS classes
    `view-<id>` (slide) and `wv-<id>` (its grid, drawn by the renderer) and the tests that
    go through every view all read `WALL_VIEWS`.

    Attributes:
        id: the URL name (`/wall/<id>`, `?views=<id>`).
        title: (Chinese, English) slide title.
        tables: the warehouse tables it reads; while one is missing the slide says
            "no data yet".
        query: (con, clock, settings, filters) -> the view's figures (a dict).
        renderer: "module:function" of its drawing in `dashboards/`, called with
            (figures, lang); named, not imported, so that the query layer never imports
            the view layer.
        filters: the playlist filter keys it takes (`levels:community=龙塔社区`).
        at_cutoff: computed at the tickets' data cut-off (newest report), not the clock.
        wide: it has a designed layout for an ultra-wide canvas when shown alone; if
            not, it keeps a 16:9 cell there (wall.css `data-wide`).
        metrics: the catalogue's metrics (pipelines/metrics/catalog.py) it shows: its
            renderer marks each such figure `data-metric` (tests/unit/
            test_metric_surfaces.py holds the two to each other); /metrics and
            docs/metrics.md say where each metric is shown from these.
    """

    id: str
    title: tuple[str, str]
    tables: tuple[str, ...]
    query: Callable[[duckdb.DuckDBPyConnection, Clock, Settings, dict], dict]
    renderer: str
    filters: tuple[str, ...] = ("community",)
    at_cutoff: bool = False
    wide: bool = True
    metrics: tuple[str, ...] = ()


def _declare(*views: WallView) -> dict[str, WallView]:
    return {v.id: v for v in views}


# The wall's views in playlist order (the default playlist is all of them).
WALL_VIEWS: dict[str, WallView] = _declare(
    WallView("levels", ("事件等级", "Incident levels"), ("tickets",),
             lambda con, c, s, f: levels_data(con, c, community=f.get("community")),
             "dashboards._wall_views:levels_view", at_cutoff=True,
             metrics=("reported", "open", "serious_open")),
    WallView("closure", ("办结与时限", "Closure and time limits"),
             ("tickets", "wall_closure_monthly"),
             lambda con, c, s, f: closure_data(con, c, response_hours=s.response_hours,
                                               community=f.get("community")),
             "dashboards._wall_views:closure_view", at_cutoff=True,
             metrics=("overdue_open", "closure_pct", "on_time_pct", "response_timeout_pct",
                      "escalations", "satisfaction_pct")),
    WallView("participation", ("居民参与", "Participation"),
             ("votes", "ballots", "participation_monthly", "compound_community"),
             lambda con, c, s, f: participation_data(con, c, small_count=s.small_count,
                                                     community=f.get("community")),
             "dashboards._wall_views:participation_view",
             metrics=("participation_pct", "turnout_owners_pct", "approval_owners_pct")),
    WallView("accounts", ("公共收支", "Public accounts"),
             ("ledger_entries", "ledger_monthly", "compound_community"),
             lambda con, c, s, f: accounts_data(con, c, small_count=s.small_count,
                                                community=f.get("community"),
                                                publish_days=s.ledger_publish_days),
             "dashboards._wall_views:accounts_view",
             metrics=("income", "expense", "balance")),
    WallView("population", ("人口画像", "Population portrait"),
             ("residents", "population_counts"),
             lambda con, c, s, f: population_data(con, c, small_count=s.small_count,
                                                  community=f.get("community")),
             "dashboards._wall_views:population_view",
             metrics=("residents", "key_group_people", "key_group_count")),
    WallView("map", ("网格地图", "Map"),
             ("tickets", "grids", "geo_areas", "geo_points", "population_counts"),
             lambda con, c, s, f: map_data(con, c, community=f.get("community"),
                                           metric=f.get("metric")),
             "dashboards._wall_map:map_view", filters=("community", "metric"),
             at_cutoff=True, metrics=("open", "overdue_open")),
    WallView("warnings", ("预警", "Warnings"), ("warnings", "compound_community"),
             lambda con, c, s, f: warnings_data(con, c, community=f.get("community")),
             "dashboards._wall_warnings:warnings_view", wide=False,
             metrics=("warnings_active",)),
)
VIEWS = tuple(WALL_VIEWS)
