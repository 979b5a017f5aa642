"""View layer: one ticket's timeline (pure: a ticket row and the instant it is judged at)."""

from __future__ import annotations

import datetime as dt

from dash import html

from dashboards._components import fmt_time, label
from dashboards._explore_figures import HANDLER_NAMES


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, m = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} 小时 {m} 分"
    days, h = divmod(hours, 24)
    return f"{days} 天 {h} 小时"


def timeline(t: dict, now: dt.datetime) -> html.Div:
    """Reported → accepted → responded → escalated → closed, with durations."""
    steps = [("reported_at", "上报", "reported"), ("accepted_at", "受理", "accepted"),
             ("responded_at", "响应", "responded"), ("escalated_at", "升级督办", "escalated"),
             ("closed_at", "办结", "closed")]
    # steps in the order they happened (a ticket escalated after it was answered, or
    # accepted after its response, is drawn that way), so a step never shows a negative
    # time since the one before; steps not reached (or after `now`) follow, dimmed
    at = {key: t[key] if t[key] is not None and t[key] <= now else None
          for key, _zh, _en in steps}
    done = sorted((s for s in steps if at[s[0]] is not None), key=lambda s: at[s[0]])
    items, last = [], None
    for key, zh, en in done + [s for s in steps if at[s[0]] is None]:
        since = f"+{_duration(at[key] - last)}" if at[key] and last else ""
        items.append(html.Li(
            [html.Span(label(zh, en), className="tl-step"),
             html.Span(fmt_time(at[key]), className="tl-time", **{"data-key": key}),
             html.Span(since, className="tl-since")],
            className="tl-item" + (" tl-missing" if at[key] is None else ""),
        ))
        last = at[key] or last
    deadline = t["deadline_at"]
    closed = t["closed_at"] if t["closed_at"] is not None and t["closed_at"] <= now \
        else None
    if closed is not None:
        verdict = ("按时办结 closed on time" if closed <= deadline else
                   f"超期办结 closed late by {_duration(closed - deadline)}")
    elif deadline is not None and now > deadline:
        verdict = f"超期未办结 overdue by {_duration(now - deadline)}"
    else:
        verdict = "在办，未超期 open, within the limit"
    total = (closed or now) - t["reported_at"]
    return html.Div(
        [
            html.H3(t["ticket_id"], id="explore-timeline-id"),
            html.P(f"{t['level']}级 · {t['category']} · {t['community']} · "
                   f"{t['grid'] or '—'} · {t['compound'] or '—'} · "
                   f"{HANDLER_NAMES.get(t['handler'], t['handler'] or '—')}",
                   className="meta-line"),
            html.P(t["description"] or "", className="tl-desc"),
            html.Ol(items, className="timeline"),
            html.P([html.Span(label("期限", "deadline"), className="meta-key"),
                    html.Span(fmt_time(deadline), id="explore-timeline-deadline",
                              **{"data-key": "deadline_at"}),
                    f"（{t['due_on']}）" if t["due_on"] else ""], className="tl-deadline"),
            html.P([verdict, html.Span(f" · 历时 {_duration(total)}", className="muted")],
                   className="tl-verdict", id="explore-timeline-verdict"),
        ],
        className="tl",
    )
