"""View layer: the wall's slides, drawn from `pipelines.queries.wall.wall_view_data`.

Everything is plain HTML sized in viewport units (wall.css): no plotly, so that every
label is real text at >= 1.8vh, nothing depends on hover, and the first render is fast.
Each headline figure carries `data-fig="<key>"` so tests can compare it with their own
SQL. Numbers are formatted here; values (and suppression) come from the query layer.

Colour has one meaning (docs/kiosk.md): red, amber and green are verdicts of a metric's
thresholds (`Metric.level`, through `verdict`), always with a mark (✖ ▲ ●); levels
have their own violet ramp with their name; everything else is neutral.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dash import html

from dashboards._components import MISSING, fmt_count
from dashboards._i18n import duration, key_group, month_axis, t
from dashboards._theme import LEVEL_NUMERALS
from pipelines.metrics import Metric
from pipelines.queries.wall import WALL_VIEWS


@cache
def renderer(view: str) -> Callable[[dict, str], list]:
    """The drawing function that view's declaration names (`WallView.renderer`,
    "module:function"), imported on first use."""
    module, _, name = WALL_VIEWS[view].renderer.partition(":")
    return getattr(importlib.import_module(module), name)


# ------------------------------------------------------------------ small pieces


def fmt_pct(value: Any) -> str:
    """97.25 -> '97.3%'; None -> '—'."""
    return MISSING if value is None else f"{float(value):.1f}%"


def fig(text: str, key: str, cls: str = "", metric: str | None = None) -> html.Span:
    """A figure on the wall; `data-fig` names it for tests, `data-metric` the catalogue
    metric it is a value of (a view's declared metrics are those it marks)."""
    marks = {"data-fig": key} | ({"data-metric": metric} if metric else {})
    return html.Span(text, className=f"fig {cls}".strip(), **marks)


def level_badge(level: int, lang: str, *, name: bool = False) -> html.Span:
    """The level by name ("三级"; with `name`, "四级（最重）") on its violet step."""
    lv = int(level)
    text = f"{LEVEL_NUMERALS[lv]}级" if lang == "zh" else f"L{lv}"
    if name:
        text = t("level.name", lang, n=LEVEL_NUMERALS[lv] if lang == "zh" else lv)
        if lv == 4:
            text += t("level.most", lang)
    return html.Span(text, className=f"lv lv-{lv}", **{"data-level": str(lv)})


# the shape next to a verdict colour, so it never rests on colour alone
VERDICT_MARKS = {"red": "✖", "amber": "▲", "ok": "●", "": ""}


def verdict(metrics: dict[str, Metric], metric_id: str, value: Any,
            running: bool = False) -> str:
    """The CSS class of `value` judged by `metric_id`'s thresholds: v-red, v-amber, v-ok,
    or v-info when the metric is not judged, or not while its window is `running` (the
    one verdict: `Metric.level`)."""
    level = metrics[metric_id].level(None if value is None else float(value), running)
    return f"v-{level}" if level else "v-info"


def judged_fig(text: str, key: str, cls: str, metrics: dict[str, Metric], metric_id: str,
               value: Any, running: bool = False) -> html.Span:
    """A figure coloured by its metric's verdict, with the verdict's mark before it
    (`running`: its window is still running)."""
    v = verdict(metrics, metric_id, value, running)
    mark = VERDICT_MARKS.get(v[2:], "")
    return html.Span(
        [html.Span(mark, className="vmark") if mark else None,
         fig(text, key, metric=metric_id)],
        className=f"judged {v} {cls}".strip(), **{"data-verdict": v[2:]},
    )


def alarm_strip(alarms: dict | None, lang: str) -> html.Div:
    """What needs attention now, on every slide: each figure coloured by its metric's
    verdict (with its mark); one that turned red, or a new level-4 event within the last
    hour, pulses a few times when drawn (wall.css), never permanently."""
    if not alarms:
        return html.Div(className="wall-alarms")
    items = []
    for a in alarms["items"]:
        if a["value"] is None:
            text = t("alarm.not_loaded", lang)
        elif a["unit"] == "%":
            text = fmt_pct(a["value"])
        else:
            text = fmt_count(a["value"])
        v = a["verdict"] or "info"
        items.append(html.Div(
            [html.Span(t(f"alarm.{a['id']}", lang), className="al-label"),
             html.Span(VERDICT_MARKS.get(a["verdict"], ""), className="vmark"),
             fig(text, f"alarm.{a['id']}", "al-value", a["id"])],
            className=f"al-item v-{v}" + (" al-pulse" if a["pulse"] else ""),
            **{"data-alarm": a["id"], "data-verdict": a["verdict"] or "info"},
        ))
    items.append(html.Span(t("alarm.as_of", lang, time=mmdd_hhmm(alarms["cutoff"], lang)),
                           className="al-asof"))
    return html.Div(items, className="wall-alarms")


def panel(area: str, title: str, *children, definition: str | None = None) -> html.Section:
    """A titled panel placed in grid area `area`; the definition line sits under it."""
    head = [html.H2(title, className="wp-title")]
    if definition:
        head.append(html.P(definition, className="wp-def"))
    return html.Section(
        [*head, *children], className=f"wp wp-{area}", style={"gridArea": area}
    )


def change(pct: float | None, lang: str, key: str, good: str = "",
           unit: str = "%") -> html.Span:
    """A change with an arrow shape, green when it goes the metric's good way (`good`
    "up" or "down"), red when the other way; neutral for a metric with no direction."""
    if pct is None:
        return html.Span(t("levels.yoy_none", lang), className="chg chg-none")
    arrow = "▲" if pct > 0 else ("▼" if pct < 0 else "＝")
    text = f"{abs(pct):.1f}" + (t("unit.points", lang) if unit == "pt" else "%")
    if not good or not pct:
        tone = "chg-flat"
    else:
        tone = "chg-good" if (pct > 0) == (good == "up") else "chg-bad"
    return html.Span([arrow, fig(text, key)], className=f"chg {tone}")


def bar_rows(rows: list[tuple], *, cls: str = "", floor: float = 0.0,
             metric: str | None = None) -> html.Div:
    """Horizontal ranked bars: (label, value, value text, data-fig key[, verdict class]),
    names left; bars start at `floor` (a rate's sensible baseline, not always zero);
    `metric`: the catalogue metric the values are of."""
    top = max((r[1] for r in rows), default=0) or 1
    span = max(top - floor, 1e-9)
    return html.Div(
        [
            html.Div(
                [
                    html.Span(r[0], className="br-name"),
                    html.Span(
                        html.Span(
                            className="br-fill",
                            style={"width": f"{max(2.0, 100.0 * (r[1] - floor) / span):.1f}%"},
                        ),
                        className="br-track",
                    ),
                    fig(r[2], r[3], "br-value", metric),
                ],
                className="br-row " + (r[4] if len(r) > 4 else ""),
            )
            for r in rows
        ],
        className=f"bars {cls}".strip(),
    )


def hhmm(ts: datetime) -> str:
    return ts.strftime("%H:%M")


def mmdd_hhmm(ts: datetime, lang: str) -> str:
    if lang == "en":
        return ts.strftime("%d/%m %H:%M")
    return f"{ts.month}月{ts.day}日 {ts:%H:%M}"


def no_data(view: str, lang: str, *, error: str | None = None) -> list:
    """The calm 'no data yet' (or 'unavailable') state of a view: never an error."""
    return [
        html.Div(
            [
                html.H2(t(f"view.{view}", lang), className="nd-view"),
                html.P(
                    t("wall.unavailable" if error else "wall.no_data", lang),
                    className="nd-title",
                ),
                html.P(
                    error or t("wall.no_data_detail", lang), className="nd-detail"
                ),
            ],
            className="no-data",
        )
    ]


def slide_header(view: str, lang: str, filters: dict) -> html.Div:
    scope = filters.get("community") or t("wall.all", lang)
    return html.Div(
        [
            html.H1(t(f"view.{view}", lang), className="ws-title"),
            html.Span(t("wall.filter", lang, value=scope), className="ws-scope"),
        ],
        className="ws-head",
    )


# ------------------------------------------------------------------ levels


def levels_view(d: dict, lang: str) -> list:
    """Levels: how many events today, and is anything serious (三级/四级) happening?"""
    today = panel(
        "today",
        t("levels.today", lang),
        html.Div(
            [fig(fmt_count(d["today_total"]), "today_total", "headline", "reported"),
             html.Span(t("unit.events", lang), className="unit")],
            className="headline-row",
        ),
        html.Div(
            [html.Span(t("levels.yoy", lang), className="muted"),
             change(d["today_change_pct"], lang, "today_change_pct")],
            className="sub-row",
        ),
        html.P(t("levels.today_def", lang, window=d["windows"]["today"][lang]),
               className="wp-def"),
        html.Div(
            [
                html.Div(
                    [html.Span(t("levels.month", lang), className="muted"),
                     fig(fmt_count(d["month_total"]), "month_total", "mid", "reported")],
                    className="mini",
                ),
                html.Div(
                    [html.Span(t("levels.open", lang), className="muted"),
                     fig(fmt_count(d["open_total"]), "open_total", "mid", "open")],
                    className="mini",
                ),
            ],
            className="mini-row",
        ),
    )
    header = html.Div(
        [
            html.Span(""),
            html.Span(t("levels.col_today", lang)),
            html.Span(t("levels.col_month", lang)),
            html.Span(t("levels.col_yoy", lang)),
            html.Span(t("levels.open", lang)),
        ],
        className="lt-row lt-head",
    )
    level_rows = [
        html.Div(
            [
                level_badge(r["level"], lang, name=True),
                fig(fmt_count(r["today_count"]), f"level.{r['level']}.today", "lt-big",
                    "reported"),
                fig(fmt_count(r["month_count"]), f"level.{r['level']}.month",
                    metric="reported"),
                change(r["month_change_pct"], lang, f"level.{r['level']}.month_change"),
                fig(fmt_count(r["open_count"]), f"level.{r['level']}.open",
                    metric="open"),
            ],
            className=f"lt-row lt-level lt-l{r['level']}",
        )
        for r in d["levels"]
    ]
    levels = panel(
        "levels",
        t("view.levels", lang),
        html.Div([header, *level_rows], className="level-table"),
        definition=t("levels.open_def", lang),
    )
    serious_items = [
        html.Li(
            [
                level_badge(r["level"], lang),
                html.Span(r["community"], className="sr-comm"),
                html.Span(r["category"], className="sr-cat"),
                html.Span(mmdd_hhmm(r["reported_at"], lang), className="sr-time"),
                html.Span(
                    "⚠ " + t("levels.overdue_mark", lang), className="sr-overdue"
                )
                if r["is_overdue"]
                else None,
            ],
            className="sr-row",
            **{"data-ticket": r["ticket_id"]},
        )
        for r in d["serious"][:4]
    ]
    more = d["serious_count"] - len(serious_items)
    serious = panel(
        "serious",
        t("levels.serious", lang),
        html.Div(
            [judged_fig(fmt_count(d["serious_count"]), "serious_count", "mid",
                        d["metrics"], "serious_open", d["serious_count"]),
             html.Span(t("unit.events", lang), className="unit")],
            className="serious-count",
        ),
        html.Ul(serious_items, className="serious-list")
        if serious_items
        else html.P(t("levels.serious_none", lang), className="calm"),
        html.P(t("levels.more", lang, n=fmt_count(more)), className="muted")
        if more > 0
        else None,
        definition=t("levels.serious_def", lang),
    )
    cats = panel(
        "cat",
        t("levels.categories", lang),
        bar_rows(
            [
                (r["category"], r["ticket_count"], fmt_count(r["ticket_count"]),
                 f"category.{r['category']}")
                for r in d["categories"][:6]
            ]
        ),
    )
    comms = panel(
        "comm",
        t("levels.communities", lang),
        html.Div(
            [
                html.Div(
                    [
                        html.Span(r["community"], className="br-name"),
                        html.Span(
                            html.Span(
                                className="br-fill",
                                style={"width": "{:.1f}%".format(
                                    100.0 * r["month_count"]
                                    / max(d["communities"][0]["month_count"], 1))},
                            ),
                            className="br-track",
                        ),
                        fig(fmt_count(r["month_count"]),
                            f"community.{r['community']}.month", "br-value", "reported"),
                        fig(fmt_count(r["open_count"]),
                            f"community.{r['community']}.open", "br-open", "open"),
                    ],
                    className="br-row",
                )
                for r in d["communities"]
            ],
            className="bars bars-comm",
        ),
        definition=t("levels.communities_def", lang),
    )
    return [html.Div([today, levels, serious, cats, comms], className="wv-grid wv-levels")]


def ticker(items: list[dict], lang: str) -> html.Div:
    """The scrolling ticker of the newest reports (about one item per 4 s): time, level,
    place and category; the description only when the query returned one
    (WALL_TICKER_TEXT=description)."""
    if not items:
        return html.Div(
            html.Span(t("levels.ticker_none", lang), className="tk-item"),
            className="wall-ticker",
        )
    entries = [
        html.Span(
            [
                html.Span(hhmm(r["reported_at"]), className="tk-time"),
                level_badge(r["level"], lang),
                html.Span(r["community"], className="tk-comm"),
                *([html.Span(r["grid"], className="tk-grid")] if r.get("grid") else []),
                html.Span(r["category"], className="tk-cat"),
                *([html.Span(r["description"], className="tk-desc")]
                  if r.get("description") else []),
            ],
            className="tk-item",
        )
        for r in items
    ]
    # The list twice, moved by half its width: a seamless loop in pure CSS.
    return html.Div(
        [
            html.Span(t("levels.ticker", lang), className="tk-label"),
            html.Div(
                html.Div(
                    entries + entries,
                    className="tk-track",
                    style={"animationDuration": f"{4 * len(items)}s"},
                ),
                className="tk-window",
            ),
        ],
        className="wall-ticker",
    )


# ------------------------------------------------------------------ closure


def closure_view(d: dict, lang: str) -> list:
    """Closure: are we closing on time, and what is overdue right now?"""
    total = d["total"]
    head = panel(
        "head",
        t("closure.on_time", lang),
        html.Div(judged_fig(fmt_pct(total["on_time_pct"]), "on_time_pct", "headline",
                            d["metrics"], "on_time_pct", total["on_time_pct"]),
                 className="headline-row"),
        html.P(t("closure.window", lang, window=d["windows"]["month"][lang]),
               className="wp-def wp-window"),
        html.P(t("closure.on_time_def", lang), className="wp-def"),
        html.Div(
            [
                html.Div(
                    [html.Span(t("closure.overdue", lang), className="muted"),
                     judged_fig(fmt_count(d["overdue_total"]), "overdue_total", "mid",
                                d["metrics"], "overdue_open", d["overdue_total"])],
                    className="mini",
                ),
                html.Div(
                    [html.Span(t("closure.closure", lang), className="muted"),
                     judged_fig(fmt_pct(total["closure_pct"]), "closure_pct", "mid",
                                d["metrics"], "closure_pct", total["closure_pct"],
                                d["running"])],
                    className="mini",
                ),
            ],
            className="mini-row",
        ),
        html.P(t("closure.closure_def", lang), className="wp-def"),
    )
    header = html.Div(
        [
            html.Span(""),
            html.Span(t("closure.col_closure", lang)),
            html.Span(t("closure.col_on_time", lang)),
            html.Span(t("closure.col_overdue", lang)),
        ],
        className="lt-row lt-head lt-4",
    )
    rows = [
        html.Div(
            [
                level_badge(r["level"], lang, name=True),
                judged_fig(fmt_pct(r["closure_pct"]), f"level.{r['level']}.closure_pct",
                           "", d["metrics"], "closure_pct", r["closure_pct"], d["running"]),
                judged_fig(fmt_pct(r["on_time_pct"]), f"level.{r['level']}.on_time_pct",
                           "lt-big", d["metrics"], "on_time_pct", r["on_time_pct"]),
                fig(fmt_count(r["overdue_open_count"]), f"level.{r['level']}.overdue",
                    metric="overdue_open"),
            ],
            className=f"lt-row lt-4 lt-level lt-l{r['level']}",
        )
        for r in d["by_level"]
    ]
    resp = d["response"]
    kpis = html.Div(
        [
            html.Div(
                [html.Span(t("closure.late_response", lang), className="muted"),
                 judged_fig(fmt_pct(resp["response_timeout_pct"]), "response_timeout_pct",
                            "mid", d["metrics"], "response_timeout_pct",
                            resp["response_timeout_pct"]),
                 html.Span(t("closure.late_response_def", lang, hours=d["response_hours"],
                             n=fmt_count(resp["late_response_count"])),
                           className="wp-def")],
                className="kpi",
            ),
            html.Div(
                [html.Span(t("closure.escalated", lang), className="muted"),
                 fig(fmt_count(resp["escalated_count"]), "escalated", "mid", "escalations"),
                 html.Span(t("closure.escalated_def", lang), className="wp-def")],
                className="kpi",
            ),
            html.Div(
                [html.Span(t("closure.satisfaction", lang), className="muted"),
                 judged_fig(fmt_pct(resp["satisfaction_pct"]), "satisfaction_pct", "mid",
                            d["metrics"], "satisfaction_pct", resp["satisfaction_pct"]),
                 html.Span(t("closure.satisfaction_def", lang,
                             n=fmt_count(resp["rated_count"])), className="wp-def")],
                className="kpi",
            ),
        ],
        className="kpi-row",
    )
    levels = panel(
        "lvl",
        t("closure.by_level", lang),
        html.Div([header, *rows], className="level-table"),
        kpis,
    )
    overdue_rows = [
        html.Li(
            [
                level_badge(r["level"], lang),
                html.Span(r["community"], className="sr-comm"),
                html.Span(r["category"], className="sr-cat"),
                html.Span(
                    "⚠ " + t("closure.overdue_for", lang,
                             d=duration(int(r["overdue_minutes"]), lang)),
                    className="sr-overdue",
                ),
            ],
            className="sr-row",
            **{"data-ticket": r["ticket_id"]},
        )
        for r in d["overdue"][:5]
    ]
    more = d["overdue_total"] - len(overdue_rows)
    overdue = panel(
        "over",
        t("closure.overdue", lang),
        html.Ul(overdue_rows, className="serious-list")
        if overdue_rows
        else html.P(t("closure.overdue_none", lang), className="calm"),
        html.P(t("levels.more", lang, n=fmt_count(more)), className="muted")
        if more > 0
        else None,
        definition=t("closure.overdue_def", lang),
    )
    trend = panel(
        "trend",
        t("closure.trend", lang),
        rate_chart(
            [
                # the running month is labelled "to date", never read as a whole one
                (label + (t("wall.partial", lang) if r.get("is_partial") and label else ""),
                 r["on_time_pct"], f"trend.{r['month_start']:%Y-%m}", r.get("is_partial"))
                for label, r in zip(month_axis([r["month_start"] for r in d["trend"]],
                                               lang), d["trend"])
            ],
            d["metrics"]["on_time_pct"], lang,
        ),
    )
    # worst first (what needs help on top), nothing due yet last
    ranked = sorted(d["communities"], key=lambda r: (r["on_time_pct"] is None,
                                                     float(r["on_time_pct"] or 0)))
    on_time = d["metrics"]["on_time_pct"]
    comms = panel(
        "comm",
        t("closure.communities", lang),
        bar_rows(
            [
                (r["community"], float(r["on_time_pct"] or 0), fmt_pct(r["on_time_pct"]),
                 f"community.{r['community']}.on_time_pct",
                 verdict(d["metrics"], "on_time_pct", r["on_time_pct"]))
                for r in ranked
            ],
            cls="bars-comm bars-judged", floor=rate_floor(
                [r["on_time_pct"] for r in ranked], on_time), metric="on_time_pct",
        ),
        definition=t("closure.communities_def", lang,
                     amber=f"{on_time.amber:g}", red=f"{on_time.red:g}"),
    )
    return [html.Div([head, levels, overdue, trend, comms],
                     className="wv-grid wv-closure")]


def rate_floor(values: list, m: Metric) -> float:
    """A rate axis' baseline: 5 points under the lowest value or red line, in steps of 5
    (84–96% reads on 75–100, not as full bars from zero)."""
    lows = [float(v) for v in values if v is not None] + [
        x for x in (m.red, m.amber) if x is not None]
    return max(0.0, 5.0 * (min(lows, default=0.0) // 5) - 5.0)


def rate_chart(points: list[tuple[str, Any, str, bool]], m: Metric, lang: str) -> html.Div:
    """A rate over months (label, value, data-fig key, is_partial) as a line with its area,
    on a baseline near the values, with the target band shaded and each whole month's
    value printed in its verdict colour; a month still running is a hollow neutral
    point outside the area, never judged. Pure CSS: the area is a clip-path polygon."""
    floor = rate_floor([v for _, v, _, _ in points], m)
    span = 100.0 - floor

    def y(v: float) -> float:  # percent from the top of the plot
        return 100.0 - 100.0 * (min(max(v, floor), 100.0) - floor) / span

    n = len(points)
    xs = [100.0 * (i + 0.5) / n for i in range(n)]
    shown = [(x, float(v)) for x, (_, v, _, part) in zip(xs, points)
             if v is not None and not part]
    poly = ", ".join([f"{shown[0][0]:.2f}% 100%"] + [f"{x:.2f}% {y(v):.2f}%" for x, v in shown]
                     + [f"{shown[-1][0]:.2f}% 100%"]) if shown else ""
    band = []
    if m.amber is not None:
        lo, hi = (m.amber, 100.0) if m.good == "up" else (0.0, m.amber)
        band.append(html.Div(className="rc-band",
                             style={"top": f"{y(hi):.2f}%", "bottom": f"{100 - y(lo):.2f}%"}))
        band.append(html.Span(t("chart.target", lang, v=f"{m.amber:g}%"), className="rc-band-label",
                              style={"top": f"{y(hi):.2f}%"}))
    dots = [
        html.Div(
            [fig(MISSING if v is None else f"{float(v):.1f}", key, "rc-value", m.id),
             html.Span(className="rc-dot")],
            className="rc-point " + ("v-info rc-partial" if part
                                     else verdict({m.id: m}, m.id, v)),
            style={"left": f"{x:.2f}%", "top": f"{y(float(v)) if v is not None else 100:.2f}%"},
        )
        for x, (_, v, key, part) in zip(xs, points)
    ]
    return html.Div(
        [
            html.Div(
                [*band,
                 html.Div(className="rc-area", style={"clipPath": f"polygon({poly})"})
                 if poly else None,
                 html.Span(f"{floor:g}%", className="rc-floor"),
                 *dots],
                className="rc-plot",
            ),
            html.Div([html.Span(label, className="cc-label") for label, _, _, _ in points],
                     className="rc-axis"),
        ],
        className="rate-chart",
        **{"data-floor": f"{floor:g}"},
    )


def column_chart(points: list[tuple[str, float | None, str, str]], *,
                 floor: float = 0.0) -> html.Div:
    """Vertical bars with the value printed on each and the label under it.

    Bars start at `floor` (stated under the axis is not needed: every value is printed).
    """
    top = max((v for _, v, _, _ in points if v is not None), default=0) or 1
    span = max(top - floor, 1e-9)
    cols = []
    for label, value, text, key in points:
        h = 0.0 if value is None else max(4.0, 100.0 * (value - floor) / span)
        cols.append(
            html.Div(
                [
                    fig(text, key, "cc-value"),
                    html.Div(html.Div(className="cc-fill", style={"height": f"{h:.1f}%"}),
                             className="cc-track"),
                    html.Span(label, className="cc-label"),
                ],
                className="cc-col",
            )
        )
    return html.Div(cols, className="col-chart")


# ------------------------------------------------------------------ participation


def sparkline(values: list[float | None], *, top: float = 100.0) -> html.Div:
    """A tiny column sparkline (no text inside; the numbers sit beside it)."""
    return html.Div(
        [
            html.Span(className="sp-bar",
                      style={"height": f"{max(3.0, 100.0 * float(v or 0) / top):.0f}%"})
            for v in values
        ],
        className="sparkline",
    )


def threshold_bar(label: str, pct: float | None, threshold: float, key: str,
                  tone: str, metric: str | None = None) -> html.Div:
    """A progress bar with its legal threshold drawn as a line; value printed and
    coloured by `tone` (a verdict class: v-ok, v-amber, v-red); `metric`: the catalogue
    metric it is a value of."""
    value = float(pct or 0)
    return html.Div(
        [
            html.Div([html.Span(label, className="muted"),
                      fig(fmt_pct(pct), key, f"tb-value {tone}", metric)],
                     className="tbar-head"),
            html.Div(
                [
                    html.Span(className=f"tbar-fill {tone}",
                              style={"width": f"{min(value, 100.0):.1f}%"}),
                    html.Span(className="tbar-line", style={"left": f"{threshold:.1f}%"}),
                ],
                className="tbar-track",
            ),
        ],
        className="tbar",
    )


def points_change(trend: list[dict]) -> tuple[float, date] | None:
    """Percentage points from the whole month before the newest whole one to it, and
    that earlier month."""
    whole = [r for r in trend
             if not r.get("is_partial") and r["participation_pct"] is not None]
    if len(whole) < 2:
        return None
    return (round(whole[-1]["participation_pct"] - whole[-2]["participation_pct"], 1),
            whole[-2]["month"])


def participation_view(d: dict, lang: str) -> list:
    """Participation: taking part more than before, and will the open votes pass?"""
    latest, first = d["latest"], d["first"]
    moved = points_change(d["trend"])
    head = panel(
        "head",
        t("participation.rate", lang,
          month=f"{latest['month']:%Y-%m}" if latest else MISSING),
        html.Div(
            [judged_fig(fmt_pct(latest["participation_pct"]) if latest else MISSING,
                        "participation_pct", "headline", d["metrics"], "participation_pct",
                        latest["participation_pct"] if latest else None),
             html.Span(
                 [html.Span(t("participation.vs", lang, month=moved[1].month,
                              mon=f"{moved[1]:%b}"), className="muted chg-vs"),
                  change(moved[0], lang, "participation_change",
                         d["metrics"]["participation_pct"].good, unit="pt")],
                 className="chg-with")
             if moved is not None else None],
            className="headline-row"),
        # the running month stands apart: a few days are never set against whole months
        html.Div(t("participation.running", lang, window=d["window"][lang],
                   pct=fmt_pct(d["running"]["participation_pct"])),
                 className="sub-row", **{"data-key": "running_pct"})
        if d.get("running") else None,
        html.Div(
            t("participation.from", lang,
              month=f"{first['month']:%Y-%m}",
              pct=fmt_pct(first["participation_pct"])) if first else "",
            className="sub-row",
        ),
        html.P(t("participation.rate_def", lang), className="wp-def"),
        html.Div(
            [
                html.Div([html.Span(t("participation.questionnaires", lang),
                                    className="muted"),
                          fig(fmt_count(latest["questionnaire_count"] if latest else None),
                              "questionnaires", "mid")], className="mini"),
                html.Div([html.Span(t("participation.opinions", lang), className="muted"),
                          fig(fmt_count(latest["opinion_count"] if latest else None),
                              "opinions", "mid")], className="mini"),
            ],
            className="mini-row",
        ),
        html.P(t("participation.month_activity", lang), className="wp-def"),
    )
    vote_rows = []
    for v in d["votes"]:
        threshold = float(v["approval_threshold_pct"])
        approval = min(v["approval_owners_pct"] or 0, v["approval_area_pct"] or 0)
        left = int(v["minutes_left"])
        left_text = (t("participation.days_left", lang, n=left // 1440) if left >= 1440
                     else t("participation.hours_left", lang, n=max(left // 60, 0)))
        vote_rows.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(v["compound"], className="vt-comp"),
                            html.Span(v["title"] or "", className="vt-title"),
                            html.Span(t("participation.major", lang), className="vt-major")
                            if v["matter"] == "major" else None,
                            html.Span(left_text, className="vt-left"),
                            html.Span("⚠ " + t("participation.at_risk", lang),
                                      className="vt-risk") if v["is_at_risk"] else None,
                        ],
                        className="vt-head",
                    ),
                    html.Div(
                        [
                            threshold_bar(t("participation.turnout_owners", lang),
                                          v["turnout_owners_pct"], 200 / 3,
                                          f"vote.{v['vote_id']}.turnout_owners",
                                          verdict(d["metrics"], "turnout_owners_pct",
                                                  v["turnout_owners_pct"]),
                                          "turnout_owners_pct"),
                            threshold_bar(t("participation.turnout_area", lang),
                                          v["turnout_area_pct"], 200 / 3,
                                          f"vote.{v['vote_id']}.turnout_area",
                                          verdict(d["metrics"], "turnout_owners_pct",
                                                  v["turnout_area_pct"])),
                            # the vote is open: under its legal threshold is at risk
                            threshold_bar(t("participation.approval", lang), approval,
                                          threshold, f"vote.{v['vote_id']}.approval",
                                          "v-ok" if approval >= threshold else "v-amber",
                                          "approval_owners_pct"),
                        ],
                        className="vt-bars",
                    ),
                ],
                className="vote" + (" vote-risk" if v["is_at_risk"] else ""),
                **{"data-vote": v["vote_id"]},
            )
        )
    votes = panel(
        "votes",
        t("participation.open_votes", lang),
        html.Div(vote_rows, className="votes") if vote_rows
        else html.P(t("participation.no_votes", lang), className="calm"),
        definition=t("participation.open_votes_def", lang) + "；"
        + t("participation.threshold", lang),
    )
    cells = [
        html.Div(
            [
                html.Div([html.Span(c["compound"], className="pc-name"),
                          html.Span([f"{float(c['first_pct']):.0f}→",
                                     fig(f"{float(c['latest_pct']):.0f}%",
                                         f"compound.{c['compound']}.latest_pct",
                                         metric="participation_pct")],
                                    className="pc-nums")],
                         className="pc-head"),
                sparkline(c["monthly_pct"]),
            ],
            className="pc-cell",
        )
        for c in d["compounds"][:30]
    ]
    compounds = panel(
        "trend",
        t("participation.trend", lang),
        html.Div(cells, className="pc-grid"),
        definition=t("participation.compounds_def", lang),
    )
    trend = panel(
        "act",
        t("participation.trend_all", lang),
        rate_chart(
            [(label + (t("wall.partial", lang) if r.get("is_partial") and label else ""),
              r["participation_pct"], f"trend.{r['month']:%Y-%m}", r.get("is_partial"))
             for label, r in zip(month_axis([r["month"] for r in d["trend"]], lang),
                                 d["trend"])],
            d["metrics"]["participation_pct"], lang,
        ),
    )
    return [html.Div([head, votes, compounds, trend], className="wv-grid wv-participation")]


# ------------------------------------------------------------------ accounts


def fmt_wan(value: Any) -> str:
    """Money on the wall, in 万元 to two places (half up, from the exact Decimal):
    Decimal('123456.78') -> '12.35'; the unit is printed beside it."""
    if value is None:
        return MISSING
    wan = (Decimal(value) / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{wan:,.2f}"


def money(value: Any, key: str, cls: str, lang: str, metric: str | None = None
          ) -> html.Span:
    """A sum of money in 万元 with its unit (the explorer keeps it to the fen)."""
    return html.Span([fig(fmt_wan(value), key, cls, metric),
                      html.Span(t("unit.wan_yuan", lang), className="unit")],
                     className="money-row")


def accounts_view(d: dict, lang: str) -> list:
    """Accounts: where did each compound's public money come from and go this month?"""
    final = d.get("is_final", True)
    # a month running or not yet published has no closing balance: show income − expense
    head = panel(
        "head",
        t("accounts.balance" if final else "accounts.running", lang),
        html.Div(money(d["closing_yuan"], "closing_yuan", "mid big-money", lang, "balance")
                 if final else money(d["net_yuan"], "net_yuan", "mid big-money", lang),
                 className="headline-row"),
        html.P(t("accounts.balance_def", lang) if final
               else t("accounts.running_def", lang, window=d["window"][lang]),
               className="wp-def"),
        html.Div(
            [
                html.Div([html.Span(t("accounts.income", lang), className="muted"),
                          money(d["income_yuan"], "income_yuan", "money", lang, "income")],
                         className="mini"),
                html.Div([html.Span(t("accounts.expense", lang), className="muted"),
                          money(d["expense_yuan"], "expense_yuan", "money", lang,
                                "expense")],
                         className="mini"),
            ],
            className="mini-col",
        ),
        html.P(t("accounts.month_of", lang, month=f"{d['month']:%Y-%m}"),
               className="wp-def"),
    )
    # the 万元 picture of where the money went; every compound to the fen is in the
    # explorer. Largest expense first, as captioned.
    rows = sorted(d["compounds"], key=lambda r: (-r["expense_yuan"], r["compound"]))[:8]
    last = "balance" if final else "net"
    table = panel(
        "table",
        t("accounts.per_compound", lang),
        html.Table(
            [
                html.Thead(html.Tr([html.Th(t(f"accounts.col_{c}", lang))
                                    for c in ("compound", "income", "expense", last)])),
                html.Tbody([
                    html.Tr([
                        html.Td(r["compound"]),
                        html.Td(fig(fmt_wan(r["income_yuan"]),
                                    f"compound.{r['compound']}.income", metric="income")),
                        html.Td(fig(fmt_wan(r["expense_yuan"]),
                                    f"compound.{r['compound']}.expense",
                                    metric="expense")),
                        html.Td(fig(fmt_wan(r["closing_yuan"]),
                                    f"compound.{r['compound']}.closing", metric="balance")
                                if final else
                                fig(fmt_wan(r["income_yuan"] - r["expense_yuan"]),
                                    f"compound.{r['compound']}.net")),
                    ])
                    for r in rows
                ]),
            ],
            className="wt wt-top",
        ),
        definition=t("accounts.per_compound_def", lang, n=len(rows),
                     total=len(d["compounds"])),
    )
    trend = panel(
        "trend",
        t("accounts.trend", lang) + t("accounts.in_wan", lang),
        pair_chart(
            [(label + (t("wall.partial", lang) if r.get("is_partial") and label else ""),
              r["income_yuan"], r["expense_yuan"], f"trend.{r['month']:%Y-%m}",
              bool(r.get("is_partial")))
             for label, r in zip(month_axis([r["month"] for r in d["trend"]], lang),
                                 d["trend"])]
        ),
        html.Div([html.Span("■ " + t("accounts.col_income", lang), className="lg-income"),
                  html.Span("■ " + t("accounts.col_expense", lang), className="lg-expense")],
                 className="legend"),
    )
    top = panel(
        "top",
        t("accounts.top_income", lang) + " / " + t("accounts.top_expense", lang)
        + t("accounts.in_wan", lang),
        html.Div(
            [
                bar_rows([(r["category"], float(r["amount_yuan"]),
                           fmt_wan(r["amount_yuan"]), f"income.{r['category']}")
                          for r in d["top_income"]], cls="bars-income"),
                bar_rows([(r["category"], float(r["amount_yuan"]),
                           fmt_wan(r["amount_yuan"]), f"expense.{r['category']}")
                          for r in d["top_expense"]], cls="bars-expense"),
            ],
            className="top-pair",
        ),
    )
    return [html.Div([head, table, trend, top], className="wv-grid wv-accounts")]


def pair_chart(points: list[tuple[str, Any, Any, str, bool]]) -> html.Div:
    """Income and expense side by side per month (label, income, expense, data-fig key,
    is_partial), heights relative to the largest, each value printed over its pair in
    万元. The month still running is outlined, not filled, and its values muted: a few
    days are never drawn like a whole month."""
    top = max([max(float(i), float(e)) for _, i, e, _, _ in points] or [1]) or 1
    return html.Div(
        [
            html.Div(
                [
                    html.Div([fig(fmt_wan(i), f"{key}.income", "pp-v pp-v-in", "income"),
                              fig(fmt_wan(e), f"{key}.expense", "pp-v pp-v-out",
                                  "expense")],
                             className="pp-values"),
                    html.Div(
                        [html.Span(className="pp-in",
                                   style={"height": f"{max(2.0, 100 * float(i) / top):.1f}%"}),
                         html.Span(className="pp-out",
                                   style={"height": f"{max(2.0, 100 * float(e) / top):.1f}%"})],
                        className="pp-track",
                    ),
                    html.Span(label, className="cc-label"),
                ],
                className="cc-col" + (" pp-partial" if part else ""),
                **{"data-partial": "true" if part else "false"},
            )
            for label, i, e, key, part in points
        ],
        className="col-chart pair-chart",
    )


# ------------------------------------------------------------------ population


def people_cell(cell: dict | None, k: int, key: str, metric: str | None = None
                ) -> html.Span:
    """A count of people: the number, '<k' (small) or '—' (hidden as a complement);
    `metric`: the catalogue metric it is a value of."""
    if cell is None:
        return html.Span(MISSING, className="sup")
    if cell["suppressed"] == "small":
        return fig(f"<{k}", key, "sup", metric)
    if cell["suppressed"] == "complement":
        return fig(MISSING, key, "sup", metric)
    return fig(fmt_count(cell["value"]), key, metric=metric)


def population_view(d: dict, lang: str) -> list:
    """Population: who lives here, and how many people need care?"""
    k, tot = d["k"], d["totals"]
    head = panel(
        "head",
        t("population.residents", lang),
        html.Div(people_cell(tot.get("residents"), k, "total.residents", "residents"),
                 className="headline-row headline"),
        html.P(t("population.residents_def", lang, k=k), className="wp-def"),
        html.Div(
            [
                html.Div([html.Span(t("population.households", lang), className="muted"),
                          html.Span(people_cell(tot.get("households"), k,
                                                "total.households"), className="mid")],
                         className="mini"),
                html.Div([html.Span(t("population.registered", lang), className="muted"),
                          html.Span(people_cell(tot.get("registered"), k,
                                                "total.registered"), className="mid")],
                         className="mini"),
            ],
            className="mini-row",
        ),
    )
    groups = panel(
        "groups",
        t("population.key_groups", lang),
        html.Div([html.Span(t("population.key_people", lang), className="muted"),
                  html.Span(people_cell(d["key_group_people"], k, "total.key_people",
                                        "key_group_people"),
                            className="mid")],
                 className="mini"),
        html.Div(
            [
                html.Div([html.Span(key_group(g, lang), className="kg-name"),
                          people_cell(tot.get("kg:" + g), k, f"total.kg.{g}",
                                      "key_group_count")],
                         className="kg-tile")
                for g in d["groups"]
            ],
            className="kg-grid",
        ),
        definition=t("population.key_groups_def", lang, k=k) + "；"
        + t("population.suppressed_def", lang, k=k),
    )
    comms = d["communities"]
    rows = [
        (r["community"], float((r.get("residents") or {}).get("value") or 0),
         people_cell(r.get("residents"), k, f"community.{r['community']}.residents",
                     "residents"),
         people_cell(r.get("households"), k, f"community.{r['community']}.households"))
        for r in comms
    ]
    top = max((v for _, v, _, _ in rows), default=0) or 1
    table = panel(
        "table",
        t("population.per_community", lang),
        html.Div(
            [html.Div([html.Span(""), html.Span(""),
                       html.Span(t("population.residents", lang)),
                       html.Span(t("population.households", lang))],
                      className="br-row br-head")]
            + [
                html.Div(
                    [html.Span(name, className="br-name"),
                     html.Span(html.Span(className="br-fill",
                                         style={"width": f"{100.0 * v / top:.1f}%"}),
                               className="br-track"),
                     html.Span(res, className="br-value"),
                     html.Span(hh, className="br-open")],
                    className="br-row",
                )
                for name, v, res, hh in rows
            ],
            className="bars bars-pop",
        ),
        definition=t("population.per_community_def", lang, k=k),
    )
    return [html.Div([head, groups, table], className="wv-grid wv-population")]

