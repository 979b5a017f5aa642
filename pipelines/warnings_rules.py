"""Early warnings (issue 15): every rule's definition, and the TOML file that tunes them.

One declaration per rule: its id, what finds it (a named query
`pipelines/sql/queries/warnings__<query>.sql`, or a metric of the metrics layer judged per
community over a rolling window, so the warning states the figure the wall and the
explorer show), its 口径 (how the figure is counted, shown with every warning), its
unit, the parameters a center may change with their defaults, and the one-line title a
duty officer reads.

`load_config(path)` reads the TOML (defaults: `pipelines/warnings.toml`, setting
WALL_WARNINGS_FILE) and checks it against these declarations.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What the rules and the detector read: a load changing any of them recomputes warnings.
INPUTS = ("tickets", "dim_calendar", "vote_results", "ledger_monthly", "ledger_entries",
          "residents", "ballots", "engagement")

SEVERITIES = ("critical", "high", "medium")
# Sources whose newest record source_stale can judge (warnings__source_stale.sql).
STALE_SOURCES = ("tickets", "ledger", "population", "ballots", "engagement")


class WarningsConfigError(ValueError):
    """The warnings TOML is wrong; the message names the file, the key and the reason."""


@dataclass(frozen=True)
class Rule:
    """One rule: a condition in the data that a duty officer must hear about.

    params: parameter name -> default; the TOML may override each, with the same type.
    title: format string over the query's columns (community, subject, observed, ...).
    """

    id: str
    definition: str
    unit: str
    title: str
    severity: str
    params: dict[str, Any] = field(default_factory=dict)
    # a named query's suffix (default: the id); it returns one row per firing scope
    query_name: str = ""
    # or: the metric (pipelines.metrics.catalog) judged per community over the last
    # `days` days (0: at the evaluation instant), firing `above` or below `limit`
    figure: str = ""
    days: int = 0
    above: bool = True
    limit: str = ""
    base_min: str = ""  # the parameter holding the least tickets a rate is judged on

    @property
    def query(self) -> str:
        """The named query that returns one row per firing scope."""
        return f"warnings__{self.query_name or self.id}"


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("level4_open",
         "评估时刻仍未办结（无办结时间或办结晚于评估时刻）的4级事件，每件一条；观测值为自上报"
         "起已过小时数。",
         "hours", "4级事件未办结：{community} {category}（{subject}）", "critical",
         query_name="open_serious"),
    Rule("level3_unanswered",
         "3级事件自上报起满 hours 小时仍无响应且未办结，每件一条；观测值为已过小时数。",
         "hours", "3级事件 {observed} 小时未响应：{community} {category}（{subject}）",
         "high", {"hours": 6}, query_name="open_serious"),
    Rule("overdue_open",
         "指标“超期未办结”（overdue_open）按社区：评估时刻未办结且已过办结时限（deadline_at，"
         "按工作日历计）的事件数；超过 count 件时预警。",
         "tickets", "{community} 超期未办结 {observed} 件（阈值 {threshold}）", "high",
         {"count": 10}, figure="overdue_open", limit="count"),
    Rule("response_timeouts",
         "指标“响应超时率”（response_timeout_pct）按社区，近7天（含今天，至评估时刻）上报的"
         "事件中超过响应时限（WALL_RESPONSE_HOURS）才响应或至今未响应且已过时限的占比（一位"
         "小数，与大屏、分析页同数）；至少 min_tickets 件时才判断，高于 pct% 预警。",
         "pct", "{community} 近7天响应超时 {observed}%（阈值 {threshold}%）", "medium",
         {"pct": 15.0, "min_tickets": 20}, figure="response_timeout_pct", days=7,
         limit="pct", base_min="min_tickets"),
    Rule("satisfaction_low",
         "指标“满意率”（satisfaction_pct）按社区，近30天（含今天，至评估时刻）上报且有评价的"
         "事件中“满意”的占比（一位小数）；至少 min_rated 件评价时才判断，低于 pct% 预警。",
         "pct", "{community} 近30天满意率 {observed}%（阈值 {threshold}%）", "medium",
         {"pct": 90.0, "min_rated": 20}, figure="satisfaction_pct", days=30, above=False,
         limit="pct", base_min="min_rated"),
    Rule("vote_at_risk",
         "进行中、将在 days 天内截止的表决，按人数或面积的参与率未达三分之二（民法典第278条）；"
         "观测值为两者中较低的参与率。",
         "pct", "{compound} 表决将截止、参与率 {observed}% 未达 {threshold}%：{subject}",
         "high", {"days": 2}),
    Rule("expense_spike",
         "小区最近一个有账的月份支出，高于其前12个月（至少 min_months 个月）月支出中位数的 "
         "factor 倍；期望值为该中位数。",
         "yuan", "{compound} {subject} 支出 {observed} 元，超过常月中位数 {expected} 元的 "
         "{factor} 倍", "medium", {"factor": 3.0, "min_months": 6}),
    Rule("negative_balance",
         "小区最近一个有账月份的期末结余（ledger_monthly.closing_yuan）小于零。",
         "yuan", "{compound} {subject} 期末结余为负：{observed} 元", "high"),
    Rule("ledger_unpublished",
         "公示日（月末后 WALL_LEDGER_PUBLISH_DAYS 天）已过的最近一个月，小区既往有账、却没有"
         "该月或之后任何记账：该月收支无法公示。",
         "months", "{compound} {subject} 收支未按期公示", "medium"),
    Rule("source_stale",
         "各数据源最新一条记录（事件：最新上报/更新时间；收支：最新记账日当天结束）距评估时刻"
         "超过该源的 hours 小时。",
         "hours", "数据源 {source} 已 {observed} 小时无新数据（阈值 {threshold} 小时）",
         "high", {"hours": {"tickets": 26, "ledger": 1080}}),
)}

# The anomaly detector (pipelines/warnings_anomalies.py) and its tunables.
ANOMALY_DEFAULTS: dict[str, Any] = {
    "severity": "high", "baseline_weeks": 8, "alpha": 0.002, "alpha_day": 0.0002,
    "rest_alpha": 0.05, "keep_quantile": 0.9, "min_ratio": 2.0, "min_day": 8, "min_week": 10,
    "grid_min_expected_week": 5.0,
}
ANOMALY_RULES = {
    "surge_day": "数据截止日（当天截至最新一条事件）的上报数，与此前 baseline_weeks 周"
                 "该单元的稳健日均（按同类别全街道的工作日/休息日节律折算，调休上班日算工作日，"
                 "按当日已过时段折算）比较；按负二项分布，超过 1−alpha_day 分位数、至少 "
                 "min_ratio 倍且至少 min_day 件时预警；同一单元近7天也预警时只报近7天。",
    "surge_week": "截至数据截止时刻的最近7天上报数，与此前 baseline_weeks 周该单元的稳健日均"
                  "（按同类别全街道的节律折算）之和比较；按负二项分布，超过 1−alpha 分位数、"
                  "至少 min_ratio 倍且至少 min_week 件，并且去掉最多的一天后仍超过 "
                  "1−rest_alpha 分位数时预警；已在预警中的单元，近7天仍高于 keep_quantile "
                  "分位数（“通常”区间的上限）时保持同一条预警。",
}


@dataclass(frozen=True)
class Config:
    """The effective configuration: enabled rules with their parameters and severity."""

    rules: dict[str, dict[str, Any]]
    severities: dict[str, str]
    anomalies: dict[str, Any]
    anomalies_enabled: bool = True
    source: str = ""


def _check_value(where: str, key: str, value: Any, default: Any) -> Any:
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise WarningsConfigError(f"{where}: {key} must be a table, got {value!r}")
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                raise WarningsConfigError(f"{where}: {key}.{k} must be a positive number, "
                                          f"got {v!r}")
        return dict(value)
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not type(default):
        raise WarningsConfigError(f"{where}: {key} must be {type(default).__name__}, "
                                  f"got {value!r}")
    if isinstance(value, (int, float)) and value < 0:
        raise WarningsConfigError(f"{where}: {key} must not be negative, got {value!r}")
    return value


def _severity(where: str, value: Any) -> str:
    if value not in SEVERITIES:
        raise WarningsConfigError(f"{where}: severity must be one of {', '.join(SEVERITIES)}"
                                  f", got {value!r}")
    return value


def load_config(path: Path) -> Config:
    """Read the warnings TOML at `path`, filling every default.

    Raises:
        WarningsConfigError: unreadable file, unknown rule or key, or a value of the wrong
            type, naming the file and the key.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise WarningsConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise WarningsConfigError(f"{path}: not valid TOML: {e}") from None
    unknown = set(data) - {"rules", "anomalies"}
    if unknown:
        raise WarningsConfigError(f"{path}: unknown section(s) {sorted(unknown)}; "
                                  "expected [rules.<id>] and [anomalies]")
    rules, severities = {}, {}
    given = data.get("rules", {})
    for rule_id in given:
        if rule_id not in RULES:
            raise WarningsConfigError(f"{path}: [rules.{rule_id}] is not a rule; known: "
                                      f"{', '.join(RULES)}")
    for rule_id, rule in RULES.items():
        entry = dict(given.get(rule_id, {}))
        where = f"{path} [rules.{rule_id}]"
        enabled = entry.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise WarningsConfigError(f"{where}: enabled must be true or false")
        severities[rule_id] = _severity(where, entry.pop("severity", rule.severity))
        extra = set(entry) - set(rule.params)
        if extra:
            raise WarningsConfigError(f"{where}: unknown key(s) {sorted(extra)}; this rule "
                                      f"takes {sorted(rule.params) or 'no parameters'}")
        params = {k: _check_value(where, k, entry.get(k, d), d)
                  for k, d in rule.params.items()}
        unknown = set(params.get("hours", {}) if rule_id == "source_stale" else ())
        unknown -= set(STALE_SOURCES)
        if unknown:
            raise WarningsConfigError(f"{where}: hours names unknown source(s) "
                                      f"{sorted(unknown)}; known: {', '.join(STALE_SOURCES)}")
        if enabled:
            rules[rule_id] = params
    entry = dict(data.get("anomalies", {}))
    where = f"{path} [anomalies]"
    enabled = entry.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise WarningsConfigError(f"{where}: enabled must be true or false")
    extra = set(entry) - set(ANOMALY_DEFAULTS)
    if extra:
        raise WarningsConfigError(f"{where}: unknown key(s) {sorted(extra)}; known: "
                                  f"{sorted(ANOMALY_DEFAULTS)}")
    anomalies = {k: _check_value(where, k, entry.get(k, d), d)
                 for k, d in ANOMALY_DEFAULTS.items()}
    _severity(where, anomalies["severity"])
    for key in ("alpha", "alpha_day", "rest_alpha"):
        if not 0 < anomalies[key] < 0.5:
            raise WarningsConfigError(f"{where}: {key} must be between 0 and 0.5")
    if not 0.5 <= anomalies["keep_quantile"] < 1:
        raise WarningsConfigError(f"{where}: keep_quantile must be at least 0.5 and below 1")
    if anomalies["baseline_weeks"] < 2:
        raise WarningsConfigError(f"{where}: baseline_weeks must be at least 2")
    return Config(rules, severities, anomalies, enabled, str(path))
