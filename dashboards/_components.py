"""View layer: small shared building blocks and number/time formatting for pages.

Numbers are formatted here, in the view, never in SQL (exports keep SQL text instead).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
from dash import html

MISSING = "—"


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_count(value: Any) -> str:
    """12345 -> '12,345'; missing -> '—'."""
    if _is_missing(value):
        return MISSING
    return f"{int(value):,}"


def fmt_yuan(value: Any) -> str:
    """1234.5 -> '¥1,234.50'; missing -> '—'. Display only: exports keep SQL text."""
    if _is_missing(value):
        return MISSING
    return f"¥{value:,.2f}"


def fmt_time(value: Any) -> str:
    """Local timestamp as 'YYYY-MM-DD HH:MM'; a date as 'YYYY-MM-DD'; missing -> '—'."""
    if _is_missing(value):
        return MISSING
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def fmt_text(value: Any) -> str:
    """Any value as text; missing -> '—'."""
    return MISSING if _is_missing(value) else str(value)


def label(zh: str, en: str) -> list:
    """A bilingual label: Chinese first, English beside it in muted type."""
    return [zh, html.Span(en, className="label-en")]


def section(zh: str, en: str, *children, id: str | None = None) -> html.Section:
    """A titled panel."""
    kwargs = {"id": id} if id else {}
    return html.Section(
        [html.H2(label(zh, en), className="panel-title"), *children],
        className="panel",
        **kwargs,
    )


def empty_state(zh: str, en: str) -> html.P:
    """The line shown instead of an empty table."""
    return html.P(label(zh, en), className="empty-state")


Column = tuple[str, str, str, str]  # (field, zh, en, kind: text|count|time)

_FORMATTERS = {"text": fmt_text, "count": fmt_count, "time": fmt_time, "yuan": fmt_yuan}


def data_table(
    df: pd.DataFrame,
    columns: Sequence[Column],
    *,
    id: str,
    row_class: Iterable[str | None] | None = None,
) -> html.Table:
    """A plain, readable table: bilingual headers, numbers right-aligned and tabular.

    Args:
        df: the rows to show.
        columns: (field, Chinese header, English header, kind) per column, in order.
        id: component id of the table (`<page>-<thing>`).
        row_class: optional CSS class per row (e.g. 'row-failed').
    """
    header = html.Thead(
        html.Tr(
            [
                html.Th(label(zh, en), className=f"col-{kind}")
                for _, zh, en, kind in columns
            ]
        )
    )
    classes = list(row_class) if row_class is not None else [None] * len(df)
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(_FORMATTERS[kind](record[field]), className=f"col-{kind}")
                    for field, _, _, kind in columns
                ],
                className=cls,
            )
            for record, cls in zip(df.to_dict("records"), classes, strict=True)
        ]
    )
    return html.Table([header, body], id=id, className="data-table")


def unavailable(message: str, *, id: str = "data-unavailable") -> html.Div:
    """Shown when data cannot be read: what is wrong and what to do, no traceback."""
    return html.Div(
        [
            html.H2(label("数据暂不可用", "Data unavailable"), className="panel-title"),
            html.P(message, className="unavailable-message"),
        ],
        id=id,
        className="panel panel-unavailable",
        role="alert",
    )
