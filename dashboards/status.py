"""Status page: which warehouse is served, what it holds, how fresh, what went wrong.

The first page an operator opens after a load: row counts per table, the last loads,
per-source freshness, calendar years counted Monday-Friday, and quarantined rows.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dash
import duckdb
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
    ("newest_load_at", "最近成功加载", "Newest load", "time"),
    ("newest_record_at", "最新记录", "Newest record", "time"),
    ("ok_count", "成功次数", "Loads", "count"),
    ("failed_count", "失败次数", "Failed loads", "count"),
    ("freshness", "新鲜度", "Freshness", "text"),
]

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
        dcc.Link(label(*MESSAGES[f"view.{v}"]), href=f"/wall/{v}", className="wall-link",
                 id=f"status-wall-{v}")
        for v in WALL_VIEWS
    ]
    return html.P(
        [
            html.Span(label("大屏", "Wall"), className="meta-key"),
            dcc.Link(label("轮播全部", "all views, rotating"), href="/wall",
                     className="wall-link", id="status-wall"),
            *views,
        ],
        className="meta-line status-wall-links",
        id="status-wall-links",
    )


def _now_local(timezone: str) -> datetime:
    return datetime.now(ZoneInfo(timezone)).replace(tzinfo=None)


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
    freshness = q.source_freshness(
        con, stale_before=now - timedelta(hours=settings.stale_hours)
    )
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
                f"工作日历不含 {year} 年，期限按周一至周五计算",
                html.Span(
                    f"working-day calendar does not know {year}; "
                    "deadlines use Monday–Friday",
                    className="label-en",
                ),
            ],
            className="warning",
        )
        for year, _days in calendar_years
    ]

    freshness = freshness.assign(
        freshness=[
            "⚠ 过期 stale" if stale else "✓ 及时 fresh"
            for stale in freshness["is_stale"]
        ]
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
                        f"超过 {settings.stale_hours:g} 小时视为过期",
                        html.Span(
                            f"stale after {settings.stale_hours:g} h",
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
                        "row-stale" if s else None for s in freshness["is_stale"]
                    ],
                )
                if len(freshness)
                else empty_state("尚未加载任何数据", "nothing loaded yet"),
                id="status-freshness",
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
