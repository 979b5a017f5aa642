"""View layer: the wall's warnings slide (/wall/warnings), from
`pipelines.queries.wall.warnings_data`.

Each warning is one line a duty officer reads in three seconds: what and where in large
type ("物业维修 · 龙塔社区"), the evidence beside it ("近7天 24 件，通常 5–13"), since when.
The line is built from the warning's rule and scope columns in the wall's language, not
from its stored Chinese title (which the explorer shows with its 口径). Severity is a
verdict of the rule's threshold, so it takes the alarm palette with its mark and its
word: 紧急 red ✖; 高 and 中 amber ▲ (docs/kiosk.md).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dash import html

from dashboards._components import fmt_count
from dashboards._i18n import MESSAGES, t
from dashboards._wall_views import fig, fmt_wan, judged_fig, mmdd_hhmm, panel

SEVERITY_VERDICT = {"critical": "red", "high": "amber", "medium": "amber"}
MARKS = {"red": "✖", "amber": "▲"}

# This view's words, (Chinese, English): "what" in large type, then the evidence.
# {place}: community (and grid) or compound; numbers arrive formatted.
WORDS: dict[str, tuple[str, str]] = {
    "severity.critical": ("紧急", "Critical"),
    "severity.high": ("高", "High"),
    "severity.medium": ("中", "Medium"),
    "head": ("生效预警", "Active warnings"),
    "head_def": ("新发与持续的预警，最严重在前；每次数据加载后由规则与异常检测重新计算，"
                 "口径与历史见分析页“预警”",
                 "new and ongoing warnings, most severe first; recomputed by the rules "
                 "and the anomaly check after every load (see the explorer's Warnings)"),
    "none": ("当前没有生效预警", "No active warnings"),
    "more": ("另有 {n} 条，见分析页“预警”", "{n} more in the explorer"),
    "since": ("自 {time}", "since {time}"),
    "new": ("新", "new"),
    "unit.tickets": (" 件", ""),
    "unit.hours": (" 小时", " h"),
    "unit.days": (" 天", " days"),
    "what.surge_day": ("{category} · {place}", "{category} · {place}"),
    "what.surge_week": ("{category} · {place}", "{category} · {place}"),
    "what.level4_open": ("四级事件未办结 · {place}", "Level 4 open · {place}"),
    "what.level3_unanswered": ("三级事件未响应 · {place}", "Level 3 unanswered · {place}"),
    "what.overdue_open": ("超期未办结 · {place}", "Overdue · {place}"),
    "what.response_timeouts": ("响应超时 · {place}", "Late replies · {place}"),
    "what.satisfaction_low": ("满意率低 · {place}", "Low satisfaction · {place}"),
    "what.vote_at_risk": ("表决参与不足 · {place}", "Vote turnout short · {place}"),
    "what.expense_spike": ("支出异常 · {place}", "Expense spike · {place}"),
    "what.negative_balance": ("结余为负 · {place}", "Negative balance · {place}"),
    "what.ledger_unpublished": ("收支未公示 · {place}", "Accounts not published · {place}"),
    "what.source_stale": ("数据源停更 · {source}", "Source stale · {source}"),
    "ev.surge_day": ("今日 {observed}，通常 {low}–{high}",
                     "{observed} today, usually {low}–{high}"),
    "ev.surge_week": ("近7天 {observed}，通常 {low}–{high}",
                      "{observed} in 7 days, usually {low}–{high}"),
    "ev.level4_open": ("{category}，已 {observed}未办结", "{category}, open {observed}"),
    "ev.level3_unanswered": ("{category}，已 {observed}未响应",
                             "{category}, no reply for {observed}"),
    "ev.overdue_open": ("{observed}，阈值 {threshold}", "{observed}, limit {threshold}"),
    "ev.response_timeouts": ("近7天 {observed}，阈值 {threshold}",
                             "{observed} in 7 days, limit {threshold}"),
    "ev.satisfaction_low": ("近30天 {observed}，低于 {threshold}",
                            "{observed} in 30 days, under {threshold}"),
    "ev.vote_at_risk": ("{subject}：参与 {observed}，需 {threshold}",
                        "{subject}: turnout {observed}, needs {threshold}"),
    "ev.expense_spike": ("{subject} 支出 {observed}，常月 {expected}",
                         "{subject} expense {observed}, usually {expected}"),
    "ev.negative_balance": ("{subject} 期末 {observed}", "{subject} closing {observed}"),
    "ev.ledger_unpublished": ("{subject} 未按期公示", "{subject} not published on time"),
    "ev.source_stale": ("{observed} 无新数据，阈值 {threshold}",
                        "no new data for {observed}, limit {threshold}"),
}


def word(key: str, lang: str, **values: Any) -> str:
    """This view's word `key` in `lang`, formatted with `values`."""
    zh, en = WORDS[key]
    return (en if lang == "en" else zh).format(**values)


def _amount(value: Decimal | None, unit: str, lang: str) -> str:
    """An evidence value in its unit, as the wall writes it (money in 万元)."""
    if value is None:
        return "—"
    if unit == "pct":
        return f"{value:.1f}%"
    if unit == "yuan":
        # 万元 as on the rest of the wall, but a few thousand yuan reads as yuan
        yuan = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        if lang == "en":
            return f"¥{yuan:,}"
        return fmt_wan(value) + " 万元" if abs(value) >= 10000 else f"{yuan:,} 元"
    if unit == "hours":
        # two days and more read in whole days: "已 4 天未办结", not "已 101 小时"
        if value >= 48:
            return f"{int(value // 24)}" + word("unit.days", lang)
        return f"{int(value)}" + word("unit.hours", lang)
    return fmt_count(int(value)) + word("unit.tickets", lang)


def _place(w: dict) -> str:
    if w["rule_id"] in ("surge_day", "surge_week") and w["grid"]:
        return f"{w['community']} {w['grid']}"
    if w["compound"] and w["rule_id"] in ("vote_at_risk", "expense_spike",
                                          "negative_balance", "ledger_unpublished"):
        return w["compound"]
    return w["community"] or w["compound"] or ""


def lines(w: dict, lang: str) -> tuple[str, str]:
    """(what and where, evidence) of one warning; a rule this view has no words for
    keeps its stored title."""
    rule = w["rule_id"]
    if f"what.{rule}" not in WORDS:
        return w["title"], ""
    unit = w["unit"]
    source = w["source"] or ""
    values = {
        "place": _place(w),
        "category": w["category"] or "",
        "source": t(f"source.{source}", lang) if f"source.{source}" in MESSAGES else source,
        "subject": w["subject"] or "",
        "observed": _amount(w["observed"], unit, lang),
        "threshold": _amount(w["threshold"], unit, lang),
        "expected": _amount(w["expected"], unit, lang),
        "low": f"{w['usual_low']:.0f}" if w["usual_low"] is not None else "—",
        "high": f"{w['usual_high']:.0f}" if w["usual_high"] is not None else "—",
    }
    return word(f"what.{rule}", lang, **values), word(f"ev.{rule}", lang, **values)


def _row(w: dict, lang: str) -> html.Li:
    verdict = SEVERITY_VERDICT[w["severity"]]
    what, evidence = lines(w, lang)
    since = word("since", lang, time=mmdd_hhmm(w["first_seen_at"], lang))
    if w["status"] == "new":
        since += " · " + word("new", lang)
    return html.Li(
        [
            html.Span([html.Span(MARKS[verdict], className="vmark"),
                       word(f"severity.{w['severity']}", lang)], className="wr-sev"),
            html.Span(what, className="wr-what"),
            html.Span(since, className="wr-since"),
            html.Span(evidence, className="wr-ev"),
        ],
        className=f"wr-row v-{verdict}",
        **{"data-warning": w["warning_id"], "data-severity": w["severity"]},
    )


def warnings_view(d: dict, lang: str) -> list:
    """Warnings: what did the pipeline find unusual, most severe first?"""
    sev = d["by_severity"]
    head = panel(
        "head",
        word("head", lang),
        html.Div(judged_fig(fmt_count(d["active_count"]), "warnings_active", "headline",
                            d["metrics"], "warnings_active", d["active_count"]),
                 className="headline-row"),
        html.Div(
            [html.Div([html.Span(MARKS[SEVERITY_VERDICT[s]], className="vmark"),
                       html.Span(word(f"severity.{s}", lang), className="ws-name"),
                       fig(fmt_count(sev[s]), f"severity.{s}", "ws-count")],
                      className=f"ws-sev v-{SEVERITY_VERDICT[s]}")
             for s in ("critical", "high", "medium")],
            className="ws-sevs",
        ),
        html.P(word("head_def", lang), className="wp-def"),
    )
    rows = [_row(w, lang) for w in d["warnings"]]
    more = d["active_count"] - len(rows)
    listing = panel(
        "list",
        t("view.warnings", lang),
        html.Ul(rows, className="wr-list") if rows
        else html.P(word("none", lang), className="calm"),
        html.P(word("more", lang, n=fmt_count(more)), className="wp-def") if more > 0
        else None,
    )
    return [html.Div([head, listing], className="wv-grid wv-warnings")]
