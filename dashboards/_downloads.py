"""View layer: the explorer's CSV downloads, streamed by a Flask route.

    GET /download/explore/<name>.csv?<the explorer's own query string>

`name` is one of DOWNLOADS (an allow-list); the query string is parsed by the same
validator as the page, so a download holds exactly the rows of the view it came from.
Rows come from the query layer as Arrow record batches and go out as they are read
(a generator), so a ten-million-row download never sits in memory.

CSV: UTF-8 with BOM (Excel and WPS open Chinese correctly), header row, timestamps as
`YYYY-MM-DD HH:MM:SS`. A text cell starting with = + - @ (or tab / carriage return) is
prefixed with ' so that a spreadsheet never runs it as a formula; numbers are written as
numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from typing import Callable, Iterable, Iterator
from urllib.parse import quote

import duckdb
import pyarrow as pa
from flask import Flask, Response, abort, request

from dashboards import _data
from dashboards._explore_state import ExploreState, parse_query
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
}


def _state_from_request() -> ExploreState:
    query = {k: request.args.getlist(k) for k in request.args.keys()}
    state, _notices = parse_query(query, local_now(_data.settings()).date())
    return state


def download(name: str) -> Response:
    """Stream `name` under the request's filters as a UTF-8 (BOM) CSV file."""
    if name != "tickets" and name not in DOWNLOADS:
        abort(404)
    state = _state_from_request()
    now = state.asof or local_now(_data.settings())
    try:
        con = _data.reader().cursor()
    except WarehouseError as e:
        return Response(f"warehouse unavailable: {e}\n", status=503,
                        mimetype="text/plain")
    try:
        if name == "tickets":
            reader = q.ticket_batches(con, state.filters(), now=now, sort=state.sort)
            columns = reader.schema.names
            batches: Iterable[pa.RecordBatch] = reader
        else:
            batches, columns = _frame_batches(DOWNLOADS[name](con, state, now))
    except (QueryError, duckdb.Error) as e:
        con.close()
        logger.warning("download %s failed: %s", name, e)
        return Response("data unavailable\n", status=503, mimetype="text/plain")

    def generate() -> Iterator[bytes]:
        try:
            yield from csv_chunks(batches, columns)
        finally:
            con.close()

    filename = f"explore_{name}_{state.date_from:%Y%m%d}-{state.date_to:%Y%m%d}.csv"
    return Response(
        generate(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={filename}; "
                                   f"filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def register(server: Flask) -> None:
    """Add the download route to the app's Flask server (called by app.create_app)."""
    server.add_url_rule("/download/explore/<name>.csv", "explore_download", download)
