"""Extract step of every loader: read one input file into a DuckDB temp table of text.

Each file becomes a temp table with one VARCHAR column per source column; `StagedFile.line_sql`
gives the line each row came from (the header is line 1; for CSV it counts records, so a
quoted multi-line cell is one line). Rows the CSV parser cannot split are returned as
rejected rows with their line and reason, for quarantine. Types are never sniffed: every
value stays text until the loader validates it in SQL.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

logger = logging.getLogger(__name__)

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SNIFF_BYTES = 1 << 20


class ReadError(RuntimeError):
    """A file cannot be read at all; the message names the file and the reason."""


@dataclass
class StagedFile:
    """One file read into temp table `table`."""

    path: Path
    table: str
    columns: list[str]
    rows: int
    encoding: str | None
    sha256: str
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, raw, reason
    line_sql: str = "_line"  # SQL giving each row's line number in the file


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def detect_encoding(path: Path) -> str:
    """'utf-8' when the file's first MiB is valid UTF-8 (with or without BOM), else 'gb18030'.

    GB18030 is a superset of GBK and GB2312, which is what Chinese office software writes.
    A UTF-8 file with bad bytes further on is read as UTF-8; the rows DuckDB cannot decode are
    quarantined with a reason that suggests --encoding.
    """
    with open(path, "rb") as f:
        sample = f.read(SNIFF_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _transcode_to_utf8(path: Path, encoding: str, workdir: Path) -> Path:
    out = workdir / (path.stem + ".utf8.csv")
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        while block := src.read(1 << 20):
            try:
                dst.write(decoder.decode(block))
            except UnicodeDecodeError as e:
                raise ReadError(
                    f"{path}: byte {offset + e.start} is not valid {encoding}; "
                    "pass --encoding with the file's real encoding"
                ) from None
            offset += len(block)
        dst.write(decoder.decode(b"", final=True))
    return out


def _read_csv(con, path: Path, table: str, encoding: str | None, workdir: Path) -> StagedFile:
    if path.stat().st_size == 0:
        raise ReadError(f"{path}: the file is empty")
    encoding = (encoding or detect_encoding(path)).lower().replace("_", "-")
    source = path
    if encoding not in ("utf-8", "utf8", "utf-8-sig"):
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ReadError(f"{path}: unknown encoding {encoding!r}") from None
        source = _transcode_to_utf8(path, encoding, workdir)
    rejects, scans = f"{table}_rejects", f"{table}_scans"
    try:
        con.execute(
            f"""
            create temp table "{table}" as
            select * from read_csv(
                $path, header = true, all_varchar = true, store_rejects = true,
                rejects_table = '{rejects}', rejects_scan = '{scans}',
                normalize_names = false, max_line_size = 20000000
            )
            """,
            {"path": str(source)},
        )
    except duckdb.Error as e:
        raise ReadError(f"{path}: cannot read as CSV ({_first_line(e)})") from None
    rejected = con.execute(
        f"""
        select line, any_value(csv_line), string_agg(distinct error_type, ', ')
        from "{rejects}" group by line order by line
        """
    ).fetchall()
    con.execute(f'drop table "{rejects}"; drop table "{scans}"')
    rejected = [
        (line, raw or "", f"malformed CSV row ({kind.lower()})"
         + ("; is the file really UTF-8? pass --encoding" if "UNICODE" in kind else ""))
        for line, raw, kind in rejected
    ]
    total = con.execute(f'select count(*) from "{table}"').fetchone()[0]
    # Rows keep file order (insertion order is preserved), so a row's line follows from its
    # rowid and the rejected lines before it: line = rowid + 2 + #{j : r_j - 2 - j <= rowid}.
    thresholds = [line - 2 - j for j, (line, _, _) in enumerate(rejected)]
    line_sql = ("(rowid + 2 + len(list_filter(" + _list_literal(thresholds) + ", t -> t <= rowid)))"
                if thresholds else "(rowid + 2)")
    return StagedFile(path, table, _columns(con, table), total, encoding, "", rejected,
                      line_sql)


def _excel_cell(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # calamine returns whole numbers as floats
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _read_excel(con, path: Path, table: str, sheet: str | None) -> StagedFile:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        data = (book.get_sheet_by_name(sheet) if sheet else book.get_sheet_by_index(0))
        rows = data.to_python(skip_empty_area=False)
    except Exception as e:  # calamine raises its own error types for broken workbooks
        raise ReadError(f"{path}: cannot read as Excel ({e})") from None
    start = next((i for i, r in enumerate(rows) if any(v not in (None, "") for v in r)), None)
    if start is None:
        raise ReadError(f"{path}: the sheet is empty")
    header = [(_excel_cell(v) or f"column{i + 1}").strip() for i, v in enumerate(rows[start])]
    body = rows[start + 1:]
    cols = {name: [_excel_cell(r[i]) if i < len(r) else None for r in body]
            for i, name in enumerate(header)}
    cols["_line"] = list(range(start + 2, start + 2 + len(body)))
    arrow = pa.table({k: pa.array(v, pa.int64() if k == "_line" else pa.string())
                      for k, v in cols.items()})
    con.register(f"{table}_arrow", arrow)
    # Drop fully empty rows (Excel's formatted-but-empty tail) before counting.
    non_empty = " or ".join(f'"{c}" is not null' for c in header) or "false"
    con.execute(
        f'create temp table "{table}" as select * from "{table}_arrow" where {non_empty}'
    )
    con.unregister(f"{table}_arrow")
    n = con.execute(f'select count(*) from "{table}"').fetchone()[0]
    return StagedFile(path, table, header, n, None, "")


def _read_parquet(con, path: Path, table: str) -> StagedFile:
    try:
        described = con.execute(
            "select column_name from (describe select * from read_parquet($p))",
            {"p": str(path)},
        ).fetchall()
    except duckdb.Error as e:
        raise ReadError(f"{path}: cannot read as Parquet ({_first_line(e)})") from None
    names = [r[0] for r in described]
    select = ", ".join(f'cast({quote(n)} as varchar) as {quote(n)}' for n in names)
    con.execute(
        f'create temp table "{table}" as select {select}, file_row_number + 2 as _line '
        "from read_parquet($p, file_row_number = true)",
        {"p": str(path)},
    )
    n = con.execute(f'select count(*) from "{table}"').fetchone()[0]
    return StagedFile(path, table, names, n, None, "")


def stage_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    workdir: Path | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> StagedFile:
    """Read `path` (CSV, Excel or Parquet, by suffix) into temp table `table`.

    Args:
        con: the load's connection.
        path: the input file.
        table: name for the temp table (a plain identifier chosen by the loader).
        workdir: where a non-UTF-8 CSV is transcoded (a temp dir when None).
        encoding: CSV encoding; detected when None.
        sheet: Excel sheet name; the first sheet when None.

    Raises:
        ReadError: the file is missing, empty or not readable in its format.
    """
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    suffix = path.suffix.lower()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        if suffix in EXCEL_SUFFIXES:
            staged = _read_excel(con, path, table, sheet)
        elif suffix in PARQUET_SUFFIXES:
            staged = _read_parquet(con, path, table)
        else:
            staged = _read_csv(con, path, table, encoding, Path(tmp))
    if not staged.columns:
        raise ReadError(f"{path}: no columns found")
    staged.sha256 = file_sha256(path)
    return staged


def quote(identifier: str) -> str:
    """Quote a column name from a file or mapping for use as a DuckDB identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_name = $t order by ordinal_position", {"t": table}).fetchall()]


def _list_literal(numbers: list[int]) -> str:
    return "[" + ", ".join(str(int(n)) for n in numbers) + "]::bigint[]"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
