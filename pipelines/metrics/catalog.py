"""Every figure the product shows, declared once.

A `Metric` says what a number means (口径, in Chinese and English), its unit, the SQL that
computes it over the marts (aggregate expressions built on the warehouse macros of
migration 0006: `closed_at_asof`, `open_at_asof`, `overdue_at_asof`, `on_time_at_asof`,
`closed_late_at_asof`, `in_window`, `rate_pct`, `tickets_open_at`), which timestamp puts a
row in a period, whether it adds up across communities, which direction is good and its
amber/red thresholds. Pages, exports and docs/metrics.md read these declarations;
`pipelines.metrics.compute` runs the ticket ones for any window. Where each is shown
comes from the surfaces' own lists (`pipelines.metrics.surfaces`).

Ticket expressions are aggregates over the tickets in a window and use `$as_of` (the
instant the window is judged at, see `pipelines.metrics.windows`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

# which timestamp places a row in a period
BASES = {
    "reported": ("按上报时间", "by time reported"),
    "closed": ("按办结时间", "by time closed"),
    "due": ("按办理期限", "by deadline"),
    "as_of": ("截至时点的状态", "state at the as-of instant"),
    "vote": ("按表决起止", "by vote period"),
    "month": ("按账期（月）", "by accounting month"),
    "snapshot": ("最新人口数据", "newest population data"),
}


@dataclass(frozen=True)
class Metric:
    """One figure: what it means, how it is computed and how it is judged.

    Attributes:
        id: stable identifier (used in URLs, exports and the thresholds file).
        name_zh, name_en: short names as shown.
        definition_zh, definition_en: the 口径 in a sentence.
        unit: "件", "%", "小时", "元", "人", "户", "票" or "条".
        basis: key of BASES.
        source: the table or mart the SQL reads.
        sql: the aggregate expression (ticket metrics) or where it is computed.
        additive: True when a total is the sum of the communities' figures.
        good: "up", "down" or "" (neither direction is better).
        amber, red: default thresholds; a value at or beyond them (in the bad direction)
            is shown amber / red. None: not judged.
        judged_running: False when the figure of a window still running is biased by
            the running itself and so is not coloured (closure %: tickets reported in
            the last days are mostly still within their time limit, so a month's
            closure on its 3rd reads "red" for work that is not late).

    Where a metric is shown is not declared here: each wall view, explorer page and
    export report lists the metrics it shows (`pipelines.metrics.surfaces`).
    """

    id: str
    name_zh: str
    name_en: str
    definition_zh: str
    definition_en: str
    unit: str
    basis: str
    source: str
    sql: str
    additive: bool
    good: str = ""
    amber: float | None = None
    red: float | None = None
    judged_running: bool = True

    def name(self, lang: str = "zh") -> str:
        """The metric's name in `lang` ("zh" or "en")."""
        return self.name_zh if lang == "zh" else self.name_en

    def definition(self, lang: str = "zh") -> str:
        """The metric's 口径 in `lang`."""
        return self.definition_zh if lang == "zh" else self.definition_en

    def level(self, value: float | None, running: bool = False) -> str:
        """"ok", "amber" or "red" for `value` against the thresholds ("" if not judged,
        or when its window is `running` and the metric is not judged while it runs)."""
        if value is None or self.good not in ("up", "down") or self.amber is None:
            return ""
        if running and not self.judged_running:
            return ""
        worse = (lambda a, b: a <= b) if self.good == "up" else (lambda a, b: a >= b)
        if self.red is not None and worse(value, self.red):
            return "red"
        return "amber" if worse(value, self.amber) else "ok"


_T = "tickets"
_R = "reported"

METRICS: tuple[Metric, ...] = (
    Metric("reported", "上报", "Reported",
           "窗口内上报的事件数", "tickets reported in the window",
           "件", _R, _T, "count(*)", True),
    Metric("closed", "已办结", "Closed",
           "窗口内上报、截至时点已办结的事件数",
           "tickets reported in the window and closed by the as-of instant",
           "件", _R, _T, "count(*) filter (where closed_at_asof(closed_at, $as_of))", True,
           good="up"),
    Metric("open", "在办", "Open",
           "截至时点已上报、尚未办结（或办结在时点之后）的事件数，不限上报时间",
           "tickets reported by the as-of instant and not closed by then, any report date",
           "件", "as_of", "tickets_open_at($as_of)", "count(*)", True),
    Metric("overdue_open", "超期未办结", "Open past deadline",
           "截至时点尚未办结且已过办理期限的事件数，不限上报时间（大屏“超期”只指此数）",
           "tickets open at the as-of instant and past their deadline, any report date "
           "(the only meaning of 'overdue' on the wall)",
           "件", "as_of", "tickets_open_at($as_of)",
           "count(*) filter (where $as_of > deadline_at)", True,
           good="down", amber=1, red=50),
    Metric("serious_open", "在办三、四级", "Open level 3–4",
           "截至时点尚未办结的三级、四级（最重）事件数，不限上报时间",
           "level 3 and 4 (most serious) tickets open at the as-of instant, any report "
           "date", "件", "as_of", "tickets_open_at($as_of)",
           "count(*) filter (where level >= 3)", True,
           good="down", amber=1, red=10),
    Metric("overdue", "超期未办结（本期上报）", "Open past deadline (reported in window)",
           "窗口内上报、截至时点未办结且已过期限的事件数",
           "tickets reported in the window, open at the as-of instant and past deadline",
           "件", _R, _T,
           "count(*) filter (where overdue_at_asof(closed_at, deadline_at, $as_of))", True,
           good="down"),
    Metric("closed_late", "超期办结", "Closed late",
           "窗口内上报、截至时点已办结但晚于期限的事件数",
           "tickets reported in the window, closed by the as-of instant after their deadline",
           "件", _R, _T,
           "count(*) filter (where closed_late_at_asof(closed_at, deadline_at, $as_of))",
           True, good="down"),
    Metric("missed_deadline", "未按时（超期办结＋超期未办结）",
           "Missed deadline (closed late + overdue)",
           "窗口内上报、超期办结或截至时点超期未办结的事件数",
           "tickets reported in the window closed late or overdue at the as-of instant",
           "件", _R, _T,
           "count(*) filter (where closed_late_at_asof(closed_at, deadline_at, $as_of) "
           "or overdue_at_asof(closed_at, deadline_at, $as_of))", True,
           good="down"),
    Metric("closure_pct", "办结率", "Closure rate",
           "已办结 ÷ 上报（同一窗口、同一时点）", "closed ÷ reported (same window, as-of)",
           "%", _R, _T,
           "rate_pct(count(*) filter (where closed_at_asof(closed_at, $as_of)), count(*))",
           False, good="up", amber=90, red=80, judged_running=False),
    Metric("on_time_pct", "按时办结率", "On-time rate",
           "按时办结 ÷（已办结 + 超期未办结）；尚在期限内的在办事件不计入；三级按工作日计",
           "closed by deadline ÷ (closed + open past deadline); tickets still within "
           "their limit count for neither; level 3 counts working days",
           "%", _R, _T,
           "rate_pct(count(*) filter (where on_time_at_asof(closed_at, deadline_at, $as_of)),"
           " count(*) filter (where closed_at_asof(closed_at, $as_of) "
           "or overdue_at_asof(closed_at, deadline_at, $as_of)))",
           False, good="up", amber=95, red=85),
    Metric("response_timeout_pct", "响应超时率", "Late-response rate",
           "超过响应时限（设置 WALL_RESPONSE_HOURS）才响应或至今未响应的事件 ÷ 上报",
           "tickets answered after the response limit (WALL_RESPONSE_HOURS), or not yet "
           "and past it, ÷ reported",
           "%", _R, _T,
           "rate_pct(count(*) filter (where coalesce(responded_at <= $as_of, false) and "
           "responded_at > reported_at + to_hours(cast($response_hours as bigint)) or "
           "open_at_asof(responded_at, $as_of) and "
           "$as_of > reported_at + to_hours(cast($response_hours as bigint))), count(*))",
           False, good="down", amber=5, red=15),
    Metric("escalations", "升级督办", "Escalations",
           "窗口内上报、截至时点已升级至社区督办的事件数",
           "tickets reported in the window escalated for supervision by the as-of instant",
           "件", _R, _T,
           "count(*) filter (where coalesce(escalated_at <= $as_of, false))", True,
           good="down"),
    Metric("median_close_hours", "办结用时中位数", "Median hours to close",
           "窗口内上报、截至时点已办结事件的（办结 − 上报）小时数中位数",
           "median of (closed − reported) in hours over tickets closed by the as-of instant",
           "小时", _R, _T,
           "round(median(epoch(closed_at - reported_at) / 3600.0) filter "
           "(where closed_at_asof(closed_at, $as_of)), 1)",
           False, good="down"),
    Metric("p90_close_hours", "办结用时 P90", "P90 hours to close",
           "同上，第 90 百分位", "as above, 90th percentile",
           "小时", _R, _T,
           "round(quantile_cont(epoch(closed_at - reported_at) / 3600.0, 0.9) filter "
           "(where closed_at_asof(closed_at, $as_of)), 1)",
           False, good="down"),
    Metric("satisfaction_pct", "满意率", "Satisfaction",
           "评价为满意 ÷ 已评价", "rated satisfied ÷ rated",
           "%", _R, _T,
           "rate_pct(count(*) filter (where satisfaction = 'satisfied'), "
           "count(*) filter (where satisfaction is not null))",
           False, good="up", amber=90, red=80),
    Metric("participation_pct", "参与率", "Participation",
           "当月参与（投票、问卷、意见）的户数 ÷ 户数；小区按唯一规则归属社区；本月未结束时"
           "标明“至今”（截至最新一条参与记录），不与整月比较",
           "households taking part (vote, survey, opinion) that month ÷ households; a "
           "compound counts in its one community; a running month is marked to-date (to "
           "the newest act) and never compared with whole months",
           "%", "month", "participation_monthly",
           "rate_pct(sum(participating_households), sum(households))",
           False, good="up", amber=20, red=10),
    Metric("turnout_owners_pct", "参与人数比例（每项表决）", "Turnout by owners (per vote)",
           "已投票业主 ÷ 业主总数，按人数、面积精确计算，显示时只舍入一次（导出为四位小数的比例）；"
           "法定须 ≥ 2/3（另须面积 ≥ 2/3）",
           "owners who voted ÷ all owners, from exact counts and areas, rounded once "
           "where shown (exports: a fraction to 4 places); the law needs ≥ 2/3 (and "
           "≥ 2/3 of the area)",
           "%", "vote", "vote_results", "turnout_owners_pct", False, good="up",
           amber=75, red=66.7),
    Metric("approval_owners_pct", "同意比例（每项表决）", "Approval by owners (per vote)",
           "同意业主 ÷ 参与业主；一般事项须过半，重大事项 ≥ 3/4（人数与面积同时）",
           "owners approving ÷ owners voting; > 1/2 for ordinary matters, ≥ 3/4 for "
           "major ones (by owners and by area)",
           "%", "vote", "vote_results", "approval_owners_pct", False, good="up"),
    Metric("warnings_active", "生效预警", "Active warnings",
           "最近一次计算时仍然成立的预警（新发与持续，不含已解除）",
           "early warnings still holding at their latest evaluation (new and ongoing, "
           "not resolved)", "条", "as_of", "warnings",
           "count(*) filter (where status <> 'resolved')", True,
           good="down", amber=1, red=5),
    Metric("income", "收入", "Income",
           "账期内入账的公共收入（元，精确到分，DECIMAL）",
           "public income booked in the month (yuan, exact decimals)",
           "元", "month", "ledger_monthly", "sum(income_yuan)", True),
    Metric("expense", "支出", "Expense",
           "账期内入账的公共支出（元）", "public expense booked in the month (yuan)",
           "元", "month", "ledger_monthly", "sum(expense_yuan)", True),
    Metric("balance", "期末结余", "Closing balance",
           "期末 = 期初 + 收入 − 支出 + 调整；仅对已结束并公布的账期显示，进行中的月份显示“本月至今收支”",
           "closing = opening + income − expense + adjustments; shown only for months "
           "ended and published, a running month shows income and expense to date",
           "元", "month", "ledger_monthly", "sum(closing_yuan)", True),
    Metric("residents", "常住人口", "Residents",
           "人口库中的居民人数，按居住社区汇总（不按小区归属）",
           "residents in the population data, counted in the community they live in",
           "人", "snapshot", "population_cells()", "residents", True),
    Metric("key_group_people", "重点人群人数", "People in key groups",
           "属于任一重点人群的居民（每人计一次）；1 至 k−1 的小数不显示（WALL_SMALL_COUNT）",
           "residents in at least one key group, counted once; counts from 1 to k−1 are "
           "suppressed (WALL_SMALL_COUNT)",
           "人", "snapshot", "population_cells()", "key_group_people", False),
    Metric("key_group_count", "各重点人群人数", "Count per key group",
           "每个重点人群的人数；小数抑制同上，且隐藏可反推出小数的格子",
           "people per key group; small counts suppressed as above, and cells that "
           "would reveal one are hidden", "人", "snapshot", "population_cells()",
           "kg:<code>", True),
)

BY_ID: dict[str, Metric] = {m.id: m for m in METRICS}


def metric(metric_id: str) -> Metric:
    """The declaration of `metric_id`.

    Raises:
        KeyError: unknown metric, naming it.
    """
    try:
        return BY_ID[metric_id]
    except KeyError:
        raise KeyError(f"unknown metric {metric_id!r}") from None


def load_thresholds(path: Path | None) -> dict[str, Metric]:
    """The metrics with thresholds overridden by the TOML file at `path` (None: defaults).

    The file has one table per metric id::

        [closure_pct]
        amber = 92
        red = 85

    Raises:
        ValueError: naming the file and the table or key that is wrong.
    """
    metrics = dict(BY_ID)
    if path is None:
        return metrics
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"{path}: cannot read metric thresholds: {e}") from e
    for key, table in data.items():
        if key not in metrics:
            raise ValueError(f"{path}: [{key}] is not a metric; known: {sorted(metrics)}")
        if not isinstance(table, dict) or set(table) - {"amber", "red"}:
            raise ValueError(f"{path}: [{key}] may set only amber and red")
        for name, value in table.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"{path}: [{key}] {name} must be a number, got {value!r}")
        metrics[key] = replace(metrics[key], **{k: float(v) for k, v in table.items()})
    return metrics
