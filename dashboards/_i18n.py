"""View layer: the wall's message catalogue (Chinese first, English with ?lang=en).

Every label on the wall comes from MESSAGES through `t(key, lang, **values)`. Data values
(community and category names) are shown as loaded. Dates on the wall read
"11月23日 星期一" in Chinese and "Mon 23 Nov" in English.
"""

from __future__ import annotations

from datetime import date, datetime

from pipelines.queries.wall import WALL_VIEWS

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

MESSAGES: dict[str, tuple[str, str]] = {
    # frame
    "wall.title": ("基层治理指挥中心", "Command center"),
    "wall.reconnecting": ("正在重新连接…", "Reconnecting…"),
    "wall.stale": (
        "数据已过期：最新记录在 {age} 前",
        "Data is stale: newest record {age} ago",
    ),
    "wall.never_loaded": ("尚未加载任何数据", "No data loaded yet"),
    "wall.calendar_fallback": (
        "{years}年日历未知·期限按周一至五",
        "{years}: no calendar, Mon–Fri",
    ),
    "wall.no_data": ("暂无数据", "No data yet"),
    "wall.no_data_detail": (
        "数据接入后自动显示",
        "Shown automatically once the data is loaded",
    ),
    "wall.unavailable": ("数据暂不可用", "Data unavailable"),
    "wall.filter": ("范围：{value}", "Scope: {value}"),
    "wall.all": ("全街道", "Whole sub-district"),
    # a month still running, on a trend axis (its bar is never read as a whole month)
    "wall.partial": (" 至今", "*"),
    # the alarm strip (every slide)
    "alarm.serious_open": ("在办三、四级", "Open L3–4"),
    "alarm.overdue_open": ("超期未办结", "Overdue"),
    "alarm.reported": ("今日新增", "New today"),
    "alarm.response_timeout_pct": ("本月响应超时", "Late reply"),
    "alarm.warnings_active": ("生效预警", "Warnings"),
    "alarm.not_loaded": ("未接入", "n/a"),
    "alarm.as_of": ("截至 {time}", "as of {time}"),
    # sources
    "source.tickets": ("事件", "Tickets"),
    "source.population": ("人口", "People"),
    "source.participation": ("参与", "Voting"),
    "source.ledger": ("收支", "Ledger"),
    "source.none": ("无", "none"),
    # map
    "map.metric.open": ("在办事件", "Open tickets"),
    "map.metric.overdue_open": ("超期未办结", "Open past deadline"),
    "map.metric.open_per_1000": ("每千名居民在办事件", "Open per 1,000 residents"),
    "map.def.open": ("截至数据时点尚未办结的事件数，按社区",
                     "tickets not closed at the data cut-off, per community"),
    "map.def.overdue_open": ("截至数据时点尚未办结且已过办理期限的事件数，按社区",
                             "tickets open past their deadline at the data cut-off, "
                             "per community"),
    "map.def.open_per_1000": ("在办事件 ÷ 常住人口 × 1000，按社区",
                              "open tickets ÷ residents × 1,000, per community"),
    "map.top": ("最多的社区", "Highest"),
    "map.points": ("图上标注：在办三、四级事件（按小区位置）；无位置的 {n} 件未标注",
                   "Marked: open level 3 and 4 events at their compound; {n} without a "
                   "location are not marked"),
    "map.no_map": ("尚未导入地图文件（python -m pipelines load geo 文件.geojson），"
                   "按社区示意排列",
                   "No map file loaded yet (python -m pipelines load geo FILE.geojson): "
                   "communities shown as tiles"),
    # levels
    "level.name": ("{n}级", "Level {n}"),
    "level.most": ("（最重）", " (most serious)"),
    "levels.today": ("今日事件", "Events today"),
    "levels.today_def": (
        "{window}上报；同比：去年同日至同一时刻",
        "{window}; vs the same date last year to the same time",
    ),
    "levels.month": ("本月累计", "Month to date"),
    "levels.open": ("在办", "Open"),
    "levels.col_today": ("今日事件", "Today"),
    "levels.col_month": ("本月累计", "Month"),
    "levels.col_yoy": ("同比", "vs LY"),
    "levels.open_def": ("已上报未办结", "reported, not closed"),
    "levels.yoy": ("同比", "vs last year"),
    "levels.yoy_none": ("去年同期无", "none last year"),
    "levels.serious": ("三、四级事件（在办）", "Level 3 and 4 events (open)"),
    "levels.serious_def": (
        "三级、四级（最重）且尚未办结，按上报时间最新在前",
        "Levels 3 and 4 (most serious) not closed yet, newest report first",
    ),
    "levels.serious_none": ("当前无在办三、四级事件", "No open level 3 or 4 events"),
    "levels.more": ("另有 {n} 件", "{n} more"),
    "levels.categories": ("本月事件类别", "Categories this month"),
    "levels.communities": ("本月各社区事件", "Events per community this month"),
    "levels.communities_def": ("条长为本月上报数，右侧为在办数", "bar: reported this month; right: open"),
    "levels.ticker": ("最新上报", "Newest reports"),
    "levels.ticker_none": ("近 7 天无新上报", "No reports in the last 7 days"),
    "levels.overdue_mark": ("超期", "overdue"),
    # closure
    "closure.on_time": ("本月按时办结率", "On-time rate this month"),
    "closure.on_time_def": (
        "按时办结 ÷（已办结 + 超期未办结）；三级按工作日计",
        "closed by deadline ÷ (closed + open past deadline); level 3 counts working days",
    ),
    "closure.closure": ("本月办结率", "Closure rate this month"),
    "closure.closure_def": ("已办结 ÷ 本月上报", "closed ÷ reported this month"),
    "closure.overdue": ("超期未办结", "Open past deadline"),
    "closure.overdue_def": ("截至数据时点超期未办结，最近超期在前",
                            "open past the deadline at the cut-off, most recently overdue first"),
    "closure.overdue_none": ("当前无超期事件", "Nothing overdue now"),
    "closure.by_level": ("分级办结", "By level"),
    "closure.window": ("{window}上报的事件", "tickets reported {window}"),

    "closure.col_closure": ("办结率", "Closed"),
    "closure.col_on_time": ("按时率", "On time"),
    "closure.col_overdue": ("超期", "Overdue"),
    "closure.trend": ("近 12 个月按时办结率", "On-time rate, last 12 months"),
    "closure.late_response": ("响应超时率", "Late-response rate"),
    "closure.late_response_def": ("本月上报中超 {hours} 小时才响应或未响应 {n} 件",
                                  "{n} reported this month not answered in {hours} h"),
    "closure.communities_def": ("最差在前；黄线 {amber}%、红线 {red}%",
                                "worst first; amber {amber}%, red {red}%"),
    "chart.target": ("目标 ≥ {v}", "target ≥ {v}"),
    "closure.escalated": ("升级督办", "Escalated"),
    "closure.escalated_def": ("本月升级至社区督办", "sent up for supervision"),
    "closure.satisfaction": ("满意率", "Satisfaction"),
    "closure.satisfaction_def": ("满意 ÷ 已评价 {n} 件", "satisfied ÷ {n} rated"),
    "closure.communities": ("各社区按时办结率", "On-time rate per community"),
    "closure.overdue_for": ("超期 {d}", "{d} over"),
    # participation
    "participation.rate": ("{month} 参与率", "Participation in {month}"),
    "participation.running": ("{window}：{pct}（未满月，不作比较）",
                              "{window}: {pct} (month running, not compared)"),

    "participation.rate_def": (
        "参与（投票、问卷、意见）的业主 ÷ 业主总数",
        "owners taking part (vote, survey, opinion) ÷ all owners",
    ),
    "participation.trend": ("各小区参与率（按月）", "Participation per compound by month"),
    "participation.trend_all": ("近 12 个月参与率", "Participation, last 12 months"),
    "participation.open_votes": ("进行中的表决", "Open votes"),
    "participation.open_votes_def": (
        "参与须达人数与面积各 2/3；同意须过半（重大事项 3/4）",
        "turnout ≥ 2/3 of owners and area; approval > 1/2 (major: ≥ 3/4)",
    ),
    "participation.turnout_owners": ("参与人数", "Turnout, owners"),
    "participation.turnout_area": ("参与面积", "Turnout, area"),
    "participation.approval": ("同意", "Approval"),
    "participation.at_risk": ("参与不足", "Turnout at risk"),
    "participation.days_left": ("剩 {n} 天", "{n} days left"),
    "participation.hours_left": ("剩 {n} 小时", "{n} h left"),
    "participation.no_votes": ("当前无进行中的表决", "No open votes"),
    "participation.month_activity": ("本月问卷与意见", "Surveys and opinions this month"),
    "participation.questionnaires": ("问卷答复", "Survey answers"),
    "participation.opinions": ("意见建议", "Opinions"),
    "participation.votes_cast": ("投票", "Ballots"),
    "participation.major": ("重大", "major"),
    "participation.from": ("{month} 为 {pct}", "{pct} in {month}"),
    "participation.vs": ("较{month}月", "vs {mon}"),
    "participation.compounds_def": ("每格：小区名、首月→本月参与率、逐月走势", "each: compound, first → latest month, monthly trend"),
    "participation.threshold": ("线 = 法定门槛", "line = legal threshold"),
    # accounts
    "accounts.balance": ("期末结余合计", "Closing balance, all compounds"),
    "accounts.balance_def": ("期末 = 期初 + 收入 − 支出，精确到分", "closing = opening + income − expense, to the fen"),
    "accounts.running": ("收支差（未公布）", "Income − expense (not published)"),
    "accounts.running_def": (
        "{window}；账期结束并公布后才有期末结余",
        "{window}; the closing balance comes once the month has ended and is published",
    ),
    "accounts.col_net": ("收支差", "Net"),
    "accounts.income": ("本月收入", "Income this month"),
    "accounts.expense": ("本月支出", "Expense this month"),
    "accounts.per_compound": ("各小区本月收支（万元）", "Per compound this month (10k yuan)"),
    "accounts.per_compound_def": ("支出最多的 {n} 个（共 {total} 个），逐笔到分见分析页",
                                  "{n} largest expenses of {total}; to the fen in the explorer"),
    "accounts.in_wan": ("（万元）", " (10k yuan)"),
    "accounts.col_compound": ("小区", "Compound"),
    "accounts.col_income": ("收入", "Income"),
    "accounts.col_expense": ("支出", "Expense"),
    "accounts.col_balance": ("结余", "Balance"),
    "accounts.trend": ("近 12 个月收支", "Income and expense, 12 months"),
    "accounts.top_income": ("主要收入", "Top income"),
    "accounts.top_expense": ("主要支出", "Top expense"),
    "accounts.month_of": ("{month} 月账目", "Accounts for {month}"),
    # population
    "population.residents": ("实有人口", "Residents"),
    "population.residents_def": (
        "实际居住人口（含非户籍）；少于 {k} 人显示为 <{k}",
        "people actually living here; counts under {k} shown as <{k}",
    ),
    "population.households": ("户数", "Households"),
    "population.registered": ("户籍人口", "Registered"),
    "population.key_groups": ("重点人群", "Key groups"),
    "population.key_groups_def": (
        "需主动服务的人群；少于 {k} 人显示为 <{k}，合计不可反推",
        "people given proactive care; under {k} shown as <{k}, not derivable from totals",
    ),
    "population.per_community": ("各社区实有人口", "Residents per community"),
    "population.per_community_def": ("人口多者在前；户数在右；少于 {k} 不显示；分项见分析页",
                                     ("largest first; households right; under {k} hidden; "
                                      "detail in the explorer")),
    "population.suppressed_def": (
        "<{k}：少于 {k} 人；—：为防反推而隐藏",
        "<{k}: fewer than {k}; —: hidden so small counts cannot be derived",
    ),
    "population.non_registered": ("非户籍", "Non-reg."),
    "population.key_people": ("重点人群人数", "People in key groups"),
    "population.col_community": ("社区", "Community"),
    # units
    "unit.events": ("件", ""),
    "unit.wan_yuan": ("万元", "10k yuan"),
    "unit.points": ("个百分点", " pt"),
    "unit.people": ("人", ""),
    "unit.households": ("户", ""),
    "unit.minutes": ("{n}分钟", "{n} min"),
    "unit.hours": ("{n}小时", "{n} h"),
    "unit.days": ("{n}天", "{n} d"),
}
# each view's title, from its one declaration
MESSAGES.update({f"view.{v.id}": v.title for v in WALL_VIEWS.values()})

KEY_GROUPS: dict[str, tuple[str, str]] = {
    "dibao": ("低保", "Allowance"),
    "tekun": ("特困", "Hardship"),
    "elderly_80": ("高龄", "Aged 80+"),
    "living_alone": ("独居老人", "Alone"),
    "disabled": ("残疾人", "Disabled"),
    "veteran": ("退役军人", "Veterans"),
    "left_behind_child": ("留守儿童", "Left-behind"),
    "serious_illness": ("大病", "Ill"),
    "low_income": ("低收入", "Low inc."),
}

_WEEKDAYS = {
    "zh": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
              "Nov", "Dec")


def lang_of(value: str | None) -> str:
    """The language to show for a ?lang= value: 'en' or the default 'zh'."""
    return value if value in LANGS else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **values) -> str:
    """The message `key` in `lang`, formatted with `values`.

    Raises:
        KeyError: when the catalogue has no such key (caught by a unit test).
    """
    zh, en = MESSAGES[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def key_group(code: str, lang: str) -> str:
    """A key group's label; an unknown code is shown as given."""
    names = KEY_GROUPS.get(code)
    if names is None:
        return code
    return names[1] if lang == "en" else names[0]


def wall_date(day: date | datetime, lang: str) -> str:
    """'11月23日 星期一' or 'Mon 23 Nov'."""
    wd = _WEEKDAYS[lang][day.weekday()]
    if lang == "en":
        return f"{wd} {day.day} {_MONTHS_EN[day.month - 1]}"
    return f"{day.month}月{day.day}日 {wd}"


def month_label(day: date, lang: str) -> str:
    """'25年12月' or 'Dec 25' on trend axes: a month always with its year."""
    if lang == "en":
        return f"{_MONTHS_EN[day.month - 1]} {day:%y}"
    return f"{day:%y}年{day.month}月"


def month_axis(days: list[date], lang: str) -> list[str]:
    """Labels for a month axis: every other month, ending on the newest; the year on the
    first label and wherever the year changes ('25年12月', '2月', ..., '26年2月'). The
    values are printed on every month, so each month still reads with its year."""
    out, year = [], None
    for i, day in enumerate(days):
        if (len(days) - 1 - i) % 2:
            out.append("")
        elif day.year != year:
            out.append(month_label(day, lang))
            year = day.year
        else:
            out.append(_MONTHS_EN[day.month - 1] if lang == "en" else f"{day.month}月")
    return out


def duration(minutes: int, lang: str) -> str:
    """A duration for a wall: '3天', '5小时', '40分钟' (largest whole unit)."""
    if minutes >= 24 * 60:
        return t("unit.days", lang, n=minutes // (24 * 60))
    if minutes >= 60:
        return t("unit.hours", lang, n=minutes // 60)
    return t("unit.minutes", lang, n=max(minutes, 0))
