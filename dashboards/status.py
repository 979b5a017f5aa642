"""Status page: which warehouse is served, what it holds, how fresh, what went wrong.

The first page an operator opens after a load: row counts per table, the last loads,
per-source freshness (`pipelines.freshness`), failed load attempts (the load journal),
calendar years counted Monday-Friday, and quarantined rows.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dash
import duckdb
import pandas as pd
from dash import dcc, html

from dashboards import _data
from dashboards._i18n import MESSAGES
from dashboards._components import (
    data_table,
    empty_state,
    fmt_count,
    fmt_time,
    label,
    section,
    unavailable,
)
from pipelines import freshness as fresh
from pipelines import journal
from pipelines.queries import QueryError
from pipelines.queries import status as q
from pipelines.queries.wall import VIEWS as WALL_VIEWS
from pipelines.warehouse import WarehouseError

logger = logging.getLogger(__name__)

dash.register_page(
    __name__, path="/", name="状态 Status", title="状态 / Status", order=0
)

LOAD_COLUMNS = [
    ("source_file", "文件", "File", "text"),
    ("source", "来源", "Source", "text"),
    ("rows_read", "读取", "Read", "count"),
    ("inserted", "新增", "Inserted", "count"),
    ("updated", "更新", "Updated", "count"),
    ("unchanged", "未变", "Unchanged", "count"),
    ("duplicates", "重复", "Duplicates", "count"),
    ("quarantined", "隔离", "Quarantined", "count"),
    ("status", "状态", "Status", "text"),
    ("message", "信息", "Message", "text"),
    ("finished_at", "完成时间", "Finished", "time"),
]

TABLE_COLUMNS = [
    ("table_name", "表", "Table", "text"),
    ("row_count", "行数", "Rows", "count"),
    ("column_count", "列数", "Columns", "count"),
]

FRESHNESS_COLUMNS = [
    ("source", "来源", "Source", "text"),
    ("data_at", "最新记录", "Newest record", "time"),
    ("loaded_at", "最近成功加载", "Newest load", "time"),
    ("cadence", "预期频率", "Expected every", "text"),
    ("freshness", "新鲜度", "Freshness", "text"),
    ("failures", "失败次数", "Failed since", "count"),
    ("last_error", "最近失败原因", "Last failure", "text"),
]

FAILURE_COLUMNS = [
    ("started_at", "开始时间", "Started", "time"),
    ("source", "来源", "Source", "text"),
    ("files", "文件", "Files", "text"),
    ("outcome", "结果", "Outcome", "text"),
    ("reason", "原因", "Reason", "text"),
]

_FRESHNESS_TEXT = {
    "ok": "✓ 及时 fresh",
    "late": "⚠ 过期 stale",
    "missed": "✖ 严重过期 stale ×2",
    "none": "○ 无数据 no data",
}

_LOAD_ROW_CLASS = {"failed": "row-failed", "warning": "row-warning"}

QUARANTINE_COLUMNS = [
    ("source", "来源", "Source", "text"),
    ("reason", "原因", "Reason", "text"),
    ("row_count", "行数", "Rows", "count"),
]


def layout(**_query):
    """The status page, read fresh from the warehouse on every visit."""
    settings = _data.settings()
    try:
        con = _data.reader().cursor()
        try:
            return _page(con, settings)
        finally:
            con.close()
    except (WarehouseError, QueryError, duckdb.Error) as e:
        logger.warning("status page: warehouse unavailable: %s", e)
        return html.Div(
            [
                html.H1(label("状态", "Status")),
                _wall_links(),
                _path_line(settings.db_path),
                unavailable(str(e), id="status-unavailable"),
            ],
            className="page page-status",
        )


def _wall_links() -> html.P:
    """Where the wall is: a newcomer should not have to guess /wall or its views."""
    views = [
        # refresh: a full page load, the only one with the wall's scripts (app.py)
        dcc.Link(label(*MESSAGES[f"view.{v}"]), href=f"/wall/{v}", className="wall-link",
                 id=f"status-wall-{v}", refresh=True)
        for v in WALL_VIEWS
    ]
    return html.P(
        [
            html.Span(label("大屏", "Wall"), className="meta-key"),
            dcc.Link(label("轮播全部", "all views, rotating"), href="/wall",
                     className="wall-link", id="status-wall", refresh=True),
            *views,
        ],
        className="meta-line status-wall-links",
        id="status-wall-links",
    )


def _now_local(timezone: str) -> datetime:
    return datetime.now(ZoneInfo(timezone)).replace(tzinfo=None)


def _duration(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:g} d" if hours >= 48 else f"{hours:g} h"


def _path_line(db_path) -> html.P:
    return html.P(
        [
            html.Span(label("数据仓库", "Warehouse"), className="meta-key"),
            html.Code(str(db_path), id="status-db-path"),
        ],
        className="meta-line",
    )


def _page(con: duckdb.DuckDBPyConnection, settings) -> html.Div:
    meta = q.warehouse_meta(con)
    tables = q.table_sizes(con)
    loads = q.recent_loads(con, limit=20)
    now = _now_local(settings.timezone)
    verdicts = fresh.freshness(con, settings, now)
    failures = journal.failures(settings.db_path, limit=20)
    calendar_years = q.unofficial_calendar_years(con)
    quarantine = q.quarantine_counts(con)

    facts = html.Dl(
        [
            html.Dt(label("数据仓库", "Warehouse")),
            html.Dd(html.Code(str(settings.db_path)), id="status-db-path"),
            html.Dt(label("结构版本", "Schema version")),
            html.Dd(str(meta.schema_version), id="status-schema-version"),
            html.Dt(label("数据版本", "Data version")),
            html.Dd(str(meta.data_version), id="status-data-version"),
            html.Dt(label("最近写入", "Last written")),
            html.Dd(fmt_time(meta.written_at), id="status-written-at"),
        ],
        className="facts",
    )

    warnings = [
        html.Li(
            [
                f"工作日历不含 {year} 年，期限按周一至周五计算；国务院公布放假安排后，"
                f"在日历文件（WALL_CALENDAR_FILE）中加入 [{year}]，下次载入即重算期限",
                html.Span(
                    f"working-day calendar does not know {year}; "
                    "deadlines use Monday–Friday. Once the State Council publishes the "
                    f"holidays, add [{year}] to the calendar file (WALL_CALENDAR_FILE, "
                    "docs/calendar.md): the next load recomputes the deadlines",
                    className="label-en",
                ),
            ],
            className="warning",
        )
        for year, _days in calendar_years
    ]

    freshness = pd.DataFrame(
        [
            {
                "source": v.source,
                "data_at": v.data_at,
                "loaded_at": v.loaded_at,
                "cadence": _duration(v.cadence),
                "freshness": ("✖ 加载失败 failing · " if v.failing else "")
                + _FRESHNESS_TEXT[v.state],
                "failures": v.failures,
                "last_error": v.last_error,
            }
            for v in verdicts
        ],
        columns=[c[0] for c in FRESHNESS_COLUMNS],
    )
    failed = pd.DataFrame(
        [
            {
                "started_at": a.started_at or a.finished_at,
                "source": a.source,
                "files": ", ".join(a.files),
                "outcome": a.outcome,
                "reason": a.reason,
            }
            for a in failures
        ],
        columns=[c[0] for c in FAILURE_COLUMNS],
    )

    return html.Div(
        [
            html.H1(label("状态", "Status")),
            _wall_links(),
            html.P(
                [
                    f"页面生成于 {fmt_time(now)}",
                    html.Span(f"generated {fmt_time(now)}", className="label-en"),
                ],
                className="meta-line",
            ),
            section("仓库", "Warehouse", facts, id="status-warehouse"),
            section(
                "日历提示",
                "Calendar warnings",
                html.Ul(warnings, className="warnings")
                if warnings
                else empty_state(
                    "工作日历覆盖所有年份", "official calendar covers every year"
                ),
                id="status-calendar",
            ),
            section(
                "数据新鲜度",
                "Data freshness",
                html.P(
                    [
                        "最新记录早于预期频率即为过期",
                        html.Span(
                            "stale: the newest record is older than the source's "
                            "expected cadence",
                            className="label-en",
                        ),
                    ],
                    className="meta-line",
                ),
                data_table(
                    freshness,
                    FRESHNESS_COLUMNS,
                    id="status-freshness-table",
                    row_class=[
                        "row-failed" if v.failing else "row-stale" if v.stale else None
                        for v in verdicts
                    ],
                )
                if len(freshness)
                else empty_state("尚未加载任何数据", "nothing loaded yet"),
                id="status-freshness",
            ),
            section(
                "加载失败",
                "Failed load attempts",
                data_table(
                    failed,
                    FAILURE_COLUMNS,
                    id="status-failures-table",
                    row_class=["row-failed"] * len(failed),
                )
                if len(failed)
                else empty_state("没有失败的加载", "no failed load attempts"),
                id="status-failures",
            ),
            section(
                "最近加载",
                "Recent loads",
                data_table(
                    loads,
                    LOAD_COLUMNS,
                    id="status-loads-table",
                    row_class=[_LOAD_ROW_CLASS.get(s) for s in loads["status"]],
                )
                if len(loads)
                else empty_state("尚无加载记录", "no loads recorded"),
                id="status-loads",
            ),
            html.Div(
                [
                    section(
                        "数据表",
                        "Tables",
                        data_table(tables, TABLE_COLUMNS, id="status-tables-table"),
                        id="status-tables",
                    ),
                    section(
                        "隔离行",
                        "Quarantined rows",
                        html.P(
                            [
                                f"共 {fmt_count(quarantine['row_count'].sum())} 行",
                                html.Span("rows in total", className="label-en"),
                            ],
                            className="meta-line",
                        ),
                        data_table(
                            quarantine, QUARANTINE_COLUMNS, id="status-quarantine-table"
                        )
                        if len(quarantine)
                        else empty_state("没有隔离行", "no quarantined rows"),
                        id="status-quarantine",
                    ),
                ],
                className="two-col",
            ),
        ],
        className="page page-status",
    )
