"""Explorer, warnings (/explore/warnings): the early warnings the pipeline computed after
each load, with their history, filters and a click through to what lies behind each.

The URL is the view: `?from=2026-11-01&to=2026-12-03&status=new&status=ongoing&
severity=critical&kind=anomaly&community=龙塔社区`. Values outside the allow-lists are
dropped with a notice; dates default to the last 90 days and statuses to the active ones
(new, ongoing). A filter change writes a new URL (one history entry) and the page is
rebuilt from it. Every row links to the explorer page that shows its tickets, vote or
ledger entries, with that page's own URL filters.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

import dash
import duckdb
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboards import _data
from dashboards._components import fmt_time, label, unavailable
from dashboards._explore_state import PRESETS, parse_query, preset_label
from dashboards._explore_time import ticket_search
from dashboards._warnings_view import CHOICES, WarningsView, drill_link, parse_view
from pipelines.queries import QueryError
from pipelines.queries import warnings as wq
from pipelines.settings import local_now
from pipelines.warehouse import WarehouseError
from pipelines.warnings_rules import ANOMALY_RULES, RULES

logger = logging.getLogger(__name__)

dash.register_page(__name__, path="/explore/warnings", name="预警 Warnings",
                   title="预警 / Warnings explorer", order=15)

PAGE = "warnings"
LABELS = {"new": "新 new", "ongoing": "持续 ongoing", "resolved": "已解除 resolved",
          "critical": "紧急 critical", "high": "高 high", "medium": "中 medium",
          "rule": "规则 rule", "anomaly": "异常 anomaly"}
FILTER_NAMES = {"status": ("状态", "Status"), "severity": ("级别", "Severity"),
                "kind": ("类型", "Kind"), "community": ("社区", "Community")}
RULE_NAMES = {
    "level4_open": "4级事件未办结", "level3_unanswered": "3级事件未响应",
    "overdue_open": "超期未办结", "response_timeouts": "响应超时率",
    "satisfaction_low": "满意率低", "vote_at_risk": "表决参与不足",
    "expense_spike": "支出异常", "negative_balance": "结余为负",
    "ledger_unpublished": "收支未公示", "source_stale": "数据源停更",
    "surge_day": "今日上报激增", "surge_week": "近7天上报激增",
}


def _evidence(w: Mapping[str, Any]) -> str:
    """Observed, usual range or expectation, and threshold, in the rule's unit (exact
    Decimals as text; counts without decimals)."""
    unit = {"pct": "%", "yuan": " 元", "hours": " 小时", "tickets": " 件"}.get(w["unit"], "")

    def shown(value) -> str:
        return f"{value:.0f}" if w["unit"] in ("tickets", "months") else f"{value}"

    if w["unit"] == "months":
        return "该月无记账"
    parts = [f"观测 {shown(w['observed'])}{unit}"]
    if w["usual_low"] is not None:
        parts.append(f"通常 {w['usual_low']:.0f}–{w['usual_high']:.0f}，"
                     f"期望 {w['expected']}")
    elif w["expected"] is not None:
        parts.append(f"期望 {shown(w['expected'])}{unit}")
    if w["threshold"] is not None:
        parts.append(f"阈值 {shown(w['threshold'])}{unit}")
    return "；".join(parts)


def _row(w: Mapping[str, Any]) -> html.Tr:
    link = drill_link(w)
    scope = " · ".join(v for v in (w["community"], w["grid"], w["category"], w["compound"],
                                   w["source"]) if v)
    return html.Tr([
        html.Td(LABELS[w["severity"]], className=f"warn-sev warn-{w['severity']}"),
        html.Td(LABELS[w["status"]]),
        html.Td([html.Div(w["title"]),
                 html.Details([html.Summary("ⓘ 口径"), html.P(w["definition"])],
                              className="explore-def")]),
        html.Td(RULE_NAMES.get(w["rule_id"], w["rule_id"]), className="warn-rule"),
        html.Td(scope),
        html.Td(_evidence(w)),
        html.Td(fmt_time(w["first_seen_at"]), className="warn-time"),
        html.Td(fmt_time(w["last_seen_at"]), className="warn-time"),
        html.Td(fmt_time(w["resolved_at"]) if w["resolved_at"] else "—",
                className="warn-time"),
        html.Td(html.A("查看 →", href=link, className="warn-drill") if link else ""),
    ], id={"type": "warnings-row", "index": w["warning_id"]})


HEADER = ("级别 Severity", "状态 Status", "预警 Warning", "规则 Rule", "范围 Scope",
          "证据 Evidence", "首次 First seen", "最近 Last seen", "解除 Resolved", "")


def _dropdown(key: str, view: WarningsView, options: list[str]) -> html.Label:
    zh, en = FILTER_NAMES[key]
    return html.Label([
        html.Span(label(zh, en)),
        dcc.Dropdown(id=f"warnings-f-{key}", multi=True, value=list(getattr(view, key)),
                     options=[{"label": LABELS.get(v, v), "value": v} for v in options],
                     placeholder="全部 all"),
    ], className="explore-filter")


def layout(**query) -> html.Div:
    """The warnings explorer for the view in the URL."""
    from dashboards.explore_tickets import subnav

    today = local_now(_data.settings()).date()
    view, notices = parse_view(query, today)
    head = html.Div([html.H1(label("预警", "Warnings")), subnav(PAGE, ""),
                     # the ticket search of every explorer page (over the default view)
                     ticket_search("warnings", parse_query({}, today)[0])],
                    className="explore-head")
    try:
        con = _data.reader().cursor()
        try:
            table = wq.warning_list(con, view.filters())
            communities = wq.warning_communities(con)
        finally:
            con.close()
    except (WarehouseError, QueryError, duckdb.Error) as e:
        logger.error("warnings explorer: %s", e)
        return html.Div([head, unavailable(str(e), id="warnings-unavailable")],
                        className="page page-explore")
    found = table.to_pylist()
    controls = html.Div([
        # the explorer's ten presets; the dates then follow today (`preset=` in the URL)
        html.Label([html.Span(label("时间", "Period")),
                    dcc.Dropdown(id="warnings-preset", value=view.preset,
                                 options=[{"label": preset_label(p), "value": p}
                                          for p in PRESETS],
                                 placeholder="自选日期 custom dates")],
                   className="explore-filter"),
        html.Label([html.Span(label("从", "From")),
                    dcc.Input(id="warnings-from", type="date",
                              value=view.date_from.isoformat(), debounce=True)],
                   className="explore-filter"),
        html.Label([html.Span(label("到", "To")),
                    dcc.Input(id="warnings-to", type="date",
                              value=view.date_to.isoformat(), debounce=True)],
                   className="explore-filter"),
        *(_dropdown(k, view, list(CHOICES[k])) for k in CHOICES),
        _dropdown("community", view, sorted(set(communities) | set(view.community))),
    ], className="explore-filters")
    if found:
        body = html.Table([html.Thead(html.Tr([html.Th(h) for h in HEADER])),
                           html.Tbody([_row(w) for w in found])],
                          className="explore-table warnings-table", id="warnings-table")
    else:
        body = html.P(label("所选条件下没有预警", "No warning matches these filters"),
                      className="empty-state", id="warnings-empty")
    rules = html.Details([
        html.Summary(label("各规则的口径", "How each rule counts")),
        html.Dl([item for rid, text in
                 [(r.id, r.definition) for r in RULES.values()] + list(ANOMALY_RULES.items())
                 for item in (html.Dt(f"{RULE_NAMES.get(rid, rid)} ({rid})"),
                              html.Dd(text))]),
    ], className="explore-def", id="warnings-rules")
    shown = f"{len(found)}" + (f"（最多显示 {wq.MAX_ROWS}）" if len(found) >= wq.MAX_ROWS
                               else "")
    return html.Div([
        dcc.Location(id="warnings-url", refresh="callback-nav"),
        dcc.Store(id="warnings-view", data=view.search()),
        head,
        html.P([f"{view.date_from} 至 {view.date_to} 期间有效的预警 {shown} 条；预警在每次"
                "数据载入后计算。",
                html.Span(f"warnings active {view.date_from} – {view.date_to}: "
                          f"{len(found)}", className="label-en")],
               className="meta-line", id="warnings-meta"),
        html.Ul([html.Li(label(n.zh, n.en)) for n in notices], className="explore-notices",
                id="warnings-notices") if notices else None,
        controls,
        html.Section([body, rules], className="panel explore-panel"),
    ], className="page page-explore")


@callback(Output("warnings-url", "search"),
          Input("warnings-from", "value"), Input("warnings-to", "value"),
          *(Input(f"warnings-f-{k}", "value") for k in (*CHOICES, "community")),
          Input("warnings-preset", "value"),
          State("warnings-view", "data"), prevent_initial_call=True)
def navigate(date_from, date_to, status, severity, kind, community, preset, current):
    """A filter or period change: the URL of the new view (one history entry). A
    preset sets the dates; dates typed in replace the preset."""
    query = {"status": status or ["all"], "severity": severity or [],
             "kind": kind or [], "community": community or [], "from": date_from,
             "to": date_to}
    if preset and ctx.triggered_id not in ("warnings-from", "warnings-to"):
        query.update({"preset": preset, "from": None, "to": None})
    view, _ = parse_view({k: v for k, v in query.items() if v is not None},
                         local_now(_data.settings()).date())
    search = view.search()
    return search if search != current else no_update
