"""View layer: the state of /explore/warnings (dashboards/explore_warnings.py), read from
and written to its URL, and the link from each warning to the explorer page behind it.

Kept apart from the page module because Dash Pages imports pages without registering
them in `sys.modules`, where a dataclass cannot be defined.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlencode

from dashboards._explore_state import (DEFAULT_DAYS, MAX_VALUE_CHARS, MAX_VALUES, PRESETS,
                                       Notice, preset_window)
from pipelines.queries import warnings as wq

CHOICES = {"status": wq.STATUSES, "severity": wq.SEVERITIES, "kind": wq.KINDS}


@dataclass(frozen=True)
class WarningsView:
    """One view of the page: the period and the filters, as the URL gives them."""

    date_from: dt.date
    date_to: dt.date
    status: tuple[str, ...] = wq.ACTIVE
    severity: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    community: tuple[str, ...] = ()
    preset: str | None = None  # a PRESETS key: the dates follow today (`preset=`)

    def filters(self) -> wq.WarningFilters:
        """The query layer's filters for this view."""
        return wq.WarningFilters(self.date_from, self.date_to, self.status,
                                 self.severity, self.kind, self.community)

    def search(self) -> str:
        """The URL query string that reproduces this view (`status=all`: every status,
        since no status at all means the default, the active ones; a preset instead of
        its dates, so the link means 上月 whenever it is opened)."""
        pairs = ([("preset", self.preset)] if self.preset else
                 [("from", self.date_from.isoformat()), ("to", self.date_to.isoformat())])
        pairs += [("status", v) for v in self.status or ("all",)]
        for key in ("severity", "kind", "community"):
            pairs += [(key, v) for v in getattr(self, key)]
        return "?" + urlencode(pairs)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


def parse_view(query: Mapping[str, Any], today: dt.date
               ) -> tuple[WarningsView, list[Notice]]:
    """Validate a URL query into a view and notices (values outside the allow-lists are
    dropped; an unreadable date or an unknown preset is ignored). A preset (`preset=`,
    the explorer's ten) sets the dates, as the metrics layer's window ending today."""
    notices: list[Notice] = []
    dates = {}
    preset = (_as_list(query.get("preset")) or [None])[-1]
    if preset is not None and preset not in PRESETS:
        notices.append(Notice(f"时间预设 {preset[:40]} 无法识别，已忽略",
                              f"unknown time preset {preset[:40]!r} ignored"))
        preset = None
    if preset is not None:  # its dates, not from/to
        window = preset_window(preset, dt.datetime.combine(today, dt.time(23, 59, 59)))
        dates = {"from": window.start.date(), "to": window.end.date()}
    for key in ("from", "to") if preset is None else ():
        raw = _as_list(query.get(key))
        if raw:
            try:
                dates[key] = dt.date.fromisoformat(raw[-1].strip())
            except ValueError:
                notices.append(Notice(f"无法识别的日期 {key}={raw[-1][:20]!r}，已忽略",
                                      f"unreadable date {key}: ignored"))
    date_to = dates.get("to", today)
    date_from = dates.get("from", date_to - dt.timedelta(days=DEFAULT_DAYS - 1))
    if date_to < date_from:
        notices.append(Notice("起止日期颠倒，已对调", "from after to: swapped"))
        date_from, date_to = date_to, date_from
    values: dict[str, tuple[str, ...]] = {}
    for key, allowed in CHOICES.items():
        raw = [v.strip() for v in _as_list(query.get(key)) if v.strip()][:MAX_VALUES]
        if key == "status" and "all" in raw:
            values[key] = ()
            continue
        bad = [v for v in raw if v not in allowed]
        if bad:
            notices.append(Notice(f"{key} 取值无效，已忽略：{'、'.join(v[:20] for v in bad)}",
                                  f"unknown {key} ignored"))
        values[key] = tuple(dict.fromkeys(v for v in raw if v in allowed))
    if not _as_list(query.get("status")):
        values["status"] = wq.ACTIVE
    values["community"] = tuple(dict.fromkeys(
        v.strip()[:MAX_VALUE_CHARS] for v in _as_list(query.get("community"))
        if v.strip()))[:MAX_VALUES]
    return WarningsView(date_from, date_to, **values, preset=preset), notices


def _day(value) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


def drill_link(w: Mapping[str, Any]) -> str | None:
    """The explorer URL of what lies behind warning `w` (its tickets, vote or ledger
    entries), with that page's URL filters; None when nothing is behind it."""
    rule = w["rule_id"]
    if rule == "source_stale":
        return "/status"
    if rule == "vote_at_risk":
        return "/explore/participation?" + urlencode(
            [("compound", w["compound"]), ("state", "open")])
    if rule in ("expense_spike", "negative_balance", "ledger_unpublished"):
        month = dt.date.fromisoformat(f"{w['subject']}-01")
        end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) \
            - dt.timedelta(days=1)
        return "/explore/accounts?" + urlencode(
            [("from", month.isoformat()), ("to", end.isoformat()),
             ("compound", w["compound"])])
    pairs = [("from", _day(w["window_from"])), ("to", _day(w["window_to"]))]
    for key in ("community", "grid", "category"):
        if w.get(key):
            pairs.append((key, w[key]))
    extra = {"level4_open": [("level", "4"), ("status", "open")],
             "level3_unanswered": [("level", "3"), ("status", "open")],
             "overdue_open": [("status", "overdue")]}.get(rule, [])
    if rule == "overdue_open":  # open now, whenever reported: the last year
        pairs[0] = ("from", _day(w["window_to"] - dt.timedelta(days=365)))
    return "/explore/tickets?" + urlencode(pairs + extra)
