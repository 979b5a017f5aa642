"""Explorer, tickets: filter, cross-filter, compare, page through and download tickets.

The view is a function of the URL query (dashboards/_explore_state.py): every filter
change, chart click, chip removal or table header sort writes a new URL through
`explore-url`'s href (refresh="callback-nav"), and Dash Pages rebuilds this layout from
it. Back therefore undoes a filter, and a copied link reproduces the view. Paging the
table only replaces `row=` in the current URL (dashboards/assets/explore.js).
The first chart, the summary and the breakdown table are built with the page (as
callbacks they were three requests after it, docs/benchmarks-history.md); each chart below
them, and each block of the table, is a callback when it nears the window. Each calls
one query function (pipelines/queries/explore.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging

import dash
import dash_ag_grid as dag
import duckdb
import pandas as pd
from dash.exceptions import PreventUpdate
from dash import (ALL, MATCH, ClientsideFunction, Input, Output, State, callback,
                  clientside_callback, ctx, dcc, html, no_update)

from dashboards import _data
from dashboards import _explore_figures as figs
from dashboards._components import fmt_time, label, unavailable
from dashboards._downloads import TICKET_VALUES_ZH
from dashboards._explore_breakdown import (BY_LABELS, PARTIAL_ZH, breakdown_keys,
                                           breakdown_table)
from dashboards._explore_pages import lazy_slot
from dashboards._explore_state import (LIST_KEYS, MEASURES, PAGE_SIZE, ExploreState,
                                       cell_view, parse_query, sort_from_columns)
from dashboards._explore_time import (apply_time, frozen_banner, instant_controls, judged_at,
                                      preset_control, ticket_search)
from dashboards._explore_timeline import timeline
from dashboards._serving import error_reference
from pipelines import queries
from pipelines.dimensions import label as label_of
from pipelines.metrics.windows import shift_periods
from pipelines.queries import QueryError
from pipelines.queries import explore as q
from pipelines.queries.shared import shared_frame, shared_judged_frame
from pipelines.settings import local_now
from pipelines.warehouse import WarehouseError

logger = logging.getLogger(__name__)

PATH = "/explore/tickets"
dash.register_page(__name__, path=PATH, name="事件分析 Tickets",
                   title="事件分析 / Ticket explorer", order=11)

# chart id -> (Chinese title, English title, definition 口径, download name)
CHARTS: dict[str, tuple[str, str, str]] = {
    "trend": ("事件趋势", "Tickets over time",
              "按上报时间（reported_at）所在日/周（周一起）/月计数；办结率 = 截至统计时点已办结 ÷ "
              "上报；按时办结率 = 在期限（deadline_at）前办结 ÷（已办结 + 超期未办结），期限内"
              "仍在办的不计入分子分母。点击某期可把日期范围缩到该期。"),
    "level": ("事件等级", "By level",
              "所选时段内上报的事件按等级（1–4）分组；本图不受等级筛选本身影响，已选中的等级高亮。"),
    "category": ("事件类别", "By category",
                 "按事件类别（category）分组；点击条形即按该类别筛选其他图表。"),
    "community": ("社区", "By community", "按事件所属社区（community）分组。"),
    "grid": ("网格", "By grid", "按网格（grid）分组；未填网格的事件单列为“未填”。"),
    "source": ("来源", "By source", "按上报渠道（source）分组。"),
    "handler": ("处置主体", "By handler",
                "按处置主体（handler：物业、社区、部门、居民自治）分组。"),
    "close_time": ("办结用时", "Time to close",
                   "所选时段内上报、截至统计时点已办结的事件，从上报（reported_at）到办结"
                   "（closed_at）的小时数，按等级取中位数和 90 分位数（连续插值）。"),
    "sat_grid": ("各网格满意率", "Satisfaction by grid",
                 "满意率 = 评价为“满意”的事件 ÷ 有评价的事件（未评价不计），按网格。"),
    "sat_handler": ("各处置主体满意率", "Satisfaction by handler",
                    "满意率 = 评价为“满意”的事件 ÷ 有评价的事件（未评价不计），按处置主体。"),
}
BREAKDOWN_DIMENSION = {"level": "level", "category": "category", "community": "community",
                       "grid": "grid", "source": "source", "handler": "handler",
                       "sat_grid": "grid", "sat_handler": "handler"}
CLICK_KEY = {**BREAKDOWN_DIMENSION, "close_time": "level"}

MEASURE_LABELS = {
    "reported": ("事件数", "Tickets"),
    "closure": ("办结率", "Closure %"),
    "on_time": ("按时办结率", "On-time %"),
    "satisfaction": ("满意率", "Satisfaction %"),
    "overdue": ("超期未办结", "Overdue"),
}
STATUS_LABELS = figs.bilingual(figs.STATUSES)
# the ticket table's coded columns named as the ticket list file names them: its
# headers are bilingual, and a bilingual cell ("社区 community") did not fit its column
TABLE_LABELS = {col: TICKET_VALUES_ZH[col] for col in ("handler", "status", "satisfaction")}
FILTER_LABELS = {"community": label_of("community"), "grid": label_of("grid"),
                 "compound": label_of("compound"), "category": ("类别", "Category"),
                 "level": ("等级", "Level"), "source": ("来源", "Source"),
                 "handler": ("处置主体", "Handler"), "status": ("状态", "Status")}

SUMMARY_ROWS = (
    ("reported_count", "上报事件", "Reported", False,
     "所选时段内上报（reported_at）的事件数"),
    ("closed_count", "已办结", "Closed", False, "其中截至统计时点已办结的事件数"),
    ("closure_pct", "办结率 %", "Closure %", True, "已办结 ÷ 上报"),
    ("on_time_pct", "按时办结率 %", "On-time %", True,
     "在期限前办结 ÷（已办结 + 超期未办结）；期限内仍在办的不计"),
    ("overdue_count", "超期未办结", "Overdue", False,
     "统计时点仍未办结且已过期限（deadline_at）的事件数"),
    ("satisfaction_pct", "满意率 %", "Satisfaction %", True, "满意 ÷ 有评价"),
    ("median_close_hours", "办结用时中位数（小时）", "Median hours to close", True,
     "已办结事件从上报到办结的小时数中位数"),
)

TABLE_COLUMNS = [
    {"field": "ticket_id", "headerName": "编号 ID", "filter": "agTextColumnFilter",
     "pinned": "left", "width": 130},
    {"field": "reported_at", "headerName": "上报 Reported", "width": 150},
    {"field": "level", "headerName": "等级 Lv", "width": 80},
    {"field": "category", "headerName": "类别 Category", "filter": "agTextColumnFilter"},
    {"field": "community", "headerName": "社区 Community", "filter": "agTextColumnFilter"},
    {"field": "grid", "headerName": "网格 Grid", "filter": "agTextColumnFilter"},
    {"field": "compound", "headerName": "小区 Compound", "filter": "agTextColumnFilter"},
    {"field": "handler", "headerName": "处置 Handler", "width": 110},
    {"field": "status", "headerName": "状态 Status", "width": 100},
    {"field": "deadline_at", "headerName": "期限 Deadline", "width": 150},
    {"field": "closed_at", "headerName": "办结 Closed", "width": 150},
    {"field": "satisfaction", "headerName": "评价 Rating", "width": 100},
    {"field": "description", "headerName": "描述 Description", "sortable": False,
     "filter": "agTextColumnFilter", "flex": 1, "minWidth": 200},
]


@functools.lru_cache(maxsize=4)
def _options_cached(db_path: str, version: str) -> dict[str, list[str]]:
    con = _data.reader().cursor()
    try:
        return q.ticket_options(con)
    finally:
        con.close()


def _options(con) -> dict[str, list[str]]:
    """Filter values, cached per data version and write time (a load or a restored
    backup changes them)."""
    return _options_cached(str(_data.settings().db_path), queries.current_version(con))


def _now(state: ExploreState, con=None) -> dt.datetime:
    """The view's judging instant (`judged_at`; a pinned one reads nothing). Every
    callback of a page judges at one instant, and a result computed for it serves the
    others until a load moves the cut-off."""
    if state.asof:
        return state.asof
    if con is not None:
        return judged_at(con, state, local_now(_data.settings()))
    con = _data.reader().cursor()
    try:
        return judged_at(con, state, local_now(_data.settings()))
    finally:
        con.close()


def _state(data) -> ExploreState:
    return ExploreState.from_store(data)


def definition(text: str) -> html.Details:
    """The figure's definition (口径): hover shows it, a click keeps it open."""
    return html.Details([html.Summary("ⓘ 口径", title=text), html.P(text)],
                        className="explore-def")


def download_link(name: str, search: str, kind: str = "csv") -> html.A:
    """A link to the panel's data under the view's filters (CSV or XLSX)."""
    return html.A(f"⇩ {kind.upper()}", href=f"/download/explore/{name}.{kind}{search}",
                  className="explore-csv", id=f"explore-{kind}-{name}",
                  title=f"下载当前筛选下的数据（{kind.upper()}，中文表头；"
                        "加 &labels=code 得代码）", download="")


def breakdown_panel(state: ExploreState, search: str) -> html.Section:
    """Any declared measure by one or two dimensions: the table and its files."""
    measures = [{"label": f"{m.name_zh} {m.name_en}", "value": m.id}
                for m in q.BREAKDOWN_MEASURES.values()]
    dims = [{"label": f"{zh} {en}", "value": k} for k, (zh, en) in BY_LABELS.items()]
    m = q.BREAKDOWN_MEASURES[state.bmeasure]
    return html.Section(
        [
            html.Div([html.H2(label("分组分析", "Breakdown"), className="panel-title"),
                      html.Div([definition(
                          f"{m.name_zh}：{m.definition_zh}。按所选维度分组（时段按上方"
                          "时间粒度），差的或大的在前；合计行按全部事件计算（不是各行相"
                          "加或平均）。标“（部分）”的时段被日期范围截断或尚未结束。"),
                          download_link("breakdown", search),
                          download_link("breakdown", search, "xlsx")],
                          className="panel-tools")], className="panel-head"),
            html.Div(
                [html.Label([html.Span(label("指标", "Measure"), className="filter-label"),
                             dcc.Dropdown(measures, state.bmeasure, id="explore-bm",
                                          clearable=False, className="explore-dropdown")],
                            className="filter"),
                 html.Label([html.Span(label("按", "By"), className="filter-label"),
                             dcc.Dropdown(dims, state.by, id="explore-by",
                                          clearable=False, className="explore-dropdown")],
                            className="filter"),
                 html.Label([html.Span(label("再按（列）", "Then by (columns)"),
                                       className="filter-label"),
                             dcc.Dropdown(dims, state.by2, id="explore-by2",
                                          placeholder="无 none",
                                          className="explore-dropdown")],
                            className="filter"),
                 # how a two-dimension breakdown is drawn (`bview`): in the URL, so
                 # Back and a copied link show the same picture
                 html.Div([html.Span(label("显示", "Show"), className="filter-label"),
                           dcc.RadioItems(
                               [{"label": "表格 pivot", "value": "pivot"},
                                {"label": "热力图 heatmap", "value": "heatmap",
                                 "disabled": state.by2 is None}],
                               state.bview, id="explore-bview", inline=True,
                               className="explore-radio")],
                          className="filter")],
                className="explore-filters explore-breakdown-controls"),
            # a pivot (two dimensions, up to 500 x 500 cells) is built for each request,
            # not kept: one such table held in memory could be hundreds of MB
            html.Div(_guarded("breakdown", breakdown, state, keep=state.by2 is None),
                     id="explore-breakdown"),
        ],
        className="panel explore-panel explore-panel--wide", id="explore-panel-breakdown",
    )


def panel(chart: str, search: str, body, *, wide: bool = False) -> html.Section:
    zh, en, text = CHARTS[chart]
    return html.Section(
        [
            html.Div([html.H2(label(zh, en), className="panel-title"),
                      html.Div([definition(text), download_link(chart, search)],
                               className="panel-tools")],
                     className="panel-head"),
            body,
        ],
        className="panel explore-panel" + (" explore-panel--wide" if wide else ""),
        id=f"explore-panel-{chart}",
    )


def chart(chart_id: str) -> html.Div:
    """The chart's place and its "seen" flag. Its graph is mounted and drawn once the
    place comes near the window (explore.js sets the flag, at once for the charts on
    screen), so a page load draws only what is on screen and asks the server nothing
    for the rest. CSS keeps each place's height."""
    return html.Div([
        dcc.Store(id={"type": "explore-chart-seen", "index": chart_id}, data=False),
        html.Div(id={"type": "explore-chart-slot", "index": chart_id},
                 className="explore-graph explore-graph--lazy"),
    ])


def chips(state: ExploreState) -> list[tuple[str, object]]:
    """Active filters in display order: (key, value); the index is the chip's id."""
    items: list[tuple[str, object]] = []
    if state.explicit_dates:
        items.append(("dates", None))
    for key in LIST_KEYS:
        items += [(key, v) for v in state.get(key)]
    return items


def _chip_text(state: ExploreState, key: str, value) -> str:
    if key == "dates":
        return f"日期 {state.date_from:%Y-%m-%d} – {state.date_to:%Y-%m-%d}"
    zh, _en = FILTER_LABELS[key]
    if key == "status":
        return f"{zh}: {STATUS_LABELS[value]}"
    if key == "level":
        return f"{zh}: {value}级"
    if key == "handler":
        return f"{zh}: {figs.HANDLER_NAMES.get(value, value)}"
    return f"{zh}: {value}"


def subnav(active: str, search: str) -> html.Nav:
    pages = [("tickets", "事件", "Tickets"), ("participation", "参与", "Participation"),
             ("accounts", "收支", "Accounts"), ("population", "人口", "Population"),
             ("warnings", "预警", "Warnings")]
    return html.Nav(
        [dcc.Link(label(zh, en), href=f"/explore/{key}{search}",
                  className="explore-tab" + (" is-active" if key == active else ""))
         for key, zh, en in pages],
        className="explore-tabs", **{"aria-label": "分析主题 Explorer topics"},
    )


def _dropdown(key: str, state: ExploreState, options: list) -> html.Div:
    zh, en = FILTER_LABELS[key]
    if key == "handler":
        opts = [{"label": figs.HANDLER_NAMES.get(v, v), "value": v} for v in options]
    elif key == "level":
        opts = [{"label": f"{n}级 L{n}", "value": n} for n in options]
    elif key == "status":
        opts = [{"label": STATUS_LABELS[v], "value": v} for v in options]
    else:
        opts = [{"label": v, "value": v} for v in options]
    known = {o["value"] for o in opts}
    # Values from the URL that the warehouse lacks stay selectable, so the chip and the
    # dropdown agree with the URL.
    opts += [{"label": f"{v} (?)", "value": v} for v in state.get(key) if v not in known]
    return html.Label(
        [html.Span(label(zh, en), className="filter-label"),
         dcc.Dropdown(opts, list(state.get(key)), id=f"explore-f-{key}", multi=True,
                      placeholder="全部 all", className="explore-dropdown")],
        className="filter",
    )


def ticket_grid(state: ExploreState) -> dag.AgGrid:
    """The ticket table of the view: its sort and page from the URL, rows from
    `table_rows`."""
    return dag.AgGrid(
        id="explore-table",
        rowModelType="infinite",
        columnDefs=[
            {**c, **({"sort": q.parse_sort(state.sort)[1]}
                     if c["field"] == q.parse_sort(state.sort)[0] else {})}
            for c in TABLE_COLUMNS
        ],
        defaultColDef={"sortable": True, "resizable": True, "width": 120,
                       "filterParams": {"filterOptions": ["contains"],
                                        "maxNumConditions": 1}},
        dashGridOptions={"pagination": True, "paginationPageSize": PAGE_SIZE,
                         "cacheBlockSize": PAGE_SIZE, "maxBlocksInCache": 4,
                         "rowBuffer": 0,
                         # Until the first block answers, the grid knows only this many
                         # rows, and paginationGoTo stops at the last page they make.
                         "infiniteInitialRowCount": state.row + PAGE_SIZE,
                         # dash-ag-grid keeps only the latest getRows request: two in
                         # flight (page 1, then the page of `row`) would cross answers.
                         "maxConcurrentDatasourceRequests": 1,
                         "paginationPageSizeSelector": False,
                         "rowSelection": {"mode": "singleRow", "checkboxes": False,
                                          "enableClickSelection": True}},
        getRowId="params.data.ticket_id",
        # A page, not scrollTo: its ensureIndexVisible stayed on page 1 (AG Grid 35).
        paginationGoTo=state.row // PAGE_SIZE if state.row else None,
        className="ag-theme-alpine-dark explore-grid",
        style={"height": "560px", "width": "100%"},
    )


def drawer_fields(state: ExploreState, options: dict[str, list]) -> list:
    """The filter drawer's dropdowns, as-of controls and clear button."""
    return [
        *[_dropdown(k, state, options.get(k, [])) for k in
          ("community", "grid", "compound", "category", "source", "handler")],
        _dropdown("level", state, [1, 2, 3, 4]),
        _dropdown("status", state, list(q.STATUSES)),
        *instant_controls("explore", state),
        html.Button(label("清除筛选", "Clear"), id="explore-clear",
                    className="explore-button", n_clicks=0),
    ]


def layout(**query):
    """The ticket explorer for the view in the URL query."""
    settings = _data.settings()
    try:
        con = _data.reader().cursor()
        try:
            options = _options(con)
            state, notices = parse_query(query, local_now(settings).date(), options)
            now = _now(state, con)
        finally:
            con.close()
    except (WarehouseError, QueryError, duckdb.Error) as e:
        logger.warning("explorer: warehouse unavailable: %s", e)
        return html.Div([html.H1(label("事件分析", "Ticket explorer")),
                         unavailable(str(e), id="explore-unavailable")],
                        className="page page-explore")
    # links carry the view, not the table position or the open ticket
    search = _with(state, row=0).view_only().search()
    opened = _open_ticket(state, now) if state.ticket else None

    chosen = sum(len(state.get(k)) for k in LIST_KEYS)
    # Dates, then a drawer with the other filters: one compact row with the chips, so the
    # first chart is in view at 1366x768 (explore.js keeps the drawer open across rebuilds)
    filters = html.Div(
        [
            html.Label([html.Span(label("起", "From"), className="filter-label"),
                        dcc.Input(id="explore-from", type="date", debounce=True,
                                  value=state.date_from.isoformat(),
                                  className="explore-date")], className="filter"),
            html.Label([html.Span(label("止", "To"), className="filter-label"),
                        dcc.Input(id="explore-to", type="date", debounce=True,
                                  value=state.date_to.isoformat(),
                                  className="explore-date")], className="filter"),
            html.Details([
                html.Summary([*label("更多筛选", "Filters"),
                              html.Span(f" {chosen}" if chosen else "",
                                        className="drawer-count")],
                             className="explore-button"),
                # mounted when the drawer opens (explore.js): eight dropdowns were a
                # good part of React's work at load, for a drawer mostly left closed
                dcc.Store(id="explore-drawer-seen", data=False),
                html.Div(id="explore-drawer-slot", className="explore-filters",
                         **{"data-seen-store": "explore-drawer-seen"}),
            ], className="explore-drawer", id="explore-drawer"),
        ],
        className="explore-bar-filters",
    )
    chip_items = chips(state)
    chip_row = html.Div(
        [html.Span(label("当前筛选", "Active filters"), className="filter-label")]
        + [html.Button([_chip_text(state, k, v), html.Span(" ×", className="chip-x")],
                       id={"type": "explore-chip", "index": i}, className="chip",
                       title="移除此筛选 remove this filter", n_clicks=0)
           for i, (k, v) in enumerate(chip_items)]
        + ([] if chip_items else [html.Span("无（全部事件）none: all tickets",
                                            className="muted")]),
        id="explore-chips", className="explore-chips",
    )
    controls = html.Div(
        [
            html.Span(label("时间粒度", "Grain"), className="filter-label"),
            dcc.RadioItems([{"label": "日 day", "value": "day"},
                            {"label": "周 week", "value": "week"},
                            {"label": "月 month", "value": "month"},
                            {"label": "季 quarter", "value": "quarter"},
                            {"label": "年 year", "value": "year"}],
                           state.grain, id="explore-grain", inline=True,
                           className="explore-radio"),
            html.Span(label("图表指标", "Bars show"), className="filter-label"),
            dcc.RadioItems([{"label": f"{MEASURE_LABELS[m][0]} {MEASURE_LABELS[m][1]}",
                             "value": m} for m in MEASURES],
                           state.measure, id="explore-measure", inline=True,
                           className="explore-radio"),
        ],
        className="explore-controls",
    )
    notice_list = html.Ul([html.Li([n.zh, html.Span(n.en, className="label-en")])
                           for n in notices], id="explore-notices",
                          className="explore-notices", role="status") if notices \
        else html.Div(id="explore-notices")

    return html.Div(
        [
            dcc.Location(id="explore-url", refresh="callback-nav"),
            dcc.Store(id="explore-state", data=state.to_store()),
            html.Div([html.H1(label("事件分析", "Ticket explorer")),
                      subnav("tickets", search), ticket_search("explore", state)],
                     className="explore-head"),
            opened[1] if opened else html.Div(id="explore-find-result"),
            html.P([frozen_banner("explore", PATH, state), f"统计时点 {fmt_time(now)}；按上报日期 {state.date_from} 至 "
                    f"{state.date_to}",
                    html.Span(f"figures as of {fmt_time(now)}; reported "
                              f"{state.date_from} – {state.date_to}",
                              className="label-en")],
                   className="meta-line", id="explore-asof"),
            notice_list,
            # the preset in the bar; the as-of field and 冻结链接 in 更多筛选
            html.Div([html.Div(preset_control("explore", state), className="explore-bar-filters"),
                      filters, chip_row],
                     className="explore-bar"),
            controls,
            # the first chart, the summary and the breakdown table come with the page:
            # as callbacks they were three more requests after it, and each answer more
            # work for the Dash renderer over every component (docs/benchmarks-history.md)
            html.Div(panel("trend", search, html.Div(
                _guarded("trend", drawn_chart, state, "trend"),
                className="explore-graph"), wide=True), className="explore-charts"),
            html.Section(
                [html.Div([html.H2(label("概况与对比", "Summary and comparison"),
                                   className="panel-title"),
                           html.Div([definition(
                               "本期 = 所选日期；上期 = 紧挨在前、天数相同的时段；去年同期 = "
                               "同一日期提前一年。变化 = 本期 − 对比期（比率为百分点），"
                               "% = 变化 ÷ 对比期。统计时点之后的办结不计。"),
                               download_link("summary", search)],
                               className="panel-tools")], className="panel-head"),
                 html.Div(_guarded("summary", summary, state), id="explore-summary")],
                className="panel explore-panel explore-panel--wide",
                id="explore-panel-summary"),
            breakdown_panel(state, search),
            html.Div(
                [panel("level", search, chart("level")),
                 panel("close_time", search, chart("close_time")),
                 panel("category", search, chart("category")),
                 panel("community", search, chart("community")),
                 panel("source", search, chart("source")),
                 panel("handler", search, chart("handler")),
                 panel("grid", search, chart("grid")),
                 panel("sat_grid", search, chart("sat_grid")),
                 panel("sat_handler", search, chart("sat_handler"))],
                className="explore-charts",
            ),
            html.Div(
                [html.Section(
                    [html.Div([html.H2(label("事件明细", "Tickets"),
                                       className="panel-title"),
                               html.Div([definition(
                                   "所选筛选下的每一件事件，服务器端分页、排序、筛选（列标题"
                                   "的筛选为“包含”匹配）。状态按统计时点判断。点击一行查看"
                                   "其办理时间线。"), download_link("tickets", search)],
                                   className="panel-tools")], className="panel-head"),
                     lazy_slot("explore-table",
                               ticket_grid(state) if _table_in_use(state) else None,
                               "explore-grid-slot")],
                    className="panel explore-panel explore-table-panel"),
                 html.Section(
                    [html.H2(label("办理时间线", "Timeline"), className="panel-title"),
                     html.Div(opened[0] if opened else html.P(
                         label("点击表格中的事件", "click a ticket in the table"),
                         className="empty-state"), id="explore-timeline")],
                    className="panel explore-panel explore-timeline-panel")],
                className="explore-table-row",
            ),
        ],
        className="page page-explore",
    )


# ---------------------------------------------------------------- navigation
# The new view's whole href, not its search: explore.js changes the URL behind
# dcc.Location's back (row=), and a Location that then gets a new search pushes its own
# stale href instead, i.e. the view it was built with.
@callback(
    Output("explore-url", "href"),
    Input("explore-from", "value"),
    Input("explore-to", "value"),
    # the drawer's fields are mounted when it opens: until then these are None
    *[Input(f"explore-f-{k}", "value", allow_optional=True) for k in LIST_KEYS],
    Input("explore-grain", "value"),
    Input("explore-measure", "value"),
    Input("explore-bm", "value"),
    Input("explore-by", "value"),
    Input("explore-by2", "value"),
    Input("explore-bview", "value"),
    Input({"type": "explore-chart", "index": ALL}, "clickData"),
    Input({"type": "explore-chip", "index": ALL}, "n_clicks"),
    Input("explore-clear", "n_clicks", allow_optional=True),
    # the table is mounted only when scrolled to (lazy_slot): until then these are None
    Input("explore-table", "columnState", allow_optional=True),
    Input("explore-preset", "value"),
    Input("explore-asof-input", "value", allow_optional=True),
    Input("explore-freeze", "n_clicks", allow_optional=True),
    Input("explore-table", "cellClicked", allow_optional=True),
    State("explore-table", "paginationInfo", allow_optional=True),
    State("explore-state", "data"),
    prevent_initial_call=True,
)
def navigate(date_from, date_to, *args):
    """A filter, a click on a chart, a chip's ×, a header sort, a time control or a
    ticket opened: the new view's URL."""
    state = _state(args[-1])
    trigger = ctx.triggered_id
    new = state
    if trigger == "explore-table" and ctx.triggered[0]["prop_id"].endswith(
            ".cellClicked"):
        # a drill-down: one history entry, the table stays on its page
        cell = ctx.triggered[0]["value"] or {}
        if not cell.get("rowId") or cell["rowId"] == state.ticket:
            return no_update
        info = args[-2] or {}
        row = int(info.get("currentPage") or 0) * PAGE_SIZE
        return PATH + _with(state, ticket=str(cell["rowId"]), row=row).search()
    if trigger in ("explore-preset", "explore-asof-input", "explore-freeze"):
        control = trigger.removeprefix("explore-")
        # a frozen link pins the instant the live view was judged at, so it shows the
        # same figures; presets follow the wall clock's date
        new = apply_time(state, control, ctx.triggered[0]["value"],
                         _now(state) if control == "freeze" else local_now(_data.settings()))
        if new is None:
            return no_update
    elif trigger in ("explore-from", "explore-to"):
        try:
            new = state.with_dates(dt.date.fromisoformat(date_from),
                                   dt.date.fromisoformat(date_to))
        except (TypeError, ValueError):
            return no_update
    elif isinstance(trigger, str) and trigger.startswith("explore-f-"):
        key = trigger.removeprefix("explore-f-")
        value = ctx.triggered[0]["value"] or []
        new = state.with_values(key, value if isinstance(value, list) else [value])
    elif trigger == "explore-grain":
        new = _with(state, grain=args[len(LIST_KEYS)])
    elif trigger == "explore-measure":
        new = _with(state, measure=args[len(LIST_KEYS) + 1])
    elif trigger == "explore-bm":
        new = _with(state, bmeasure=ctx.triggered[0]["value"] or "reported")
    elif trigger in ("explore-by", "explore-by2"):
        by = args[len(LIST_KEYS) + 3] or "category"
        by2 = args[len(LIST_KEYS) + 4] or None
        by2 = None if by2 == by else by2
        new = _with(state, by=by, by2=by2, bview=state.bview if by2 else "pivot")
    elif trigger == "explore-bview":
        new = _with(state, bview=ctx.triggered[0]["value"] or "pivot")
    elif trigger == "explore-clear":
        new = _with(state, values={}, explicit_dates=state.explicit_dates)
    elif trigger == "explore-table":
        # columnState also changes on a column resize or move: the sort may be the same.
        new = _with(state, sort=sort_from_columns(ctx.triggered[0]["value"]))
    elif isinstance(trigger, dict) and trigger.get("type") == "explore-chart":
        click = ctx.triggered[0]["value"]
        if not click or not click.get("points"):
            return no_update
        point = click["points"][0]
        value = point.get("customdata")
        chart_id = trigger["index"]
        if value is None:
            return no_update
        if chart_id == "trend":
            start = dt.date.fromisoformat(str(value)[:10])
            new = state.with_dates(start, _bucket_end(start, state.grain))
        else:
            new = state.toggled(CLICK_KEY[chart_id], value)
    elif isinstance(trigger, dict) and trigger.get("type") == "explore-chip":
        if not ctx.triggered[0]["value"]:
            return no_update
        items = chips(state)
        index = trigger["index"]
        if index >= len(items):
            return no_update
        key, value = items[index]
        if key == "dates":
            new = state.with_preset(None, _now(state))
        else:
            new = state.with_values(key, [v for v in state.get(key) if v != value])
    # Another view starts at the top of its table; the same view keeps its URL.
    search = _with(new, row=0).search()
    return PATH + search if search != _with(state, row=0).search() else no_update


def _with(state: ExploreState, **changes) -> ExploreState:
    from dataclasses import replace

    return replace(state, **changes)


def _bucket_end(start: dt.date, grain: str) -> dt.date:
    return shift_periods(grain, start, 1) - dt.timedelta(days=1)


@callback(Output("explore-drawer-slot", "children"), Input("explore-drawer-seen", "data"),
          State("explore-state", "data"), prevent_initial_call=True)
def mount_drawer(seen, data):
    """The filter drawer's fields, once it is opened."""
    if not seen:
        raise PreventUpdate
    con = _data.reader().cursor()
    try:
        options = _options(con)
    finally:
        con.close()
    return drawer_fields(_state(data), options)


def _table_in_use(state: ExploreState) -> bool:
    """The URL holds a table position (a page, a sort, an open ticket): the analyst was
    working in the table, so it is mounted with the page, not when scrolled to."""
    return bool(state.ticket or state.row) or state.sort != ExploreState.sort


@callback(Output("explore-table-slot", "children"), Input("explore-table-seen", "data"),
          State("explore-state", "data"), prevent_initial_call=True)
def mount_table(seen, data):
    """The ticket table, once it comes near the window: mounting AG Grid (its theme and
    measuring) was 0.7 s of a page load's main thread for a table below the fold."""
    if not seen:
        raise PreventUpdate
    return ticket_grid(_state(data))


# Paging (or scrolling, which stays within a page: a page is one block) replaces `row=`
# in the current history entry instead of pushing one: paging through 40 pages would
# otherwise take 40 Backs to undo the last filter, and the view itself has not changed.
clientside_callback(ClientsideFunction("explore", "keepTableRow"),
                    Input("explore-table", "paginationInfo"), prevent_initial_call=True)


# ---------------------------------------------------------------- data callbacks
def _shared(name: str, query, *, filters: q.TicketFilters, **params) -> pd.DataFrame:
    """`query(con, filters, **params)`'s frame, computed once for every worker and every
    rebuild of the page that asks it again in the same minute (a sort, a breakdown
    measure or a scroll rebuilds the page and re-asks the first chart); read-only.

    Keyed like the summary: the warehouse file, its data version and the parameters.
    """
    con, identity = _data.reader().snapshot()
    try:
        source = (str(_data.settings().db_path), identity, queries.current_version(con))
        return shared_frame(_data.results(), f"explore:{name}", source,
                            lambda: query(con, filters, **params),
                            filters=filters, **params)
    finally:
        con.close()


@callback(
    Output({"type": "explore-chart-slot", "index": MATCH}, "children"),
    Input({"type": "explore-chart-seen", "index": MATCH}, "data"),
    State("explore-state", "data"),
    State({"type": "explore-chart-slot", "index": MATCH}, "id"),
    # Only once seen: drawing the nine charts below the fold at load was a third of the
    # page's CPU, and a call for each at load only to refuse it was nine requests
    # (docs/benchmarks-history.md).
    prevent_initial_call=True,
)
def show_chart(seen, data, slot):
    """One chart of the current view, once it is near the window."""
    if not seen:
        raise PreventUpdate
    return _panel(slot["index"], drawn_chart, _state(data), slot["index"])


def drawn_chart(state: ExploreState, name: str) -> dcc.Graph:
    """Chart `name` (a key of CHARTS) of the view, drawn."""
    return dcc.Graph(id={"type": "explore-chart", "index": name},
                     figure=_chart_figure(state, name), config={"displayModeBar": False})


def _chart_figure(state: ExploreState, name: str):
    """The figure of chart `name` (a key of CHARTS) for the view."""
    f, now = state.filters(), _now(state)
    if name == "trend":
        return figs.figure_trend(
            _shared("trend", q.ticket_trend, filters=f, grain=state.grain, now=now))
    if name == "close_time":
        return figs.figure_close_time(
            _shared("close_time", q.close_time_by_level, filters=f, now=now))
    dimension = BREAKDOWN_DIMENSION[name]
    df = _shared("breakdown", q.ticket_breakdown, filters=f, dimension=dimension, now=now)
    measure = "satisfaction" if name.startswith("sat_") else state.measure
    return figs.figure_breakdown(df, dimension, measure, state.get(dimension),
                                 horizontal=dimension != "level")


def breakdown(state: ExploreState):
    """The breakdown table of the view (the rows its files hold), or with a second
    dimension and `bview=heatmap`, the same cells as a heatmap."""
    df = _shared("measure_breakdown", q.ticket_measure_breakdown, filters=state.filters(),
                 breakdown=state.breakdown(), now=_now(state))
    table = breakdown_table(df, state.breakdown())
    if len(table) <= 1:
        return html.P(label("没有符合这些筛选条件的事件", "No tickets match these filters"),
                      className="empty-state")
    pct = q.BREAKDOWN_MEASURES[state.bmeasure].unit == "%"
    if state.bview == "heatmap" and state.by2 is not None:
        fig = figs.figure_pivot_heatmap(
            table, pct=pct, worse_high=q.sort_order(state.bmeasure),
            title=q.BREAKDOWN_MEASURES[state.bmeasure].name_zh, partial_mark=PARTIAL_ZH)
        return dcc.Graph(figure=fig, id="explore-breakdown-heatmap",
                         config={"displayModeBar": False}, className="explore-graph")
    head = html.Thead(html.Tr([html.Th(str(c), scope="col") for c in table.columns]))

    def cell(v, i):
        if i == 0:
            return html.Th(str(v), scope="row")
        text = "—" if v is None or v != v else (f"{v:.1f}" if pct or isinstance(v, float)
                                                else f"{int(v):,}")
        return html.Td(text, className="col-count")

    last = len(table) - 1  # the total row
    row_keys, col_keys = breakdown_keys(df, state.breakdown())

    def linked(td, n, i):
        # a cell drills down to its tickets: the view filtered to its row and column
        # values (a history entry: Back returns to the whole table)
        if i == 0 or td.children == "—":
            return td
        picks = [(state.by, row_keys[n] if n < last else None)]
        if state.by2 is not None:
            picks.append((state.by2, col_keys[i - 1] if i - 1 < len(col_keys) else None))
        new = cell_view(state, picks)
        if new is None:
            return td
        td.children = dcc.Link(td.children, href=PATH + new.search(),
                               className="explore-cell-link",
                               title="查看这一格的事件 show these tickets")
        return td

    rows = [html.Tr([linked(cell(v, i), n, i) for i, v in enumerate(r)],
                    className="total-row" if n == last else None)
            for n, r in enumerate(table.itertuples(index=False))]
    return html.Div(html.Table([head, html.Tbody(rows)],
                               className="data-table explore-breakdown-table",
                               id="explore-breakdown-table"),
                    className="explore-breakdown-scroll")


def summary(state: ExploreState):
    """KPIs of the view's period against the previous period and the same period last
    year."""
    filters, now = state.filters(), _now(state)
    con, identity = _data.reader().snapshot()
    try:
        # 50-100 ms of CPU at 10M: computed once for every worker, and a minute later
        # judged again from that answer when nothing it counts happened in between
        source = (str(_data.settings().db_path), identity, queries.current_version(con))
        df = shared_judged_frame(
            _data.results(), "explore:summary", source,
            lambda: q.ticket_summary(con, filters, now=now),
            lambda frame, judged_at: q.summary_moved(con, filters, frame,
                                                     judged_at=judged_at, now=now),
            now=now, filters=filters)
    finally:
        con.close()
    rows = {r["period"]: r for r in df.to_dict("records")}
    cur, prev, ly = rows["current"], rows["previous"], rows["last_year"]

    def period_head(r, zh, en):
        # the window's own label: a range still running says so and where it stops
        return html.Th([zh, html.Span(r["label_zh"], className="label-en period-label"),
                        html.Span(en, className="label-en")],
                       title=f"{r['label_en']}; judged at {r['as_of']:%Y-%m-%d %H:%M}",
                       **{"data-partial": "true" if r["is_partial"] else "false"})

    def cell(value, pct, key):
        return html.Td(figs.fmt_number(value, pct), className="col-count",
                       **{"data-key": key})

    def change(a, b, pct, key):
        if _missing(a) or _missing(b):
            return [html.Td("—", className="col-count", **{"data-key": key + ".abs"}),
                    html.Td("—", className="col-count", **{"data-key": key + ".pct"})]
        diff = float(a) - float(b)
        rel = None if float(b) == 0 else 100.0 * diff / float(b)
        sign = "+" if diff > 0 else ""
        cls = "col-count " + ("up" if diff > 0 else "down" if diff < 0 else "")
        return [html.Td(f"{sign}{diff:.1f}" if pct else f"{sign}{int(diff):,}",
                        className=cls, **{"data-key": key + ".abs"}),
                html.Td("—" if rel is None else f"{'+' if rel > 0 else ''}{rel:.1f}%",
                        className=cls, **{"data-key": key + ".pct"})]

    header = html.Thead(html.Tr([
        html.Th(label("指标", "Measure")),
        period_head(cur, "本期", "this period"),
        period_head(prev, "上期", "previous"),
        html.Th(label("变化", "change")), html.Th("%"),
        period_head(ly, "去年同期", "last year"),
        html.Th(label("变化", "change")), html.Th("%"),
    ]))
    body = html.Tbody([
        html.Tr([
            html.Td([zh, html.Span(en, className="label-en")], title=text),
            cell(cur[col], pct, f"{col}.current"),
            cell(prev[col], pct, f"{col}.previous"),
            *change(cur[col], prev[col], pct, f"{col}.vs_previous"),
            cell(ly[col], pct, f"{col}.last_year"),
            *change(cur[col], ly[col], pct, f"{col}.vs_last_year"),
        ])
        for col, zh, en, pct, text in SUMMARY_ROWS
    ])
    table = html.Table([header, body], className="data-table explore-summary-table",
                       id="explore-summary-table")
    if cur["reported_count"] == 0:
        return [html.P(label("没有符合这些筛选条件的事件",
                             "No tickets match these filters"),
                       className="empty-state explore-empty", id="explore-empty"), table]
    return table


def _panel(what: str, build, state: ExploreState, *args, keep: bool = True):
    """`build(state, *args)`, built once per process for this view, minute and warehouse
    state (file identity and data version): everything the panel is made from.

    A page rebuilt for the same view (another analyst, Back, a second tab) in the same
    minute reuses its panels: building the trend figure, the breakdown table and the
    summary was ~33 of the page's ~45 ms of CPU at 10M with every query's answer
    already cached (docs/benchmarks-history.md). Kept in the queries' LRU beside the frames
    they are drawn from: emptying it forgets both.
    """
    if not keep:
        return build(state, *args)
    con, identity = _data.reader().snapshot()
    try:
        source = (str(_data.settings().db_path), identity, queries.current_version(con))
    finally:
        con.close()
    key = ("explore:panel", what, args, source, _now(state),
           queries.freeze(dataclasses.asdict(state)))
    return queries.RESULTS.get_or_compute(key, lambda: build(state, *args))


def _guarded(what: str, build, state: ExploreState, *args, keep: bool = True):
    """`build(state, *args)` (see `_panel`: `keep` False builds it afresh), or where the
    warehouse cannot answer, the panel says so with a reference to the log line: the
    rest of the page still shows (as when each panel was its own callback)."""
    try:
        return _panel(what, build, state, *args, keep=keep)
    except (WarehouseError, QueryError, duckdb.Error):
        ref = error_reference()
        logger.exception("explorer %s failed [ref %s]", what, ref)
        return unavailable(f"编号 reference {ref}", id=f"explore-{what}-unavailable")


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v)


@callback(
    Output("explore-table", "getRowsResponse"),
    Input("explore-table", "getRowsRequest"),
    State("explore-state", "data"),
    prevent_initial_call=True,
)
def table_rows(request, data):
    """One block of the ticket table: sorted, filtered and paged in DuckDB."""
    if not request:
        return no_update
    state = _state(data)
    sort = sort_from_columns(request.get("sortModel"))
    if sort != state.sort:
        # A header click: navigate() rebuilds the page with this sort from the URL. This
        # block would be thrown away, and its late answer would move the old grid after
        # the URL changed (explore.js would then write the old page's row into it).
        return no_update
    text_filters = {
        col: (spec or {}).get("filter")
        for col, spec in (request.get("filterModel") or {}).items()
        if isinstance(spec, dict)
    }
    con = _data.reader().cursor()
    try:
        page, total = q.ticket_page(con, state.filters(), now=_now(state), sort=sort,
                                    start=request.get("startRow", 0),
                                    end=request.get("endRow", PAGE_SIZE),
                                    text_filters=text_filters)
    finally:
        con.close()
    for col in ("reported_at", "deadline_at", "closed_at"):
        page[col] = [fmt_time(v) if v is not None and v == v else None
                     for v in page[col]]
    for col, names in TABLE_LABELS.items():
        page[col] = [names.get(v, v) for v in page[col]]
    page = page.astype(object).where(page.notna(), None)
    return {"rowData": page.to_dict("records"), "rowCount": total}


def _open_ticket(state: ExploreState, now: dt.datetime) -> tuple[html.Div, html.P]:
    """The open ticket's timeline (any date) and the line under the search saying what
    was found: "未找到" for an unknown ID, a note and a way to its dates when it lies
    outside the view's window."""
    con = _data.reader().cursor()
    try:
        t = q.ticket_detail(con, state.ticket)
    finally:
        con.close()
    close = dcc.Link(label("关闭", "Close"), href=PATH + _with(state, ticket=None).search(),
                     id="explore-ticket-close", className="explore-live")
    if t is None:
        text = f"未找到编号为「{state.ticket}」的事件（已查全部日期）"
        return (html.P([text, " ", close], className="empty-state"),
                html.P([*label(text, f"no ticket {state.ticket!r} in any date"), " ", close],
                       id="explore-find-result", className="explore-notices",
                       role="status"))
    day = t["reported_at"].date()
    parts: list = [*label(f"已打开 {t['ticket_id']} 的时间线", "timeline opened"), " ",
                   html.A("↓", href="#explore-timeline"), " ", close]
    if not state.date_from <= day <= state.date_to:
        month = day.replace(day=1)
        parts += [html.Br(), *label(
            f"该事件上报于 {day}，不在当前时段 {state.date_from} – {state.date_to} 内",
            "reported outside the dates in view"), " ",
            dcc.Link(label(f"切换到 {month:%Y-%m}", f"show {month:%Y-%m}"),
                     href=PATH + state.with_dates(month, _bucket_end(month, "month"))
                     .search(), id="explore-ticket-window")]
    return (timeline(t, now),
            html.P(parts, id="explore-find-result", className="meta-line", role="status"))
