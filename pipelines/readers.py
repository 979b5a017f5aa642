"""Extract step of every loader: open an input file as a DuckDB relation of text columns.

`open_file` does not copy the data: it returns the SQL of a relation (`StagedFile.relation`)
that the loader reads once, in file order, transforming as it goes. Every value stays text
(types are never sniffed). The loader numbers rows by their position in what it stored
(a table's rowid follows insertion order), so CSV and Parquet need no numbering pass; an
Excel relation, which skips blank rows, carries each row's sheet line in `_line`. CSV rows
the parser cannot split are collected afterwards (`collect_rejects`) with their line and
reason, for quarantine. Line numbers count the header as line 1; for CSV they count records,
so a quoted multi-line cell is one line.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

logger = logging.getLogger(__name__)

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SNIFF_BYTES = 1 << 20
HEADER_SEARCH_LINES = 30  # how far below the top a header is looked for (find_header_line)
_SNIFF_ROWS = 2048
# ignore_errors, as store_rejects implies, also makes the sniffer skip bad rows.
_CSV_OPTIONS = "header = true, all_varchar = true, normalize_names = false, ignore_errors = true"
_LONG_LINES = "max_line_size = 20000000"
# hashlib releases the GIL, so hashing overlaps DuckDB's own reading of the file.
_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
# C0 control characters but tab, line feed and carriage return, and DEL: never text data
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


class ReadError(RuntimeError):
    """A file cannot be read at all; the message names the file and the reason."""


@dataclass(frozen=True)
class FileDigest:
    """A file's SHA-256, whether its bytes hold control characters, and its identity
    (device, inode, size, mtime, ctime) taken before it was read."""

    sha256: str
    has_control_bytes: bool
    identity: tuple


def file_identity(path: Path) -> tuple:
    """What changes when a file is written, truncated, appended to or replaced: ctime
    too, which no one can set back (touch can reset mtime)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


@dataclass
class StagedFile:
    """One input file, ready to be read by the loader's single pass."""

    path: Path
    name: str  # identifier prefix for this file's temp objects
    columns: list[str]
    relation: str  # SQL for a FROM clause: the file's text columns (Excel: plus _line)
    params: dict
    encoding: str | None = None
    sha256_future: Future | None = None  # of a FileDigest
    rejects_table: str | None = None
    has_line_column: bool = False  # the relation carries each row's line in `_line`
    header_line: int = 1  # the header's line; lines above it are titles, not read
    cast_rejected: bool = False  # the reader rejected a row for a cell of a parsed type
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, raw, reason

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the file (hashed in a thread while DuckDB reads it)."""
        return self.sha256_future.result().sha256 if self.sha256_future else ""

    @property
    def is_csv(self) -> bool:
        """True for a CSV file (read by DuckDB from the file itself)."""
        return self.rejects_table is not None

    def may_hold_control_characters(self) -> bool:
        """False only for a CSV file whose bytes were scanned and hold none (waits for the
        hash); Excel and Parquet store text compressed, so they are always checked."""
        return not (self.is_csv and self.sha256_future
                    and not self.sha256_future.result().has_control_bytes)

    def check_unchanged(self) -> None:
        """Refuse the file if it changed since it was hashed: what was read and what was
        hashed could differ (a copy still being written, a file replaced mid-load).

        Raises:
            ReadError: the file was written, truncated, appended to or replaced.
        """
        if not self.sha256_future:
            return
        try:
            same = file_identity(self.path) == self.sha256_future.result().identity
        except OSError:
            same = False
        if not same:
            raise ReadError(f"{self.path}: the file changed while it was being loaded "
                            "(still being copied or written?); nothing was loaded; load "
                            "it again once it is complete")

    @property
    def can_parse_types(self) -> bool:
        """True for CSV, where the reader can parse columns as types (`parse_as`)."""
        return f"{self.name}_columns" in self.params

    def parse_as(self, types: dict[str, str]) -> None:
        """Let the CSV reader parse these columns itself as DuckDB types (others stay text).

        A row with a cell it cannot parse is then rejected with error type CAST
        (`cast_rejected`).
        """
        declared = self.params[f"{self.name}_columns"]
        self.params[f"{self.name}_columns"] = {c: types.get(c, "VARCHAR") for c in declared}

    def line_thresholds(self) -> list[int]:
        """For rejected lines r_0 < r_1 < ... (h = header_line): the parsed row at 0-based
        position k is on line k + h + 1 + #{j : r_j - h - 1 - j <= k}."""
        first = self.header_line + 1
        return [line - first - j for j, (line, _, _) in enumerate(self.rejected)]


def file_digest(path: Path, identity: tuple) -> FileDigest:
    """SHA-256 of a file's bytes, read in 1 MiB blocks, and whether any is a control byte
    (`identity`: the file's, taken before; see `file_identity`)."""
    h = hashlib.sha256()
    controls = False
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
            # translate runs in C at ~1 GB/s; it lets clean files skip the SQL checks
            controls = controls or len(block.translate(None, CONTROL_BYTES)) != len(block)
    return FileDigest(h.hexdigest(), controls, identity)


def text_encoding(path: Path, name: str) -> str:
    """`name` normalised, when it is a text encoding Python knows.

    Raises:
        ReadError: an unknown name, or a codec that is not a text encoding (base64, rot13).
    """
    name = name.strip().lower().replace("_", "-")
    try:
        "a".encode(name)  # LookupError for unknown names and for bytes-to-bytes codecs
    except LookupError:
        raise ReadError(f"{path}: {name!r} is not a text encoding (use e.g. utf-8, "
                        "gb18030, utf-16)") from None
    return name


def detect_encoding(path: Path) -> str:
    """'utf-8' when the file's first MiB is valid UTF-8 (with or without BOM), else 'gb18030'.

    GB18030 is a superset of GBK and GB2312, which is what Chinese office software writes.
    A UTF-8 file with bad bytes further on is read as UTF-8; the rows DuckDB cannot decode are
    quarantined with a reason that suggests --encoding.
    """
    with open(path, "rb") as f:
        sample = f.read(SNIFF_BYTES)
    if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"  # Excel's "Unicode text"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _refuse_binary(path: Path, encoding: str) -> None:
    """A NUL byte in the header line (or in a tenth of the first MiB) is not text: the
    header would be garbage, and so would every error message that quotes it."""
    if encoding.startswith("utf-16"):
        return
    with open(path, "rb") as f:
        sample = f.read(SNIFF_BYTES)
    if b"\0" in sample.split(b"\n", 1)[0] or sample.count(b"\0") * 10 > len(sample):
        raise ReadError(f"{path}: not a text file ({sample.count(0):,} NUL bytes in its "
                        f"first {len(sample):,} bytes); a CSV export is plain text")


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


def _open_csv(con, path: Path, name: str, encoding: str | None, workdir: Path,
              header_row: int) -> StagedFile:
    if path.stat().st_size == 0:
        raise ReadError(f"{path}: the file is empty")
    encoding = text_encoding(path, encoding or detect_encoding(path))
    _refuse_binary(path, encoding)
    source = path
    if encoding not in ("utf-8", "utf8", "utf-8-sig"):
        source = _transcode_to_utf8(path, encoding, workdir)
    params = {f"{name}_path": str(source)}
    delimiter, quote_char, skip, columns = _sniff_csv(path, source, header_row - 1)
    # The sniffer's delimiter and header, read once without sniffing again, with RFC 4180
    # quotes (as Excel and WPS write them) where the sniffer's sample held none: a file
    # whose first quoted cell comes after the sample would otherwise have that row split.
    params[f"{name}_delim"] = delimiter
    params[f"{name}_quote"] = quote_char if len(quote_char) == 1 else '"'
    params[f"{name}_skip"] = skip
    params[f"{name}_columns"] = {c: "VARCHAR" for c in columns}
    relation = (
        f"read_csv(${name}_path, {_CSV_OPTIONS}, {_LONG_LINES}, auto_detect = false, "
        f"skip = ${name}_skip, delim = ${name}_delim, "
        f"quote = ${name}_quote, escape = ${name}_quote, columns = ${name}_columns, "
        f"store_rejects = true, rejects_table = '{name}_rejects', "
        f"rejects_scan = '{name}_scans')"
    )
    return StagedFile(path, name, columns, relation, params, encoding,
                      rejects_table=f"{name}_rejects", header_line=skip + 1)


def _sniff_csv(path: Path, source: Path, skip: int) -> tuple[str, str, int, list[str]]:
    """(delimiter, quote, lines before the header, column names) that DuckDB's sniffer
    finds in `source`, the UTF-8 text of `path`, after `skip` title lines.

    Runs on its own connection: a failed statement would abort the load's transaction.
    """
    con = duckdb.connect()
    try:
        try:
            # the default line limit: a 20 MB one makes the sniffer read 40 MB, 2-3x slower;
            # a sample of 2,048 rows (not 20,480) settles delimiter, titles and header,
            # since types are not sniffed, in half the time
            delimiter, quote_char, skip, columns = con.execute(
                f"select Delimiter, Quote, SkipRows, Columns "
                f"from sniff_csv($path, {_CSV_OPTIONS}, skip = $skip, "
                f"sample_size = {_SNIFF_ROWS})",
                {"path": str(source), "skip": skip}).fetchall()[0]
            return delimiter, quote_char, skip, [c["name"] for c in columns]
        except duckdb.Error:
            # sniff_csv refuses what read_csv still reads (a header and no rows, a lone
            # BOM, a first line over 2 MB): take read_csv's own reading of the header
            return ",", '"', skip, [r[0] for r in con.execute(
                f"select column_name from (describe select * from read_csv($path, "
                f"{_CSV_OPTIONS}, {_LONG_LINES}, skip = $skip))",
                {"path": str(source), "skip": skip}).fetchall()]
    except duckdb.Error as e:
        raise ReadError(f"{path}: cannot read as CSV ({_first_line(e)})") from None
    finally:
        con.close()


def collect_rejects(con: duckdb.DuckDBPyConnection, staged: StagedFile) -> None:
    """After the file was read: fill `staged.rejected` from DuckDB's rejects table."""
    if not staged.rejects_table:
        return
    rows = con.execute(
        f"""
        select line, any_value(csv_line), string_agg(distinct error_type, ', ')
        from "{staged.rejects_table}" group by line order by line
        """
    ).fetchall()
    con.execute(f'drop table if exists "{staged.rejects_table}"; '
                f'drop table if exists "{staged.name}_scans"')
    staged.cast_rejected = any("CAST" in kind for _, _, kind in rows)
    staged.rejected = [
        (line, (raw or "").strip("\r\n"), f"malformed CSV row ({kind.lower()})"
         + ("; is the file really UTF-8? pass --encoding" if "UNICODE" in kind else ""))
        for line, raw, kind in rows
    ]


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


def _sheet_rows(path: Path, sheet: str | None, nrows: int | None = None) -> list[list]:
    """The rows of `sheet` (the first when None), or its first `nrows`, as Python values."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        data = book.get_sheet_by_name(sheet) if sheet else book.get_sheet_by_index(0)
        if nrows is None:
            return data.to_python(skip_empty_area=False)
        return data.to_python(skip_empty_area=False, nrows=nrows)
    except Exception as e:  # calamine raises its own error types for broken workbooks
        raise ReadError(f"{path}: cannot read as Excel ({e})") from None


def _open_excel(con, path: Path, name: str, sheet: str | None, header_row: int) -> StagedFile:
    rows = _sheet_rows(path, sheet)
    start = next((i for i, r in enumerate(rows)
                  if i >= header_row - 1 and any(v not in (None, "") for v in r)), None)
    if start is None:
        raise ReadError(f"{path}: the sheet is empty")
    header = [(_excel_cell(v) or f"column{i + 1}").strip() for i, v in enumerate(rows[start])]
    body = [(start + 2 + n, r) for n, r in enumerate(rows[start + 1:])
            if any(v not in (None, "") for v in r)]  # skip formatted-but-empty rows
    cols = {h: pa.array([_excel_cell(r[i]) if i < len(r) else None for _, r in body],
                        pa.string()) for i, h in enumerate(header)}
    cols["_line"] = pa.array([line for line, _ in body], pa.int64())
    con.register(f"{name}_arrow", pa.table(cols))
    return StagedFile(path, name, header, f'"{name}_arrow"', {}, has_line_column=True,
                      header_line=start + 1)


def _open_parquet(con, path: Path, name: str) -> StagedFile:
    params = {f"{name}_path": str(path)}
    try:
        names = [r[0] for r in con.execute(
            f"select column_name from (describe select * from read_parquet(${name}_path))",
            params).fetchall()]
    except duckdb.Error as e:
        raise ReadError(f"{path}: cannot read as Parquet ({_first_line(e)})") from None
    select = ", ".join(f"cast({quote(n)} as varchar) as {quote(n)}" for n in names)
    relation = f"(select {select} from read_parquet(${name}_path))"
    return StagedFile(path, name, names, relation, params)


def open_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    workdir: Path,
    encoding: str | None = None,
    sheet: str | None = None,
    sha256_future: Future | None = None,
    header_row: int = 1,
) -> StagedFile:
    """Prepare `path` (CSV, Excel or Parquet, by suffix) to be read as text columns.

    Args:
        con: the load's connection.
        path: the input file.
        name: identifier prefix for temp objects (a plain name chosen by the loader).
        workdir: where a non-UTF-8 CSV is transcoded; must live until the load ends.
        encoding: CSV encoding; detected when None.
        sheet: Excel sheet name; the first sheet when None.
        sha256_future: the file's hash if already started (`hash_in_background`).
        header_row: line (CSV) or row (Excel) of the header; rows above it are titles.

    Raises:
        ReadError: the file is missing, empty or not readable in its format.
    """
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        staged = _open_excel(con, path, name, sheet, header_row)
    elif suffix in PARQUET_SUFFIXES:
        staged = _open_parquet(con, path, name)
    else:
        staged = _open_csv(con, path, name, encoding, workdir, header_row)
    if not staged.columns:
        raise ReadError(f"{path}: no columns found")
    staged.sha256_future = sha256_future or hash_in_background(path)
    return staged


def find_header_line(path: Path, names: set[str], encoding: str | None = None,
                     sheet: str | None = None) -> int | None:
    """The first of the first HEADER_SEARCH_LINES lines (CSV) or sheet rows (Excel) whose
    cells include every one of `names`, or None.

    Office exports often put a report name or an export date above the header.

    Raises:
        ReadError: the workbook cannot be read.
    """
    path = Path(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return None  # Parquet has no title lines
    if path.suffix.lower() in EXCEL_SUFFIXES:
        lines = [{(_excel_cell(v) or "").strip() for v in row}
                 for row in _sheet_rows(path, sheet, HEADER_SEARCH_LINES)]
    else:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
        text = head.decode(text_encoding(path, encoding or detect_encoding(path)),
                           errors="replace")
        # any usual delimiter; Excel and WPS quote header cells that hold one
        lines = [{cell.strip().strip('"') for d in ",\t;|" for cell in line.split(d)}
                 for line in text.lstrip("\ufeff").splitlines()[:HEADER_SEARCH_LINES]]
    return next((n for n, cells in enumerate(lines, start=1) if names <= cells), None)


def hash_in_background(path: Path) -> Future:
    """Start hashing `path` in a thread (a Future of its FileDigest); start early, it
    overlaps other work. The file's identity is taken now, before anything reads it."""
    return _HASHER.submit(file_digest, Path(path), file_identity(path))


def quote(identifier: str) -> str:
    """Quote a column name from a file or mapping for use as a DuckDB identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
