"""View layer: shared state, filters, chips, panels and downloads of the explorer's
participation, accounts and population pages.

State lives in the URL exactly as on the ticket explorer (dashboards/_explore_state.py
parses `from`, `to`, `community`, `compound`, ... and keeps any ticket filters so the
sub-navigation carries them along); these pages add `matter` (ordinary | major) and
`state` (open | passed | failed) for votes, validated against allow-lists here. Every
filter change, chip × or chart click writes a new URL (one history entry), and Dash
Pages rebuilds the page from it.

Downloads reuse the ticket explorer's route (`/download/explore/<name>.csv`, UTF-8 BOM,
formula escaping, dashboards/_downloads.py): the names below are added to its allow-list
`DOWNLOADS`, each calling one query function under the request's filters.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboards import _data, _downloads
from dashboards._components import fmt_time, label
from dashboards._explore_state import MAX_VALUE_CHARS, ExploreState, Notice, parse_query
from dashboards._explore_time import apply_time, frozen_banner, ticket_search, time_controls
from pipelines.dimensions import label as label_of
from pipelines.queries import explore as q
from pipelines.queries import exports as xq
from pipelines.settings import local_now, parse_key_groups

logger = logging.getLogger(__name__)

MATTER_LABELS = {"ordinary": "一般事项 ordinary", "major": "重大事项 major"}
STATE_LABELS = {"open": "进行中 open", "passed": "通过 passed", "failed": "未通过 failed"}
EXTRA_KEYS: dict[str, tuple[str, ...]] = {"matter": q.VOTE_MATTERS,
                                          "state": q.VOTE_STATES}
FILTER_LABELS = {"community": label_of("community"), "compound": label_of("compound"),
                 "matter": ("事项", "Matter"), "state": ("结果", "State")}


@dataclass(frozen=True)
class PeopleView:
    """One view of a participation / accounts / population page."""

    base: ExploreState
    matters: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    entry: tuple[str, str] | None = None  # the open drill-down: (compound, 'YYYY-MM')

    def get(self, key: str) -> tuple:
        if key == "matter":
            return self.matters
        if key == "state":
            return self.states
        return self.base.get(key)

    def with_values(self, key: str, values) -> PeopleView:
        values = tuple(dict.fromkeys(values))
        if key == "matter":
            return replace(self, matters=values)
        if key == "state":
            return replace(self, states=values)
        return replace(self, base=self.base.with_values(key, values))

    def filters(self) -> q.PeopleFilters:
        return q.PeopleFilters(self.base.date_from, self.base.date_to,
                               communities=self.base.get("community"),
                               compounds=self.base.get("compound"),
                               matters=self.matters, states=self.states)

    def query(self) -> list[tuple[str, str]]:
        entry = ([("entry_compound", self.entry[0]), ("entry_month", self.entry[1])]
                 if self.entry else [])
        return (self.base.query() + [("matter", v) for v in self.matters]
                + [("state", v) for v in self.states] + entry)

    def search(self) -> str:
        return "?" + urlencode(self.query())

    def view_search(self) -> str:
        """The view without its open drill-down (for tabs and panel downloads)."""
        return replace(self, entry=None, base=self.base.view_only()).search()

    def now(self) -> dt.datetime:
        return self.base.asof or local_now(_data.settings())


def parse_view(query: Mapping[str, Any], options: Mapping[str, list[str]] | None = None
               ) -> tuple[PeopleView, list[Notice]]:
    """Validate the URL query: dates, community, compound (against `options`), matter
    and state (allow-lists). Unknown values give a notice; unknown places are kept so
    the page can say that nothing matches."""
    today = local_now(_data.settings()).date()
    base, notices = parse_query(query, today, options)
    notices = [n for n in notices if "事件" not in n.zh] + [
        Notice(f"没有名为「{v}」的{FILTER_LABELS[k][0]}，无匹配数据",
               f"no {k} named {v!r}: nothing matches")
        for k in ("community", "compound") for v in base.get(k)
        if options is not None and v not in set(options.get(k, ()))]
    extras: dict[str, tuple[str, ...]] = {}
    for key, allowed in EXTRA_KEYS.items():
        raw = query.get(key)
        raw = raw if isinstance(raw, list) else ([] if raw is None else [raw])
        kept = []
        for v in raw[:10]:
            v = str(v).strip()
            if v in allowed:
                kept.append(v)
            elif v:
                notices.append(Notice(f"{FILTER_LABELS[key][0]} {v[:40]} 无法识别，已忽略",
                                      f"unknown {key} {v[:40]!r} ignored"))
        extras[key] = tuple(dict.fromkeys(kept))
    return PeopleView(base, extras["matter"], extras["state"],
                      _entry(query, notices)), notices


def _entry(query: Mapping[str, Any], notices: list[Notice]) -> tuple[str, str] | None:
    """The ledger drill-down in the URL (`entry_compound`, `entry_month=YYYY-MM`)."""
    def last(key):
        raw = query.get(key)
        raw = raw[-1] if isinstance(raw, list) and raw else raw
        return str(raw).strip() if raw else ""

    compound, month = last("entry_compound"), last("entry_month")
    if not compound and not month:
        return None
    try:
        dt.date.fromisoformat(month + "-01")
        if not compound or len(compound) > MAX_VALUE_CHARS or len(month) != 7:
            raise ValueError
    except ValueError:
        notices.append(Notice(f"明细 {compound[:40]} {month[:10]} 无法识别，已忽略",
                              "malformed entry_compound/entry_month ignored"))
        return None
    return compound, month


def waiting(page: str, zh: str, en: str, tables: tuple[str, ...],
            planned: list[tuple[str, str]], query: Mapping[str, Any]):
    """The shared "tables missing or empty" page when any of `tables` has no rows,
    else None (dashboards/_explore_pages.py)."""
    from dashboards._explore_pages import waiting_page

    con = _data.reader().cursor()
    try:
        counts = [q.table_row_count(con, t) for t in tables]
    finally:
        con.close()
    if all(n > 0 for n in counts):
        return None
    return waiting_page(page, zh, en, tables, planned, dict(query))


def unknown_places(view: PeopleView, options: Mapping[str, list[str]]) -> list[str]:
    """Community / compound values in the view that the warehouse does not hold."""
    return [v for k in ("community", "compound") for v in view.get(k)
            if v not in set(options.get(k, ()))]


def compound_options(con) -> dict[str, list[str]]:
    """{'community': [...], 'compound': [...]} from residents, votes and the ledger."""
    pairs = q.people_compounds(con)
    return {"community": sorted({m for _, m in pairs if m}),
            "compound": [c for c, _ in pairs]}


# ------------------------------------------------------------------ layout pieces
def definition(text: str, id: str | None = None) -> html.Details:
    """The figure's definition (口径): hover shows it, a click keeps it open."""
    kwargs = {"id": id} if id else {}
    return html.Details([html.Summary("ⓘ 口径", title=text), html.P(text)],
                        className="explore-def", **kwargs)


def csv_link(name: str, search: str, extra: str = "") -> html.A:
    return html.A("⇩ CSV", href=f"/download/explore/{name}.csv{search}{extra}",
                  className="explore-csv", id=f"explore-csv-{name}",
                  title="下载当前筛选下的数据（UTF-8 CSV）", download="")


def report_links(reports: list[str], view: PeopleView) -> html.Div:
    """'Export report for these filters' links (the exports' own queries)."""
    links = []
    for name in reports:
        if name not in xq.REPORTS:
            continue
        if len(view.get("community")) > 1 or len(view.get("compound")) > 1:
            links.append(html.Span(f"报表 {name}：仅支持单个社区/小区筛选",
                                   className="muted xp-report-off"))
            continue
        links.append(html.A(f"⇩ 报表 {name}", href=f"/download/explore/report_{name}.csv"
                            f"{view.view_search()}", className="explore-csv xp-report",
                            id=f"explore-report-{name}", download="",
                            title=xq.REPORTS[name].description))
    return html.Div([html.Span(label("导出报表（当前筛选）", "Export reports for these "
                                                      "filters"),
                               className="filter-label"), *links],
                    className="xp-reports")


def panel(key: str, zh: str, en: str, text: str, search: str, body, *,
          wide: bool = False, csv: str | None = None) -> html.Section:
    tools = [definition(text, id=f"explore-def-{key}")]
    if csv:
        tools.append(csv_link(csv, search))
    return html.Section(
        [html.Div([html.H2(label(zh, en), className="panel-title"),
                   html.Div(tools, className="panel-tools")], className="panel-head"),
         body],
        className="panel explore-panel" + (" explore-panel--wide" if wide else ""),
        id=f"explore-panel-{key}",
    )


def _dropdown(page: str, key: str, view: PeopleView, options: list[str]) -> html.Label:
    zh, en = FILTER_LABELS[key]
    labels = {**MATTER_LABELS, **STATE_LABELS}
    opts = [{"label": labels.get(v, v), "value": v} for v in options]
    known = set(options)
    opts += [{"label": f"{v} (?)", "value": v} for v in view.get(key) if v not in known]
    return html.Label(
        [html.Span(label(zh, en), className="filter-label"),
         dcc.Dropdown(opts, list(view.get(key)), id=f"xp-{page}-f-{key}", multi=True,
                      placeholder="全部 all", className="explore-dropdown")],
        className="filter")


def chip_items(view: PeopleView, keys: tuple[str, ...]) -> list[tuple[str, object]]:
    items: list[tuple[str, object]] = []
    if view.base.explicit_dates:
        items.append(("dates", None))
    for key in keys:
        items += [(key, v) for v in view.get(key)]
    return items


def _chip_text(view: PeopleView, key: str, value) -> str:
    if key == "dates":
        return f"日期 {view.base.date_from:%Y-%m-%d} – {view.base.date_to:%Y-%m-%d}"
    labels = {**MATTER_LABELS, **STATE_LABELS}
    return f"{FILTER_LABELS[key][0]}: {labels.get(value, value)}"


def controls(page: str, view: PeopleView, options: Mapping[str, list[str]],
             keys: tuple[str, ...], *, dates: bool = True) -> list:
    """The filter row and the chip row of a page."""
    fields = []
    if dates:
        fields += [
            html.Label([html.Span(label("起", "From"), className="filter-label"),
                        dcc.Input(id=f"xp-{page}-from", type="date", debounce=True,
                                  value=view.base.date_from.isoformat(),
                                  className="explore-date")], className="filter"),
            html.Label([html.Span(label("止", "To"), className="filter-label"),
                        dcc.Input(id=f"xp-{page}-to", type="date", debounce=True,
                                  value=view.base.date_to.isoformat(),
                                  className="explore-date")], className="filter"),
        ]
    fields += [_dropdown(page, k, view, list(options.get(k, EXTRA_KEYS.get(k, ()))))
               for k in keys]
    fields.append(html.Button(label("清除筛选", "Clear"), id=f"xp-{page}-clear",
                              className="explore-button", n_clicks=0))
    items = chip_items(view, keys)
    chips = html.Div(
        [html.Span(label("当前筛选", "Active filters"), className="filter-label")]
        + [html.Button([_chip_text(view, k, v), html.Span(" ×", className="chip-x")],
                       id={"type": f"xp-{page}-chip", "index": i}, className="chip",
                       title="移除此筛选 remove this filter", n_clicks=0)
           for i, (k, v) in enumerate(items)]
        + ([] if items else [html.Span("无 none", className="muted")]),
        id=f"xp-{page}-chips", className="explore-chips")
    return [time_controls(f"xp-{page}", view.base, presets=dates),
            html.Div(fields, className="explore-filters"), chips]


def notices_list(page: str, notices: list[Notice]) -> html.Component:
    if not notices:
        return html.Div(id=f"xp-{page}-notices")
    return html.Ul([html.Li([n.zh, html.Span(n.en, className="label-en")])
                    for n in notices], id=f"xp-{page}-notices",
                   className="explore-notices", role="status")


def register_navigation(page: str, keys: tuple[str, ...], *, dates: bool = True,
                        clicks: Callable[[str, Any, PeopleView], PeopleView | None]
                        | None = None, chart_type: str | None = None) -> None:
    """The page's one navigation callback: any filter, chip × or chart click → new URL.

    `clicks(chart_index, point, view)` turns a click on chart `{"type": chart_type}`
    into a new view (None: no navigation)."""
    inputs = []
    if dates:
        inputs += [Input(f"xp-{page}-from", "value"), Input(f"xp-{page}-to", "value")]
    inputs += [Input(f"xp-{page}-f-{k}", "value") for k in keys]
    inputs += [Input({"type": f"xp-{page}-chip", "index": ALL}, "n_clicks"),
               Input(f"xp-{page}-clear", "n_clicks")]
    if chart_type:
        inputs.append(Input({"type": chart_type, "index": ALL}, "clickData"))
    time_inputs = ([f"xp-{page}-preset"] if dates else []) + [f"xp-{page}-asof-input",
                                                              f"xp-{page}-freeze"]
    inputs += [Input(i, "n_clicks" if i.endswith("freeze") else "value")
               for i in time_inputs]

    @callback(Output(f"xp-{page}-url", "search"), *inputs,
              State(f"xp-{page}-view", "data"), prevent_initial_call=True)
    def navigate(*args):
        """A filter, a chip's × or a chart click: the URL of the new view."""
        view, _ = parse_view(args[-1])
        trigger = ctx.triggered_id
        value = ctx.triggered[0]["value"] if ctx.triggered else None
        new = view
        if trigger in time_inputs:
            base = apply_time(view.base, trigger.removeprefix(f"xp-{page}-"), value,
                              local_now(_data.settings()))
            if base is None:
                return no_update
            new = replace(view, base=base)
        elif trigger in (f"xp-{page}-from", f"xp-{page}-to"):
            try:
                base = view.base.with_dates(dt.date.fromisoformat(args[0]),
                                            dt.date.fromisoformat(args[1]))
            except (TypeError, ValueError):
                return no_update
            new = replace(view, base=base)
        elif isinstance(trigger, str) and trigger.startswith(f"xp-{page}-f-"):
            key = trigger.removeprefix(f"xp-{page}-f-")
            value = value or []
            new = view.with_values(key, value if isinstance(value, list) else [value])
        elif trigger == f"xp-{page}-clear":
            new = PeopleView(ExploreState(view.base.date_from, view.base.date_to, {},
                                          asof=view.base.asof,
                                          explicit_dates=view.base.explicit_dates))
        elif isinstance(trigger, dict) and trigger.get("type") == f"xp-{page}-chip":
            if not value:
                return no_update
            items = chip_items(view, keys)
            if trigger["index"] >= len(items):
                return no_update
            key, chip_value = items[trigger["index"]]
            if key == "dates":
                new = replace(view, base=view.base.with_preset(None, view.now()))
            else:
                new = view.with_values(key, [v for v in view.get(key) if v != chip_value])
        elif isinstance(trigger, dict) and clicks and trigger.get("type") == chart_type:
            if not value or not value.get("points"):
                return no_update
            new = clicks(trigger["index"], value["points"][0], view)
            if new is None:
                return no_update
        search = new.search()
        return search if search != view.search() else no_update


def view_store(view: PeopleView) -> dict:
    """What the page keeps of its view for callbacks: the query as a dict of lists."""
    data: dict[str, list[str]] = {}
    for k, v in view.query():
        data.setdefault(k, []).append(v)
    return data


def head(page: str, zh: str, en: str, view: PeopleView, notices: list[Notice],
         extra_meta: str = "") -> list:
    from dashboards.explore_tickets import subnav

    now = view.now()
    return [
        dcc.Location(id=f"xp-{page}-url", refresh="callback-nav"),
        dcc.Store(id=f"xp-{page}-view", data=view_store(view)),
        html.Div([html.H1(label(zh, en)), subnav(page, view.view_search()),
                  ticket_search(f"xp-{page}", view.base)], className="explore-head"),
        html.P([frozen_banner(f"xp-{page}", f"/explore/{page}", view.base),
                f"统计时点 {fmt_time(now)}；日期 {view.base.date_from} 至 "
                f"{view.base.date_to}{extra_meta}",
                html.Span(f"as of {fmt_time(now)}; {view.base.date_from} – "
                          f"{view.base.date_to}", className="label-en")],
               className="meta-line", id=f"xp-{page}-asof"),
        notices_list(page, notices),
    ]


def no_match(page: str, unknown: list[str]) -> html.P:
    """The clear empty state for a URL naming places the warehouse does not hold."""
    return html.P(label(f"没有这些社区/小区：{'、'.join(unknown)}。没有可显示的数据。",
                        f"unknown community/compound {', '.join(unknown)}: nothing to "
                        "show"),
                  className="empty-state explore-empty", id=f"xp-{page}-nomatch")


# ------------------------------------------------------------------ formatting
def fmt_decimal_yuan(value) -> str:
    """An exact Decimal as '¥1,234.50' (string formatting only, no float)."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


def _month(month: dt.date, running: dt.date | None) -> str:
    """'2026-12', or '2026-12（至今）' for the month still running: its closing is a
    balance so far, not a closing (the balance metric's 口径)."""
    return f"{month:%Y-%m}（至今）" if month == running else f"{month:%Y-%m}"


def statement_rows(table, running: dt.date | None = None) -> list[dict]:
    """Statement rows for the grid: exact Decimals formatted as text; `running` is the
    first day of the month still running at the view's as-of (marked 至今)."""
    rows = []
    for r in table.to_pylist():
        rows.append({
            "id": f"{r['compound']}|{r['month']:%Y-%m}",
            "compound": r["compound"], "community": r["community"] or "—",
            "month": _month(r["month"], running),
            "opening": fmt_decimal_yuan(r["opening_yuan"]),
            "income": fmt_decimal_yuan(r["income_yuan"]),
            "expense": fmt_decimal_yuan(r["expense_yuan"]),
            "adjustment": fmt_decimal_yuan(r["adjustment_yuan"]),
            "closing": fmt_decimal_yuan(r["closing_yuan"]),
            "entries": r["entry_count"],
            "published": f"{r['published_on']:%Y-%m-%d}" if r["published_on"]
            else "未公示 not yet",
        })
    return rows


def total_row(total: dict, running: dt.date | None = None) -> dict:
    """The grid's pinned total row (its id has no '|', so a click opens no entries)."""
    start, end = total["months"]
    return {"id": "total", "compound": "全街道合计", "community": f"{total['compounds']} 个小区",
            "month": (f"{start:%Y-%m}–" if start != end else "") + _month(end, running),
            **{key: fmt_decimal_yuan(total[f"{key}_yuan"]) for key in
               ("opening", "income", "expense", "adjustment", "closing")},
            "entries": total["entry_count"], "published": ""}


def statement_totals(table) -> dict | None:
    """The sub-district's statement over the months in view (None when there are none).

    Income, expense and adjustment add up every compound-month; opening is the sum of
    each compound's first month in view and closing (the balance) of each one's last, so
    closing = opening + income - expense + adjustment holds for the total as for a row.
    Exact Decimal sums, no float.
    """
    rows = table.to_pylist()
    if not rows:
        return None
    first: dict[str, dict] = {}
    last: dict[str, dict] = {}
    for r in rows:
        c = r["compound"]
        if c not in first or r["month"] < first[c]["month"]:
            first[c] = r
        if c not in last or r["month"] > last[c]["month"]:
            last[c] = r
    total = {col: sum((r[col] for r in rows), Decimal(0))
             for col in ("income_yuan", "expense_yuan", "adjustment_yuan")}
    total["opening_yuan"] = sum((r["opening_yuan"] for r in first.values()), Decimal(0))
    total["closing_yuan"] = sum((r["closing_yuan"] for r in last.values()), Decimal(0))
    total["entry_count"] = sum(r["entry_count"] for r in rows)
    total["compounds"] = len(first)
    total["months"] = (min(r["month"] for r in rows), max(r["month"] for r in rows))
    return total


def fmt_pct(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return f"{float(value):.1f}%"


# ------------------------------------------------------------------ downloads
def _request_view() -> PeopleView:
    from flask import request

    query = {k: request.args.getlist(k) for k in request.args.keys()}
    return parse_view(query)[0]


def _months_as_text(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    if "month" in df.columns:
        df["month"] = [pd.Timestamp(m).strftime("%Y-%m") for m in df["month"]]
    for col in ("opens_at", "closes_at"):
        if col in df.columns:
            df[col] = [pd.Timestamp(v).strftime("%Y-%m-%d %H:%M:%S") for v in df[col]]
    return df


def _population_frame(con, view: PeopleView) -> pd.DataFrame:
    return population_table(con, view).drop(columns=["row_kind"])


def population_table(con, view: PeopleView) -> pd.DataFrame:
    settings = _data.settings()
    return q.population_table(con, small_count=settings.small_count,
                              key_groups=list(parse_key_groups(settings.key_groups)),
                              year=view.now().year,
                              communities=view.get("community"))


def _entries_frame(con, view: PeopleView) -> pd.DataFrame:
    from flask import request

    compound = request.args.get("entry_compound", "")[:200]
    try:
        month = dt.date.fromisoformat(request.args.get("entry_month", "") + "-01")
    except ValueError:
        month = view.base.date_to.replace(day=1)
    return q.ledger_month_entries(con, compound, month).to_pandas()


def _report(name: str) -> Callable:
    def fetch(con, view: PeopleView) -> pd.DataFrame:
        spec = xq.REPORTS[name]
        settings = _data.settings()
        kwargs: dict[str, Any] = {}
        if spec.uses_period:
            kwargs.update(date_from=view.base.date_from, date_to=view.base.date_to)
        if spec.uses_as_of:
            kwargs["as_of"] = view.now()
        for key in ("community", "compound"):
            if key in spec.filters and view.get(key):
                kwargs[key] = view.get(key)[0]
        kwargs.update({k: v for k, v in xq.settings_values(settings).items()
                       if k in spec.settings_params})
        return xq.report_table(con, name, **kwargs).to_pandas()

    return fetch


PEOPLE_DOWNLOADS: dict[str, Callable] = {
    "votes": lambda con, v: _months_as_text(q.vote_table(con, v.filters(), now=v.now())),
    "participation_monthly": lambda con, v: _months_as_text(
        q.participation_by_month(con, v.filters())),
    "participation_compounds": lambda con, v: q.participation_by_compound(
        con, v.filters()),
    "ledger_statement": lambda con, v: _months_as_text(
        q.ledger_statements(con, v.filters()).to_pandas()),
    "ledger_categories": lambda con, v: q.ledger_categories(con, v.filters()).to_pandas(),
    "ledger_entries": _entries_frame,
    "population": _population_frame,
    **{f"report_{name}": _report(name) for name in
       ("participation", "vote_results", "ledger_statement", "ledger_entries",
        "population_summary")},
}


def _adapt(fetch: Callable) -> Callable:
    def download_frame(con, _state, _now):
        return fetch(con, _request_view())

    return download_frame


def register_downloads() -> None:
    """Add this module's CSVs to the explorer's download allow-list (idempotent)."""
    for name, fetch in PEOPLE_DOWNLOADS.items():
        _downloads.DOWNLOADS.setdefault(name, _adapt(fetch))


register_downloads()
