"""View layer: the explorer's downloads (CSV and XLSX), served by a Flask route.

    GET /download/explore/<name>.csv?<the explorer's own query string>[&labels=code]
    GET /download/explore/<name>.xlsx?...   (every file but the ticket list)

`name` is one of DOWNLOADS (an allow-list); the query string is parsed by the same
validator as the page, so a download holds exactly the rows of the view it came from.
Rows come from the query layer as Arrow record batches and go out as they are read
(a generator), so a ten-million-row download never sits in memory.

CSV: UTF-8 with BOM (Excel and WPS open Chinese correctly), header row, timestamps as
`YYYY-MM-DD HH:MM:SS`. A text cell starting with = + - @ (or tab / carriage return) is
prefixed with ' so that a spreadsheet never runs it as a formula; numbers are written as
numbers. XLSX (openpyxl, write-only) holds the same cells, escaped the same way: a cell
that starts with = would otherwise be stored as a formula.

Headers and labels are Chinese by default, as on the page (handler `property` reads 物业);
`labels=code` gives the column names and raw values instead. The file name says the
dates and the filters.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
from typing import Callable, Iterable, Iterator
from urllib.parse import quote

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from flask import Flask, Response, abort, request
from openpyxl import Workbook

from dashboards import _data
from dashboards._explore_breakdown import BY_LABELS, breakdown_table, value_zh
from dashboards._explore_figures import HANDLERS, RATINGS, STATUSES, chinese
from dashboards._explore_state import LIST_KEYS, ExploreState, parse_query
from dashboards._explore_time import judged_at
from pipelines.queries import QueryError
from pipelines.queries import explore as q
from pipelines.settings import local_now
from pipelines.warehouse import WarehouseError

logger = logging.getLogger(__name__)

BOM = "\ufeff"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value) -> object:
    """A cell made safe for spreadsheets: text starting with a formula sign gets a '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if value is None:
        return ""
    return value


def csv_chunks(batches: Iterable[pa.RecordBatch], columns: list[str]) -> Iterator[bytes]:
    """BOM + header, then one encoded chunk per record batch."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write(BOM)
    writer.writerow([escape_cell(c) for c in columns])
    yield buf.getvalue().encode("utf-8")
    for batch in batches:
        buf.seek(0)
        buf.truncate()
        cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        writer.writerows([escape_cell(v) for v in row] for row in zip(*cols))
        yield buf.getvalue().encode("utf-8")


def _frame_batches(df) -> tuple[list[pa.RecordBatch], list[str]]:
    df = df.copy()
    for col in df.columns:
        # dates (.df() turns DATE into datetime64) go out as dates
        if col.endswith(("_from", "_to", "_start")) and hasattr(df[col], "dt"):
            df[col] = df[col].dt.date
    table = pa.Table.from_pandas(df, preserve_index=False)
    return table.to_batches(), table.column_names


def xlsx_bytes(df, sheet: str) -> bytes:
    """One sheet: header row, then the rows, cells escaped as in the CSV."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append([escape_cell(str(c)) for c in df.columns])
    for row in df.itertuples(index=False):
        ws.append([_xlsx_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_cell(value) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars
    return escape_cell(value)


# Column headers as the page shows them (labels=code keeps these names).
COLUMN_ZH = {
    "value": "取值", "period": "时段", "period_start": "时段起", "bucket_from": "起",
    "bucket_to": "止", "is_partial": "部分时段", "period_from": "起", "period_to": "止",
    "period_end": "截止", "as_of": "统计时点", "label_zh": "时段说明", "label_en": "period",
    "level": "等级", "reported_count": "上报（件）", "closed_count": "已办结（件）",
    "on_time_count": "按时办结（件）", "overdue_count": "超期未办结（件）",
    "rated_count": "已评价（件）", "satisfied_count": "满意（件）",
    "closure_pct": "办结率（%）", "on_time_pct": "按时办结率（%）",
    "satisfaction_pct": "满意率（%）", "median_close_hours": "办结用时中位数（小时）",
    "p90_close_hours": "办结用时 P90（小时）", "closed_n": "已办结（件）",
}
# download -> the dimension its `value` column holds
VALUE_DIMENSION = {"level": "level", "category": "category", "community": "community",
                   "grid": "grid", "source": "source", "handler": "handler",
                   "sat_grid": "grid", "sat_handler": "handler"}


def labelled(df, name: str):
    """`df` with Chinese headers and value labels (the page's), for download `name`."""
    df = df.copy()
    dimension = VALUE_DIMENSION.get(name)
    if dimension and "value" in df:
        df["value"] = [value_zh(dimension, v) for v in df["value"]]
        df = df.rename(columns={"value": BY_LABELS[dimension][0]})
    if "level" in df:
        df["level"] = [value_zh("level", v) for v in df["level"]]
    return df.rename(columns=COLUMN_ZH)


# The ticket list's headers and coded values, as the page names them.
TICKET_COLUMNS_ZH = {
    "ticket_id": "编号", "reported_at": "上报时间", "level": "等级", "category": "类别",
    "community": "社区", "grid": "网格", "compound": "小区", "source": "来源",
    "handler": "处置主体", "status": "状态", "deadline_at": "办理期限",
    "closed_at": "办结时间", "is_on_time": "按时办结", "satisfaction": "评价",
    "description": "描述",
}
TICKET_VALUES_ZH = {
    "level": {n: value_zh("level", n) for n in (1, 2, 3, 4)},
    "handler": chinese(HANDLERS),
    "status": chinese(STATUSES),
    "is_on_time": {True: "是", False: "否"},
    "satisfaction": chinese(RATINGS),
}


def labelled_ticket_batches(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The ticket list's batches with Chinese values (a value without a label kept as
    it is) and Chinese column names."""
    for batch in batches:
        arrays = []
        for name, column in zip(batch.schema.names, batch.columns):
            names = TICKET_VALUES_ZH.get(name)
            if names is not None:
                found = pc.index_in(column, value_set=pa.array(list(names), column.type))
                labels = pa.array(list(names.values()), pa.string())
                column = pc.coalesce(pc.take(labels, found), pc.cast(column, pa.string()))
            arrays.append(column)
        yield pa.RecordBatch.from_arrays(
            arrays, names=[TICKET_COLUMNS_ZH.get(n, n) for n in batch.schema.names])


def _grain_trend(con, state, now):
    return q.ticket_trend(con, state.filters(), grain=state.grain, now=now)


def _breakdown(dimension: str) -> Callable:
    def fetch(con, state, now):
        return q.ticket_breakdown(con, state.filters(), dimension=dimension, now=now)

    return fetch


# name -> frame function (small, aggregated); "tickets" is streamed separately.
DOWNLOADS: dict[str, Callable] = {
    "summary": lambda con, state, now: q.ticket_summary(con, state.filters(), now=now),
    "trend": _grain_trend,
    "close_time": lambda con, state, now: q.close_time_by_level(con, state.filters(),
                                                                now=now),
    "level": _breakdown("level"),
    "category": _breakdown("category"),
    "community": _breakdown("community"),
    "grid": _breakdown("grid"),
    "source": _breakdown("source"),
    "handler": _breakdown("handler"),
    "sat_grid": _breakdown("grid"),
    "sat_handler": _breakdown("handler"),
    # built as labelled or coded by breakdown_table itself (see download())
    "breakdown": lambda con, state, now: q.ticket_measure_breakdown(
        con, state.filters(), state.breakdown(), now=now),
}
TICKET_DOWNLOADS = frozenset(DOWNLOADS)


def _state_from_request() -> ExploreState:
    query = {k: request.args.getlist(k) for k in request.args.keys()}
    state, _notices = parse_query(query, local_now(_data.settings()).date())
    return state


def file_stem(name: str, state: ExploreState) -> str:
    """explore_<name>_<from>-<to>[_<what>][_<key>-<value>...]: the file says its view."""
    parts = [f"explore_{name}", f"{state.date_from:%Y%m%d}-{state.date_to:%Y%m%d}"]
    if name == "breakdown":
        parts.append("_".join(filter(None, (state.bmeasure, "by", state.by, state.by2)))
                     + ("" if "period" not in (state.by, state.by2) else f"_{state.grain}"))
    for key in LIST_KEYS:
        values = state.get(key)
        if values:
            parts.append(f"{key}-" + "+".join(str(v) for v in values))
    if state.asof is not None:
        parts.append(f"asof-{state.asof:%Y%m%dT%H%M}")
    stem = "_".join(parts)
    # no path or header syntax in a name that carries warehouse values
    return "".join("-" if c in '\\/:*?"<>|;,\r\n\t' else c for c in stem)[:180]


def _frame(name: str, con, state: ExploreState, now, codes: bool):
    df = DOWNLOADS[name](con, state, now)
    if name == "breakdown":
        return breakdown_table(df, state.breakdown(), codes=codes)
    # the other pages' files (registered into DOWNLOADS) keep their own headers
    return df if codes or name not in TICKET_DOWNLOADS else labelled(df, name)


def download(name: str, kind: str = "csv") -> Response:
    """`name` under the request's filters: a streamed UTF-8 (BOM) CSV, or an XLSX."""
    if (name != "tickets" or kind != "csv") and name not in DOWNLOADS:
        abort(404)
    state = _state_from_request()
    codes = request.args.get("labels") == "code"
    try:
        con = _data.reader().cursor()
    except WarehouseError as e:
        return Response(f"warehouse unavailable: {e}\n", status=503,
                        mimetype="text/plain")
    filename = f"{file_stem(name, state)}.{kind}"
    headers = {
        "Content-Disposition": f"attachment; filename={_ascii(filename)}; "
                               f"filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    try:
        # the instant the page judged the view at, so the file holds the figures on screen
        now = judged_at(con, state, local_now(_data.settings()))
        if name == "tickets":
            reader = q.ticket_batches(con, state.filters(), now=now, sort=state.sort)
            columns = reader.schema.names
            batches: Iterable[pa.RecordBatch] = reader
            if not codes:
                columns = [TICKET_COLUMNS_ZH.get(c, c) for c in columns]
                batches = labelled_ticket_batches(reader)
        else:
            frame = _frame(name, con, state, now, codes)
            if kind == "xlsx":
                con.close()
                return Response(xlsx_bytes(frame, name), headers=headers, mimetype=(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
            batches, columns = _frame_batches(frame)
    except (QueryError, duckdb.Error) as e:
        con.close()
        logger.warning("download %s failed: %s", name, e)
        return Response("data unavailable\n", status=503, mimetype="text/plain")

    def generate() -> Iterator[bytes]:
        try:
            yield from csv_chunks(batches, columns)
        finally:
            con.close()

    return Response(generate(), mimetype="text/csv", headers=headers)


def _ascii(filename: str) -> str:
    """The plain filename= fallback: non-ASCII characters become '_'."""
    return "".join(c if 32 <= ord(c) < 127 else "_" for c in filename)


def register(server: Flask) -> None:
    """Add the download route to the app's Flask server (called by app.create_app)."""
    server.add_url_rule("/download/explore/<name>.csv", "explore_download", download)
    server.add_url_rule("/download/explore/<name>.xlsx", "explore_download_xlsx",
                        lambda name: download(name, "xlsx"))
