"""View layer: the explorer's state, read from and written to the URL query string.

The URL is the single source of truth: `?from=2026-01-01&to=2026-03-31&community=A&
community=B&level=3&grain=week&measure=on_time&sort=closed_at:asc&asof=...&row=100`.
Every filter or sort change writes a new URL (one history entry, so Back undoes it) and
the page is rebuilt from it, so a copied link reproduces the view exactly. `row` is the
table's position: paging replaces it in the current entry (dashboards/assets/explore.js).

Parsing validates everything: unknown keys are ignored, a malformed date is ignored with
a notice, a level outside 1-4 or an unknown status is dropped with a notice, a value the
warehouse does not hold (e.g. an unknown community) is kept, so nothing matches and the
page says why. Values are bounded in length and number. Nothing here builds SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping
from urllib.parse import urlencode

from pipelines.queries.explore import (
    BREAKDOWN_BY,
    BREAKDOWN_MEASURES,
    FILTER_FIELDS,
    GRAINS,
    STATUSES,
    Breakdown,
    TicketFilters,
    parse_sort,
)
from pipelines.metrics.windows import Window, period_start, shift_periods

DEFAULT_DAYS = 90  # default period: the last 90 days up to today
MAX_VALUES = 30  # per key
MAX_VALUE_CHARS = 120
PAGE_SIZE = 50  # rows per ticket-table page and per fetched block; `row` is a multiple
MAX_ROW = 10_000_000  # far past any table; a larger `row` is ignored

MEASURES = ("reported", "closure", "on_time", "satisfaction", "overdue")
BREAKDOWN_VIEWS = ("pivot", "heatmap")  # how a two-dimension breakdown is drawn

# Filter keys in URL order; all take repeated values.
LIST_KEYS = ("community", "grid", "compound", "category", "level", "source", "handler",
             "status")

# Time presets (`preset=`): the metrics layer's windows at the view's cut-off (`asof`,
# else now), so a link keeps meaning "上月" tomorrow; the running ones read "至今".
PRESETS: dict[str, tuple[str, str]] = {
    "today": ("今天", "Today"),
    "this_week": ("本周", "This week"),
    "last_week": ("上周", "Last week"),
    "this_month": ("本月", "This month"),
    "last_month": ("上月", "Last month"),
    "this_quarter": ("本季度", "This quarter"),
    "last_quarter": ("上季度", "Last quarter"),
    "ytd": ("今年以来", "Year to date"),
    "last_30": ("近 30 天", "Last 30 days"),
    "last_90": ("近 90 天", "Last 90 days"),
}


def preset_window(preset: str, cutoff: dt.datetime) -> Window:
    """The metrics layer's window a preset names, at `cutoff` (ValueError if unknown)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown time preset {preset!r}; expected one of {list(PRESETS)}")
    if preset == "today":
        return Window.to_date("day", cutoff)
    if preset == "ytd":
        return Window.to_date("year", cutoff)
    which, unit = preset.split("_")
    if unit.isdigit():
        return Window.rolling(int(unit), cutoff)
    if which == "this":
        return Window.to_date(unit, cutoff)
    current = period_start(unit, cutoff.date())
    return Window.complete(unit, shift_periods(unit, current, -1))


def preset_running(preset: str) -> bool:
    """True for a preset that runs to the cut-off (本月, 近 30 天): it reads "至今"."""
    return not preset.startswith("last_") or preset[5:].isdigit()


def preset_label(preset: str) -> str:
    """'上月', '本月（至今）': the preset's Chinese name, marked when still running."""
    zh = PRESETS[preset][0]
    return f"{zh}（至今）" if preset_running(preset) else zh


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The dates a view may name. Its previous period and last year's are computed from them,
# and near the ends of Python's dates that arithmetic overflows (asof=9999-12-31 was a 500).
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")
_ROW = re.compile(r"[0-9]{1,8}")  # ASCII digits only: str.isdigit() also accepts '²'


@dataclass(frozen=True)
class ExploreState:
    """Everything that defines one explorer view."""

    date_from: dt.date
    date_to: dt.date
    values: dict[str, tuple] = field(default_factory=dict)  # LIST_KEYS -> values
    grain: str = "month"
    measure: str = "reported"
    sort: str = "reported_at:desc"
    asof: dt.datetime | None = None  # judge open/closed/overdue at; None = now
    explicit_dates: bool = False
    row: int = 0  # first table row in view, a multiple of PAGE_SIZE
    bmeasure: str = "reported"  # the breakdown table: measure (`bm`) ...
    by: str = "category"  # ... by this dimension (`by`) ...
    by2: str | None = None  # ... and optionally this one as columns (`by2`)
    preset: str | None = None  # a PRESETS key: the dates follow the cut-off (`preset`)
    ticket: str | None = None  # the ticket whose timeline is open (`ticket`), any date
    bview: str = "pivot"  # a two-dimension breakdown as a pivot table or a heatmap (`bview`)

    def filters(self) -> TicketFilters:
        """The query layer's filters for this view."""
        kwargs = {FILTER_FIELDS[k]: tuple(v) for k, v in self.values.items() if v}
        return TicketFilters(date_from=self.date_from, date_to=self.date_to, **kwargs)

    def breakdown(self) -> Breakdown:
        """The query layer's breakdown request for this view."""
        return Breakdown(self.bmeasure, self.by, self.by2, self.grain)

    def get(self, key: str) -> tuple:
        return tuple(self.values.get(key, ()))

    def with_values(self, key: str, values: Iterable) -> "ExploreState":
        new = dict(self.values)
        new[key] = tuple(dict.fromkeys(values))  # keep order, drop repeats
        return _replace(self, values=new)

    def toggled(self, key: str, value) -> "ExploreState":
        """`value` added to `key`'s filter, or removed when it is there already."""
        current = list(self.get(key))
        if value in current:
            current.remove(value)
        else:
            current.append(value)
        return self.with_values(key, current)

    def with_dates(self, date_from: dt.date, date_to: dt.date) -> "ExploreState":
        if date_to < date_from:
            date_from, date_to = date_to, date_from
        return _replace(self, date_from=date_from, date_to=date_to, explicit_dates=True,
                        preset=None)

    def with_preset(self, preset: str | None, cutoff: dt.datetime) -> "ExploreState":
        """The view over `preset`'s dates at `cutoff` (None: the default last 90 days)."""
        if preset is None:
            day = cutoff.date()
            return _replace(self, date_to=day, explicit_dates=False, preset=None,
                            date_from=day - dt.timedelta(days=DEFAULT_DAYS - 1))
        w = preset_window(preset, cutoff)
        return _replace(self, date_from=w.start.date(), date_to=w.end.date(),
                        explicit_dates=True, preset=preset)

    def frozen(self, now: dt.datetime) -> "ExploreState":
        """The view pinned: `asof` set (to `now` unless already), a preset resolved into
        its dates, so the link shows the same figures whenever it is opened."""
        return _replace(self, asof=self.asof or now.replace(microsecond=0), preset=None,
                        explicit_dates=True)

    def live(self) -> "ExploreState":
        """The view judged now again (its dates or preset kept)."""
        return _replace(self, asof=None)

    def view_only(self) -> "ExploreState":
        """Without the open drill-down (tabs and downloads carry the view, not it)."""
        return _replace(self, ticket=None)

    def query(self) -> list[tuple[str, str]]:
        """(key, value) pairs in a stable order; dates always written out."""
        if self.preset is not None:
            pairs = [("preset", self.preset)]
        else:
            pairs = [("from", self.date_from.isoformat()),
                     ("to", self.date_to.isoformat())]
        for key in LIST_KEYS:
            pairs += [(key, str(v)) for v in self.get(key)]
        if self.grain != "month":
            pairs.append(("grain", self.grain))
        if self.measure != "reported":
            pairs.append(("measure", self.measure))
        if self.sort != "reported_at:desc":
            pairs.append(("sort", self.sort))
        if self.bmeasure != "reported":
            pairs.append(("bm", self.bmeasure))
        if self.by != "category":
            pairs.append(("by", self.by))
        if self.by2 is not None:
            pairs.append(("by2", self.by2))
        if self.bview != "pivot":
            pairs.append(("bview", self.bview))
        if self.asof is not None:
            pairs.append(("asof", self.asof.isoformat(sep="T", timespec="seconds")))
        if self.ticket is not None:
            pairs.append(("ticket", self.ticket))
        if self.row:
            pairs.append(("row", str(self.row)))  # last, where explore.js appends it
        return pairs

    def search(self) -> str:
        """'?from=...&to=...' for dcc.Location.search and links."""
        return "?" + urlencode(self.query())

    def to_store(self) -> dict[str, Any]:
        d = asdict(self)
        d["date_from"] = self.date_from.isoformat()
        d["date_to"] = self.date_to.isoformat()
        d["asof"] = self.asof.isoformat() if self.asof else None
        d["values"] = {k: list(v) for k, v in self.values.items()}
        return d

    @classmethod
    def from_store(cls, data: Mapping[str, Any]) -> "ExploreState":
        return cls(
            date_from=dt.date.fromisoformat(data["date_from"]),
            date_to=dt.date.fromisoformat(data["date_to"]),
            values={k: tuple(v) for k, v in data["values"].items()},
            grain=data["grain"],
            measure=data["measure"],
            sort=data["sort"],
            asof=dt.datetime.fromisoformat(data["asof"]) if data.get("asof") else None,
            explicit_dates=data.get("explicit_dates", False),
            row=data.get("row", 0),
            bmeasure=data.get("bmeasure", "reported"),
            by=data.get("by", "category"),
            by2=data.get("by2"),
            preset=data.get("preset"),
            ticket=data.get("ticket"),
            bview=data.get("bview", "pivot"),
        )


def _replace(state: ExploreState, **changes) -> ExploreState:
    from dataclasses import replace

    return replace(state, **changes)


@dataclass(frozen=True)
class Notice:
    """A line shown above the view: what in the URL was ignored or matches nothing."""

    zh: str
    en: str


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _date(raw: str, key: str, notices: list[Notice]) -> dt.date | None:
    try:
        if not _DATE.match(raw):
            raise ValueError
        day = dt.date.fromisoformat(raw)
    except ValueError:
        notices.append(Notice(f"日期 {key}={raw[:40]} 无法识别，已忽略",
                              f"malformed date {key}={raw[:40]} ignored"))
        return None
    return day if _in_range(day, key, notices) else None


def _in_range(day: dt.date, key: str, notices: list[Notice]) -> bool:
    if EARLIEST <= day <= LATEST:
        return True
    notices.append(Notice(f"{key}={day} 不在 {EARLIEST.year}–{LATEST.year} 年内，已忽略",
                          f"{key}={day} outside {EARLIEST.year}-{LATEST.year} ignored"))
    return False


def parse_query(query: Mapping[str, Any], today: dt.date,
                options: Mapping[str, Iterable[str]] | None = None
                ) -> tuple[ExploreState, list[Notice]]:
    """Validate a URL query ({key: str | [str, ...]}) into a state and notices.

    Args:
        query: the page's query arguments (Dash passes repeated keys as a list).
        today: the local date the default period and presets end on when the query
            has no `asof` (with one, they end at the asof).
        options: {dimension: known values}; values outside them give a notice (and,
            being kept, an empty view). None: no check.
    """
    notices: list[Notice] = []
    first = {k: _as_list(v)[-1] for k, v in query.items() if _as_list(v)}

    asof = None
    if "asof" in first:
        raw = first["asof"]
        try:
            if not _DATETIME.match(raw):
                raise ValueError
            asof = dt.datetime.fromisoformat(raw)
        except ValueError:
            notices.append(Notice(f"时点 asof={raw[:40]} 无法识别，按当前时间",
                                  f"malformed asof={raw[:40]} ignored: judged now"))
        if asof is not None and not _in_range(asof.date(), "asof", notices):
            asof = None
    # a view judged at `asof` ends there by default, not at today's clock date
    cutoff = asof or dt.datetime.combine(today, dt.time(23, 59, 59))
    preset = first.get("preset")
    if preset is not None and preset not in PRESETS:
        notices.append(Notice(f"时间预设 {preset[:40]} 无法识别，已忽略",
                              f"unknown time preset {preset[:40]!r} ignored"))
        preset = None
    date_to = date_from = None
    if preset is None:  # a preset is what the link means: its dates, not from/to
        date_to = _date(first["to"], "to", notices) if "to" in first else None
        date_from = _date(first["from"], "from", notices) if "from" in first else None
    else:
        window = preset_window(preset, cutoff)
        date_from, date_to = window.start.date(), window.end.date()
    explicit = date_from is not None or date_to is not None
    date_to = date_to or cutoff.date()
    date_from = date_from or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
    if date_to < date_from:
        notices.append(Notice("起止日期颠倒，已对调", "from after to: swapped"))
        date_from, date_to = date_to, date_from

    values: dict[str, tuple] = {}
    for key in LIST_KEYS:
        raw = [v.strip() for v in _as_list(query.get(key)) if v.strip()]
        if len(raw) > MAX_VALUES:
            notices.append(Notice(f"{key} 取值过多，仅保留前 {MAX_VALUES} 个",
                                  f"too many {key} values: first {MAX_VALUES} kept"))
            raw = raw[:MAX_VALUES]
        kept: list = []
        for v in raw:
            if len(v) > MAX_VALUE_CHARS:
                notices.append(Notice(f"{key} 取值过长，已忽略",
                                      f"over-long {key} value ignored"))
                continue
            if key == "level":
                if v in ("1", "2", "3", "4"):
                    kept.append(int(v))
                else:
                    notices.append(Notice(f"等级 {v} 不存在（只有 1–4），已忽略",
                                          f"level {v} ignored (levels are 1-4)"))
                continue
            if key == "status":
                if v in STATUSES:
                    kept.append(v)
                else:
                    notices.append(Notice(f"状态 {v} 无法识别，已忽略",
                                          f"unknown status {v} ignored"))
                continue
            if options is not None and v not in set(options.get(key, ())):
                notices.append(Notice(f"没有名为「{v}」的{_KEY_ZH[key]}，无匹配事件",
                                      f"no {key} named {v!r}: nothing matches"))
            kept.append(v)
        if kept:
            values[key] = tuple(dict.fromkeys(kept))

    grain = first.get("grain", "month")
    if grain not in GRAINS:
        notices.append(Notice("时间粒度无法识别，按月显示", "unknown grain: by month"))
        grain = "month"
    measure = first.get("measure", "reported")
    if measure not in MEASURES:
        notices.append(Notice("指标无法识别，显示事件数", "unknown measure: counts"))
        measure = "reported"
    column, direction = parse_sort(first.get("sort"))
    sort = f"{column}:{direction}"

    row = _row(first["row"], notices) if "row" in first else 0
    bmeasure = first.get("bm", "reported")
    if bmeasure not in BREAKDOWN_MEASURES:
        notices.append(Notice("分析指标无法识别，显示上报数",
                              "unknown breakdown measure: reported"))
        bmeasure = "reported"
    by = first.get("by", "category")
    if by not in BREAKDOWN_BY:
        notices.append(Notice("分组维度无法识别，按类别", "unknown dimension: by category"))
        by = "category"
    by2 = first.get("by2") or None
    if by2 is not None and (by2 not in BREAKDOWN_BY or by2 == by):
        notices.append(Notice("第二维度无法识别或与第一维度相同，已忽略",
                              "second dimension unknown or the same as the first: ignored"))
        by2 = None
    bview = first.get("bview", "pivot")
    if bview not in BREAKDOWN_VIEWS:
        notices.append(Notice("分组显示方式无法识别，显示表格",
                              "unknown breakdown view: pivot table"))
        bview = "pivot"
    if by2 is None:  # a heatmap needs two dimensions
        bview = "pivot"
    ticket = (first.get("ticket") or "").strip() or None
    if ticket is not None and len(ticket) > MAX_VALUE_CHARS:
        notices.append(Notice("事件编号过长，已忽略", "over-long ticket id ignored"))
        ticket = None
    state = ExploreState(date_from, date_to, values, grain, measure, sort, asof,
                         explicit, row, bmeasure, by, by2, preset, ticket, bview)
    return state, notices


def _row(raw: str, notices: list[Notice]) -> int:
    """`row=`: a table row up to MAX_ROW, rounded down to its page; anything else 0."""
    if _ROW.fullmatch(raw) and int(raw) <= MAX_ROW:
        return int(raw) // PAGE_SIZE * PAGE_SIZE
    notices.append(Notice(f"表格位置 row={raw[:40]} 无法识别，从第一行显示",
                          f"malformed row={raw[:40]} ignored: table from the top"))
    return 0


def sort_from_columns(column_state: Iterable[Mapping[str, Any]] | None) -> str:
    """The table's sort ('column:asc|desc') from AG Grid's column state.

    The first sorted column (lowest sortIndex) wins, as in the table's query. No sorted
    column (a third header click clears the sort) or one outside the allow-list gives
    the default sort.
    """
    sorted_columns = [c for c in column_state or ()
                      if isinstance(c, Mapping) and c.get("sort") in ("asc", "desc")]
    first = min(sorted_columns, key=lambda c: c.get("sortIndex") or 0, default=None)
    column, direction = parse_sort(f"{first.get('colId')}:{first['sort']}"
                                   if first else None)
    return f"{column}:{direction}"


def cell_view(state: ExploreState, picks: Iterable[tuple[str, Any]]
              ) -> ExploreState | None:
    """The view narrowed to a breakdown cell: each (dimension, value) of its row and
    column as a filter, a period as its dates (inside the view's). None for the total
    corner or an empty value: nothing a filter could narrow to."""
    new = state
    for by, value in picks:
        if value is None or (isinstance(value, float) and value != value):
            continue
        if by == "period":
            bucket = dt.date.fromisoformat(str(value)[:10])
            end = shift_periods(state.grain, period_start(state.grain, bucket), 1)
            new = new.with_dates(max(bucket, state.date_from),
                                 min(end - dt.timedelta(days=1), state.date_to))
        else:
            new = new.with_values(by, [int(value) if by == "level" else value])
    return None if new == state else _replace(new, row=0)


_KEY_ZH = {
    "community": "社区",
    "grid": "网格",
    "compound": "小区",
    "category": "类别",
    "source": "来源",
    "handler": "处置主体",
}
