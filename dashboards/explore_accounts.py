"""Explorer, accounts: monthly public-accounts statements per compound (opening, income,
expense, adjustment, closing) with the entries behind each figure, and the top income
and expense categories.

Money is read through Arrow as exact Decimal and formatted here as text; bar lengths are
the only place a float appears (plotting), never arithmetic. Clicking a statement row or
a bar shows the entries of that compound-month (from the journal, so they add up to the
statement). View state is the URL (dashboards/_explore_people.py).

The statements fill the first screen; the two charts below them are mounted and drawn
only when they come near the window (`_explore_pages.lazy_slot`), so a page load neither
loads plotly nor draws 60 bars nobody sees yet (Total Blocking Time, docs/benchmarks-history.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlencode

import dash
import dash_ag_grid as dag
import duckdb
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboards import _data
from dashboards import _explore_figures as figs
from dashboards import _explore_people as xp
from dashboards._components import label, unavailable
from dashboards._explore_pages import lazy_slot
from pipelines.metrics.windows import period_start
from pipelines.queries import QueryError
from pipelines.queries import explore as q
from pipelines.warehouse import WarehouseError

logger = logging.getLogger(__name__)

dash.register_page(__name__, path="/explore/accounts", name="收支分析 Accounts",
                   title="收支分析 / Accounts explorer", order=13)

PAGE = "accounts"
TABLES = ("ledger_entries", "ledger_monthly")
PLANNED = [("各小区月度收支表", "monthly statement per compound"), ("每个数字背后的明细", "the entries behind each figure")]
KEYS = ("community", "compound")
MONEY = ("opening_yuan", "income_yuan", "expense_yuan", "adjustment_yuan",
         "closing_yuan")

DEFS = {
    "statements": "各小区每月公共收支表，月份为与所选时段重叠的自然月（来自 ledger_monthly）："
                  "期末 = 期初 + 收入 − 支出 + 调整；每月期末即下月期初。调整 = 本月内载入的、对已"
                  "公示月份的更正（已公示月份的数字不再改变）。金额为精确的两位小数（decimal），"
                  "不经浮点。点击一行查看该小区该月的明细。",
    "bars": "所选时段最后一个月，各小区的收入与支出（与收支表同一来源），按结余（收入 − 支出）"
            "从低到高排列，入不敷出最多的在最上。点击条形查看该小区该月的明细。",
    "categories": "收支表所含月份中，按类别汇总的收入与支出（来自记账流水 ledger_postings，"
                  "调整计入被更正条目的类别），与收支表的收入、支出合计一致。",
    "entries": "所选小区、月份收支表背后的每一笔：本月的条目（按公示时的金额）和本月记入的调"
               "整（对已公示月份条目的更正，带符号）。收入行合计 = 收入，支出行合计 = 支出。",
}

COLUMNS = [
    {"field": "compound", "headerName": "小区 Compound", "pinned": "left", "width": 130},
    {"field": "community", "headerName": "社区 Community", "width": 120},
    {"field": "month", "headerName": "月份 Month", "width": 100},
    {"field": "opening", "headerName": "期初 Opening", "type": "rightAligned"},
    {"field": "income", "headerName": "收入 Income", "type": "rightAligned"},
    {"field": "expense", "headerName": "支出 Expense", "type": "rightAligned"},
    {"field": "adjustment", "headerName": "调整 Adjustment", "type": "rightAligned"},
    {"field": "closing", "headerName": "期末 Closing", "type": "rightAligned"},
    {"field": "entries", "headerName": "笔数 Lines", "type": "rightAligned", "width": 90},
    {"field": "published", "headerName": "公示 Published", "width": 120},
]

# The grid is as tall as its page of rows (no scrolling inside a scrolling page), from
# heights set here rather than left to the theme, so the room is known before it draws.
PAGE_ROWS = 20
ROW_PX, HEADER_PX, PAGER_PX = 42, 48, 48

xp.register_navigation(PAGE, KEYS)


def grid_height(rows: int, total: bool) -> int:
    """Pixels of the statements grid showing `rows` rows (at most a page), its pinned
    total row when `total`, header, pager and borders."""
    shown = max(1, min(rows, PAGE_ROWS)) + (1 if total else 0)
    return HEADER_PX + ROW_PX * shown + PAGER_PX + 4


def bars_height(compounds: int) -> int:
    """Height of the last month's chart with one row per compound."""
    return max(260, 36 * compounds + 90)


def figure_month_bars(table) -> go.Figure:
    """Income and expense per compound in the last month of the view: horizontal bars,
    the worst month (expense furthest above income) at the top, one row per compound so
    that 30 names stay readable (the chart grows with them)."""
    rows = table.to_pylist()
    if not rows:
        return figs.empty_figure("没有收支数据", "No statements")
    last = max(r["month"] for r in rows)
    rows = sorted((r for r in rows if r["month"] == last),
                  key=lambda r: (r["income_yuan"] - r["expense_yuan"], r["compound"]))
    names = [figs.safe_label(r["compound"]) for r in rows]
    custom = [[r["compound"], f"{last:%Y-%m}"] for r in rows]
    fig = go.Figure()
    for col, name, colour in (("income_yuan", "收入 income", figs.PCT_COLOUR),
                              ("expense_yuan", "支出 expense", figs.ACCENT)):
        fig.add_bar(y=names, x=[float(r[col]) for r in rows], name=name,
                    orientation="h", marker={"color": colour}, customdata=custom,
                    text=[f"{r[col]:,.0f}" for r in rows], textposition="outside",
                    cliponaxis=False,
                    hovertext=[f"{n} {name.split()[0]} {xp.fmt_decimal_yuan(r[col])}；"
                               f"结余 {xp.fmt_decimal_yuan(r['income_yuan'] - r['expense_yuan'])}"
                               for n, r in zip(names, rows)],
                    hoverinfo="text")
    fig = figs._base(fig, height=bars_height(len(rows)))
    fig.update_layout(barmode="group", bargap=0.25, showlegend=True,
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
                      margin={"l": 56, "r": 72, "t": 40, "b": 40},
                      title={"text": f"{last:%Y-%m}", "x": 0.99, "y": 0.995,
                             "yanchor": "top", "font": {"size": 13}})
    # first row (worst) at the top; names set their own margin, never cut
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    fig.update_xaxes(title={"text": "元 yuan", "font": {"size": 12}})
    return fig


def figure_categories(table) -> go.Figure:
    """Top income and expense categories (horizontal bars, exact amounts as text)."""
    rows = table.to_pylist()
    if not rows:
        return figs.empty_figure("没有收支数据", "No statements")
    rows = sorted(rows, key=lambda r: (r["direction"], r["amount_yuan"]))
    fig = go.Figure()
    for direction, name, colour in (("expense", "支出 expense", figs.ACCENT),
                                    ("income", "收入 income", figs.PCT_COLOUR)):
        part = [r for r in rows if r["direction"] == direction][-8:]
        fig.add_bar(y=[f"{figs.safe_label(r['category'])} · {name.split()[0]}"
                       for r in part],
                    x=[float(r["amount_yuan"]) for r in part], orientation="h",
                    name=name, marker={"color": colour},
                    text=[xp.fmt_decimal_yuan(r["amount_yuan"]) for r in part],
                    textposition="outside", cliponaxis=False)
    fig = figs._base(fig, height=max(260, 30 * len(rows) + 80))
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": 1.08, "x": 0},
                      margin={"l": 56, "r": 110, "t": 36, "b": 36})
    fig.update_yaxes(automargin=True, type="category")
    fig.update_xaxes(title={"text": "元 yuan", "font": {"size": 12}})
    return fig


def layout(**query):
    """Accounts explorer for the view in the URL query."""
    try:
        pending = xp.waiting(PAGE, "收支分析", "Accounts explorer", TABLES, PLANNED, query)
        if pending is not None:
            return pending
        con = _data.reader().cursor()
        try:
            options = xp.compound_options(con)
            view, notices = xp.parse_view(query, options)
            unknown = xp.unknown_places(view, options)
            if not unknown:
                statements = q.ledger_statements(con, view.filters())
                opened = entries_for(con, view) if view.entry else None
        finally:
            con.close()
    except (WarehouseError, QueryError, duckdb.Error) as e:
        logger.warning("accounts explorer: data unavailable: %s", e)
        return html.Div([html.H1(label("收支分析", "Accounts explorer")),
                         unavailable(str(e), id="explore-accounts-unavailable")],
                        className="page page-explore")
    search = view.view_search()
    parts = xp.head(PAGE, "收支分析", "Accounts explorer", view, notices)
    parts += xp.controls(PAGE, view, options, KEYS)
    parts.append(xp.report_links(["ledger_statement", "ledger_entries"], view))
    if unknown:
        parts.append(xp.no_match(PAGE, unknown))
        return html.Div(parts, className="page page-explore")
    running = period_start("month", view.now().date())
    rows = xp.statement_rows(statements, running)
    total = xp.statement_totals(statements)
    height = grid_height(len(rows), bool(total))
    grid = dag.AgGrid(
        id="xp-accounts-statements",
        rowData=rows,
        columnDefs=COLUMNS,
        defaultColDef={"sortable": True, "resizable": True, "width": 130},
        getRowId="params.data.id",
        dashGridOptions={"pagination": True, "paginationPageSize": PAGE_ROWS,
                         "rowHeight": ROW_PX, "headerHeight": HEADER_PX,
                         "paginationPageSizeSelector": False,
                         # the sub-district's total stays under every page and sort
                         "pinnedBottomRowData": [xp.total_row(total, running)] if total
                         else [],
                         "rowSelection": {"mode": "singleRow", "checkboxes": False,
                                          "enableClickSelection": True}},
        className="ag-theme-alpine-dark explore-grid",
        style={"height": f"{height}px", "width": "100%"},
    )
    empty = [] if rows else [html.P(label("没有符合这些筛选条件的收支表",
                                          "No statements match these filters"),
                                    className="empty-state explore-empty",
                                    id="xp-accounts-empty")]
    # the grid's room is kept before AG Grid's code arrives: in an empty slot the charts
    # below would be in view for a moment, and be mounted, then pushed down
    slot = html.Div([*empty, grid], className="explore-grid-slot",
                    style={"minHeight": f"{height}px"})
    parts.append(html.Div([
        xp.panel("statements", "月度收支表", "Monthly statements", DEFS["statements"],
                 search, slot, wide=True, csv="ledger_statement"),
        xp.panel("bars", "最后一个月各小区收支", "Last month by compound", DEFS["bars"],
                 search, _chart("xp-accounts-bars", bars_height(_last_month_rows(statements))),
                 csv="ledger_statement"),
        xp.panel("categories", "主要收支类别", "Top categories", DEFS["categories"],
                 search, _chart("xp-accounts-categories", None), csv="ledger_categories"),
        xp.panel("entries", "明细", "Entries behind the figures", DEFS["entries"], search,
                 html.Div(opened or html.P(label("点击收支表的一行或柱形",
                                                 "click a statement row or a bar"),
                                           className="empty-state"),
                          id="xp-accounts-entries"),
                 wide=True),
    ], className="explore-charts"))
    return html.Div(parts, className="page page-explore")


def _last_month_rows(table) -> int:
    """Statement rows of the view's last month: the bars chart's compounds."""
    months = table.column("month").to_pylist()
    return months.count(max(months)) if months else 0


def _chart(id_: str, height: int | None) -> html.Div:
    """A chart's place, its graph `id_` mounted when it nears the window
    (`mount_bars`, `mount_categories`); `height`, when known, is kept for it."""
    return html.Div(lazy_slot(id_, None, "explore-graph"),
                    style={"minHeight": f"{height}px"} if height else None)


def _graph(id_: str, figure) -> dcc.Graph:
    # its height kept before plotly draws it, so the panels below do not move then
    return dcc.Graph(id=id_, figure=figure, config={"displayModeBar": False},
                     className="explore-graph",
                     style={"minHeight": f"{figure.layout.height}px"})


def _mounted(seen, data: dict, id_: str, query, figure) -> dcc.Graph:
    """Graph `id_` of `figure(query(con, filters))` for the view in `data`, once its
    place is `seen` near the window."""
    if not seen:
        raise PreventUpdate
    view, _ = xp.parse_view(data)
    con = _data.reader().cursor()
    try:
        table = query(con, view.filters())
    finally:
        con.close()
    return _graph(id_, figure(table))


@callback(Output("xp-accounts-bars-slot", "children"), Input("xp-accounts-bars-seen", "data"),
          State("xp-accounts-view", "data"), prevent_initial_call=True)
def mount_bars(seen, data):
    """The last month's chart of the view, once it is near the window."""
    return _mounted(seen, data, "xp-accounts-bars", q.ledger_statements, figure_month_bars)


@callback(Output("xp-accounts-categories-slot", "children"),
          Input("xp-accounts-categories-seen", "data"), State("xp-accounts-view", "data"),
          prevent_initial_call=True)
def mount_categories(seen, data):
    """The top categories chart of the view, once it is near the window."""
    return _mounted(seen, data, "xp-accounts-categories", q.ledger_categories,
                    figure_categories)


@callback(
    Output("xp-accounts-url", "search", allow_duplicate=True),
    Input("xp-accounts-statements", "cellClicked"),
    # the chart is mounted when scrolled to (lazy_slot): until then this is None
    Input("xp-accounts-bars", "clickData", allow_optional=True),
    State("xp-accounts-view", "data"),
    prevent_initial_call=True,
)
def open_entries(cell, click, data):
    """A statement row or bar clicked: the URL of the view with that compound-month
    open (a history entry, so Back closes it and a copied link reopens it)."""
    if ctx.triggered_id == "xp-accounts-statements":
        if not cell or not cell.get("rowId") or "|" not in cell["rowId"]:
            return no_update
        compound, month_text = cell["rowId"].rsplit("|", 1)
    else:
        if not click or not click.get("points"):
            return no_update
        compound, month_text = click["points"][0]["customdata"]
    view, _ = xp.parse_view(data)
    new, _ = xp.parse_view({**data, "entry_compound": compound,
                                  "entry_month": month_text})
    if new.entry is None or new.entry == view.entry:
        return no_update
    return new.search()


def entries_for(con, view: xp.PeopleView) -> html.Div:
    """The open drill-down (`view.entry`): the compound-month's entries and statement."""
    compound, month_text = view.entry
    month = dt.date.fromisoformat(month_text + "-01")
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    entries = q.ledger_month_entries(con, compound, month).to_pylist()
    line = q.ledger_statements(con, q.PeopleFilters(
        month, nxt - dt.timedelta(days=1), compounds=(compound,))).to_pylist()
    return entries_view(compound, month, entries, line[0] if line else None,
                        view.view_search())


def entries_view(compound: str, month: dt.date, entries: list[dict],
                 statement: dict | None, search: str) -> html.Div:
    """The lines of one compound-month and the statement figures they add up to."""
    extra = "&" + urlencode({"entry_compound": compound, "entry_month": f"{month:%Y-%m}"})
    head = [html.H3(f"{compound} · {month:%Y-%m}", id="xp-accounts-entries-title"),
            xp.csv_link("ledger_entries", search, extra)]
    if statement:
        head.append(html.P(
            [f"期初 {xp.fmt_decimal_yuan(statement['opening_yuan'])} · 收入 ",
             html.B(xp.fmt_decimal_yuan(statement["income_yuan"]),
                    id="xp-accounts-entries-income"),
             " · 支出 ", html.B(xp.fmt_decimal_yuan(statement["expense_yuan"]),
                              id="xp-accounts-entries-expense"),
             f" · 调整 {xp.fmt_decimal_yuan(statement['adjustment_yuan'])} · 期末 "
             f"{xp.fmt_decimal_yuan(statement['closing_yuan'])}"],
            className="meta-line"))
    if not entries:
        return html.Div(head + [html.P(label("该月没有条目", "no entries this month"),
                                       className="empty-state")])
    rows = [html.Tr([
        html.Td(e["entry_id"]), html.Td(f"{e['booked_on']:%Y-%m-%d}"
                                        if e["booked_on"] else "—"),
        html.Td("收入 income" if e["direction"] == "income" else "支出 expense"),
        html.Td(e["category"] or "—"),
        html.Td(xp.fmt_decimal_yuan(e["amount_yuan"]), className="col-count",
                **{"data-key": f"{e['entry_id']}.{e['direction']}"}),
        html.Td(e["counterparty"] or "—"), html.Td(e["voucher_no"] or "—"),
        html.Td(e["note"] or "—"),
        html.Td("调整 adjustment" if e["is_adjustment"] else ""),
    ], className="row-warning" if e["is_adjustment"] else None) for e in entries]
    table = html.Table(
        [html.Thead(html.Tr([html.Th(label(zh, en)) for zh, en in (
            ("编号", "Entry"), ("日期", "Booked"), ("方向", "Direction"),
            ("类别", "Category"), ("金额", "Amount"), ("对方", "Counterparty"),
            ("凭证", "Voucher"), ("摘要", "Note"), ("", ""))])),
         html.Tbody(rows)], className="data-table xp-table", id="xp-accounts-entry-table")
    return html.Div(head + [html.Div(table, className="xp-scroll")])
