"""Metrics page (/metrics): every figure's 口径, unit, thresholds in force and where it is shown.

Built from the same declarations as docs/metrics.md (pipelines/metrics), with the
thresholds of WALL_METRIC_THRESHOLDS applied, so the page and the product never disagree.
"""

from __future__ import annotations

import logging

import dash
import pandas as pd
from dash import html

from dashboards import _data
from dashboards._components import data_table, label, unavailable
from pipelines.metrics import load_thresholds
from pipelines.metrics.docs import metric_rows

logger = logging.getLogger(__name__)

dash.register_page(__name__, path="/metrics", name="口径 Metrics",
                   title="口径 / Metrics", order=20)

COLUMNS = [
    ("id", "编号", "Id", "text"),
    ("name", "指标", "Metric", "text"),
    ("definition_zh", "口径", "Definition (zh)", "text"),
    ("definition_en", "口径（英文）", "Definition", "text"),
    ("unit", "单位", "Unit", "text"),
    ("basis", "计入时段依据", "Period by", "text"),
    ("additive", "可跨社区相加", "Adds up", "text"),
    ("good", "方向", "Good", "text"),
    ("thresholds", "阈值", "Thresholds", "text"),
    ("shown", "展示位置", "Shown on", "text"),
]


def layout(**_query):
    """The list of metrics with the thresholds this installation uses."""
    settings = _data.settings()
    title = html.H1(label("指标口径", "Metrics"))
    try:
        metrics = load_thresholds(settings.metric_thresholds)
    except ValueError as e:
        logger.error("metrics page: %s", e)
        return html.Div([title, unavailable(str(e), id="metrics-unavailable")],
                        className="page page-metrics")
    table = data_table(pd.DataFrame(metric_rows(metrics)), COLUMNS, id="metrics-table")
    return html.Div(
        [
            title,
            html.P(label(
                "每个数字只有一个定义；大屏、分析与导出均由此处声明计算。",
                "One definition per figure; the wall, explorer and exports compute from "
                "these declarations.",
            )),
            table,
        ],
        className="page page-metrics",
    )
