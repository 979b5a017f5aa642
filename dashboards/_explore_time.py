"""View layer: the explorer's time controls and ticket search, shared by every page.

A preset (`preset=`, 今天 … 近 90 天) names a window of the metrics layer at the view's
cut-off (`asof`, else now); the `asof` field and "冻结链接 Freeze link" pin the instant
(a preset is then resolved into its dates), and a banner says the page is frozen with a
link back to live. The ticket search is a plain form to /explore/tickets?…&ticket=<id>,
so it works from any page and finds a ticket whatever its date (dashboards/
explore_tickets.py opens it). State parsing: dashboards/_explore_state.py.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from dash import dcc, html

from dashboards._components import fmt_time, label
from dashboards._explore_state import PRESETS, ExploreState, preset_label
from pipelines.metrics.compute import ticket_judged_at

TICKETS_PATH = "/explore/tickets"
_ASOF = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")


def preset_control(prefix: str, state: ExploreState) -> html.Label:
    """The preset menu (id `{prefix}-preset`)."""
    options = [{"label": preset_label(p), "value": p} for p in PRESETS]
    return html.Label([html.Span(label("时间", "Period"), className="filter-label"),
                       dcc.Dropdown(options, state.preset, id=f"{prefix}-preset",
                                    placeholder="自选日期 custom dates",
                                    className="explore-dropdown explore-preset")],
                      className="filter filter-preset")


def instant_controls(prefix: str, state: ExploreState) -> list:
    """The as-of field and "冻结链接" (ids `{prefix}-asof-input`, `{prefix}-freeze`)."""
    asof = state.asof.strftime("%Y-%m-%d %H:%M") if state.asof else ""
    return [
        html.Label([html.Span(label("统计时点", "As of"), className="filter-label"),
                    dcc.Input(id=f"{prefix}-asof-input", type="text", debounce=True,
                              value=asof, placeholder="实时 now (YYYY-MM-DD HH:MM)",
                              className="explore-date explore-asof-input")],
                   className="filter"),
        html.Button(label("冻结链接", "Freeze link"), id=f"{prefix}-freeze",
                    n_clicks=0, className="explore-button",
                    title="把统计时点和日期固定在链接里：以后打开，数字不变 "
                          "pin the instant and the dates in the link"),
    ]


def time_controls(prefix: str, state: ExploreState, *, presets: bool = True
                  ) -> html.Div:
    """Preset (unless `presets` is False: a page without dates), as-of and freeze
    controls in one row, read back by `apply_time`."""
    return html.Div(([preset_control(prefix, state)] if presets else [])
                    + instant_controls(prefix, state),
                    className="explore-bar-filters explore-time")


def frozen_banner(prefix: str, path: str, state: ExploreState) -> html.Span:
    """'本页冻结于 …' with a link back to live (inline, for the page's meta line), or an
    empty placeholder."""
    if state.asof is None:
        return html.Span(id=f"{prefix}-frozen")
    return html.Span(
        [html.B(f"冻结于 {fmt_time(state.asof)}"),
         html.Span(" frozen ", className="label-en"),
         dcc.Link(label("回到实时", "Back to live"),
                  href=path + state.live().view_only().search(),
                  id=f"{prefix}-live", className="explore-live"), " · "],
        id=f"{prefix}-frozen", className="explore-frozen", role="status")


def judged_at(con, state: ExploreState, clock: dt.datetime) -> dt.datetime:
    """The instant a ticket view judges open, closed and overdue at: its pinned `asof`,
    else the tickets' data cut-off by `clock` (to the minute), as the wall's 截至
    (`ticket_judged_at`). Judged at the clock instead, last year's figures grew with every
    minute since the last load while this year's could not."""
    return state.asof or ticket_judged_at(con, clock.replace(second=0, microsecond=0))


def apply_time(state: ExploreState, control: str, value,
               now: dt.datetime) -> ExploreState | None:
    """The view after a time control changed (None: nothing to do).

    `control` is 'preset', 'asof-input' or 'freeze'; `now` is the live instant.
    """
    if control == "preset":
        return state.with_preset(value or None, state.asof or now)
    if control == "freeze":
        return state.frozen(now) if value else None
    if control == "asof-input":
        raw = (value or "").strip()
        if not raw:
            return state.live()
        if not _ASOF.match(raw):
            return None
        try:
            asof = dt.datetime.fromisoformat(raw.replace(" ", "T"))
        except ValueError:
            return None
        new = replace(state, asof=asof)
        # a preset follows the new instant (上月 of that day); chosen dates stay
        return new.with_preset(new.preset, asof) if new.preset else new
    return None


def ticket_search(prefix: str, state: ExploreState) -> html.Form:
    """'事件编号' search: opens /explore/tickets with this view and `ticket=<id>`."""
    keep = [dcc.Input(type="hidden", name=k, value=v)
            for k, v in state.view_only().query() if k != "row"]
    return html.Form(
        [html.Label([html.Span(label("查找事件", "Find ticket"), className="filter-label"),
                     dcc.Input(id=f"{prefix}-find", name="ticket", type="search",
                               placeholder="事件编号 ticket ID（全部日期）",
                               value=state.ticket or "", className="explore-find",
                               maxLength=120)],
                    className="filter"),
         *keep,
         html.Button(label("查找", "Find"), type="submit", className="explore-button",
                     id=f"{prefix}-find-go")],
        action=TICKETS_PATH, method="get", className="explore-search",
        id=f"{prefix}-search", role="search")
