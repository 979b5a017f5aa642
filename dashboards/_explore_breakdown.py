"""View layer: the breakdown table (a measure by one or two dimensions) as shown and as
downloaded. One function builds it, so the CSV and XLSX files hold exactly the page's
table: the same rows, order, labels and total row.

Labels are Chinese by default (handler `property` reads 物业, as on the charts); with
`codes=True` the headers are the measure and dimension ids and the cells the raw values.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from dashboards import _theme
from dashboards._explore_figures import HANDLERS, chinese
from pipelines.queries.explore import BREAKDOWN_MEASURES, Breakdown, sort_order

TOTAL_ZH = "合计"
PARTIAL_ZH = "（部分）"

BY_LABELS: dict[str, tuple[str, str]] = {
    "period": ("时段", "Period"),
    "level": ("等级", "Level"),
    "category": ("类别", "Category"),
    "community": ("社区", "Community"),
    "grid": ("网格", "Grid"),
    "compound": ("小区", "Compound"),
    "source": ("来源", "Source"),
    "handler": ("处置主体", "Handler"),
}

HANDLER_ZH = chinese(HANDLERS)


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def period_name(grain: str, start: dt.date) -> str:
    """A period in Chinese: 2026-07-01, 2026-W27, 2026年7月, 2026年第3季度, 2026年."""
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        y, w, _ = start.isocalendar()
        return f"{y}-W{w:02d}"
    if grain == "month":
        return f"{start.year}年{start.month}月"
    if grain == "quarter":
        return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
    return f"{start.year}年"


def value_zh(by: str, value, grain: str = "month", partial: bool = False) -> str:
    """How a dimension value reads in the table, the files and the charts' Chinese."""
    if _missing(value):
        return "未填"
    if by == "level":
        return f"{_theme.LEVEL_NUMERALS.get(int(value), value)}级"
    if by == "handler":
        return HANDLER_ZH.get(value, str(value))
    if by == "period":
        return period_name(grain, pd.Timestamp(value).date()) + (PARTIAL_ZH if partial else "")
    return str(value)


def measure_header(measure: str) -> str:
    """'办结用时 P90（小时）': the metric's Chinese name and unit."""
    m = BREAKDOWN_MEASURES[measure]
    return f"{m.name_zh}（{m.unit}）"


def _is(series: pd.Series, value) -> pd.Series:
    """Rows whose `series` holds `value` (a missing value matches missing ones)."""
    if _missing(value):
        return series.isna()
    return (series == value).fillna(False).astype(bool)


def _order(rows: pd.DataFrame, col: str, by: str, measure: str) -> list:
    """Values of `col` in display order: periods and levels in their own order, the
    rest worst (or largest) first, ties by value, an empty value last."""
    values = rows[col]
    if by in ("period", "level"):
        return sorted(values.dropna().unique().tolist()) + (
            [None] if values.isna().any() else [])
    keyed = rows.assign(_m=rows["measure"].astype("float64"),
                        _k=values.astype("string"))
    keyed = keyed.sort_values(["_m", "_k"], ascending=[not sort_order(measure), True],
                              na_position="last")
    return [None if _missing(v) else v for v in keyed[col]]


def breakdown_table(df: pd.DataFrame, b: Breakdown, *, codes: bool = False
                    ) -> pd.DataFrame:
    """The display table of `ticket_measure_breakdown`'s long frame.

    One dimension: a row per value (sorted), its measure and tickets, then the total.
    Two: a pivot, rows `by`, columns `by2`, the measure in the cells, a total column and
    a total row (each computed over the tickets, not summed). A count cell with no
    tickets reads 0; a rate or percentile cell with none stays empty.
    """
    additive = BREAKDOWN_MEASURES[b.measure].additive

    def label(by: str, col: str, value) -> object:
        if codes:
            return value.isoformat() if isinstance(value, dt.date) else value
        flag = f"{col}_partial"
        partial = flag in df and bool(
            df.loc[_is(df[col], value) & ~df[f"{col}_total"], flag].any())
        return value_zh(by, value, b.grain, partial)

    total = "total" if codes else TOTAL_ZH
    head = b.by if codes else BY_LABELS[b.by][0]
    if df.empty:
        return pd.DataFrame(columns=[head])
    if b.by2 is None:
        cells = df[~df["value_total"]]
        rows = []
        for v in _order(cells, "value", b.by, b.measure):
            r = cells[_is(cells["value"], v)].iloc[0]
            rows.append([label(b.by, "value", v), _num(r["measure"]),
                         int(r["reported_count"])])
        t = df[df["value_total"]].iloc[0]
        rows.append([total, _num(t["measure"]), int(t["reported_count"])])
        cols = ([b.by, b.measure, "reported_count"] if codes
                else [head, measure_header(b.measure), "上报（件）"])
        frame = pd.DataFrame(rows, columns=cols)
        # the tickets column says how many tickets a figure stands on: for the count of
        # reported tickets itself a reader would see the measure twice (coded files keep
        # it, so a script reading them finds the same columns whatever the measure)
        return frame.iloc[:, :2] if b.measure == "reported" and not codes else frame

    def key(value, is_total):
        return _TOTAL if is_total else (None if _missing(value) else value)

    # one lookup per cell, not a scan of the frame: a 60 x 30 pivot stays cheap
    cells = {(key(a, ta), key(b2, tb)): m for a, b2, ta, tb, m in zip(
        df["value"], df["value2"], df["value_total"], df["value2_total"], df["measure"])}

    def pick(v1, v2):
        if (v1, v2) not in cells:
            return 0 if additive else None
        return _num(cells[(v1, v2)])

    row_totals = df[~df["value_total"] & df["value2_total"]]
    col_totals = df[df["value_total"] & ~df["value2_total"]]
    rows_order = _order(row_totals, "value", b.by, b.measure)
    cols_order = _order(col_totals, "value2", b.by2, b.measure)
    columns = [head] + [label(b.by2, "value2", v) for v in cols_order] + [total]
    out = []
    for v1 in rows_order + [_TOTAL]:
        name = total if v1 is _TOTAL else label(b.by, "value", v1)
        out.append([name] + [pick(v1, v2) for v2 in cols_order] + [pick(v1, _TOTAL)])
    return pd.DataFrame(out, columns=columns)


def breakdown_keys(df: pd.DataFrame, b: Breakdown) -> tuple[list, list]:
    """The raw values behind `breakdown_table`'s rows and value columns, in its order
    (the total row and column excluded): what a click on a cell drills down to."""
    if df.empty:
        return [], []
    if b.by2 is None:
        return _order(df[~df["value_total"]], "value", b.by, b.measure), []
    return (_order(df[~df["value_total"] & df["value2_total"]], "value", b.by, b.measure),
            _order(df[df["value_total"] & ~df["value2_total"]], "value2", b.by2,
                   b.measure))


class _Total:
    """Marks the total over a dimension (distinct from a missing value)."""


_TOTAL = _Total()


def _num(value):
    """A cell as a plain number (None when empty), so files carry numbers."""
    if _missing(value):
        return None
    f = float(value)
    return int(f) if f.is_integer() and not isinstance(value, float) else f
