"""Extract step of every loader: open an input file as a DuckDB relation of text columns.

`open_file` does not copy the data: it returns the SQL of a relation (`StagedFile.relation`)
that the loader reads once, in file order, transforming as it goes. Every value stays text
(types are never sniffed). The loader numbers rows by their position in what it stored
(a table's rowid follows insertion order), so CSV and Parquet need no numbering pass; an
Excel relation, which skips blank rows, carries each row's sheet line in `_line`. CSV rows
the parser cannot split are collected afterwards (`collect_rejects`) with their line and
reason, for quarantine. A CSV line number is the file's own line where the row starts (1 =
the first line, as `grep -n` and `sed -n` count: a line ends at LF; blank lines and line
breaks in quoted cells count), found by `StagedFile.record_lines` only for files with a
quarantined row; a Parquet row's number is its position, the first row 1.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import itertools
import logging
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import zipfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

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
# Workbook limits (check_workbook, convert_workbook). Apache POI refuses zip entries that
# expand over 100 times; an xlsx sheet's XML compresses 5-20 times.
MAX_INFLATE_RATIO = 100
MAX_WORKBOOK_BYTES = 1 << 30
MAX_SHEET_CELLS = 10_000_000
DIMENSION_SEARCH_BYTES = 64 << 10  # <dimension> comes before the sheet's rows
_DIMENSION = re.compile(r'<(?:\w+:)?dimension\s+ref="(([A-Z]{1,3})([0-9]{1,7})'
                        r'(?::([A-Z]{1,3})([0-9]{1,7}))?)"')
CHILD_MEMORY_BYTES = 4 << 30  # address space of the process that reads a workbook
CHILD_CPU_SECONDS = 600
_READ_ERROR_EXIT = 3
# A longer cell is quarantined by the loader: no description, name or id needs more.
MAX_CELL_CHARS = 10_000
# C0 control characters but tab, line feed and carriage return, and DEL: never text data
CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
# Every byte to 1 but those to 0: a block holds one when its translation holds a 0
_CONTROL_ZEROS = bytes(0 if b in CONTROL_BYTES else 1 for b in range(256))


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

    def record_lines(self, positions: list[int]) -> list[tuple[int, int | None]]:
        """The file's line where each parsed row at 0-based `positions` (ascending; a row's
        place among the rows the reader returned) starts, for a CSV file, and the cells
        on that line when the row is that one line (else None).

        Reads the file DuckDB read (a transcoded copy has the same lines) up to the last
        row asked for, counting records as DuckDB splits them: blank lines and the lines
        the reader rejected (`rejected`, collected first) are not rows, a line break in a
        quoted cell does not start one, and a quote opens a quoted cell only at a cell's
        start (`5"` is text).
        """
        wanted = iter(positions)
        target = next(wanted, None)
        found: list[tuple[int, int | None]] = []
        if target is None:
            return found
        quote = self.params[f"{self.name}_quote"].encode()
        delimiter = self.params[f"{self.name}_delim"].encode()
        rejected = {line for line, _, _ in self.rejected}
        row, in_quote = -1, False
        with open(self.params[f"{self.name}_path"], "rb") as f:
            lines = enumerate(f, start=1)
            for _, line in itertools.islice(lines, self.header_line):  # titles, header
                if in_quote or quote in line:
                    in_quote = _ends_in_quote(line, in_quote, quote, delimiter)
            for n, line in lines:  # 0.6 s of CPU per million lines
                if in_quote:  # a line break inside a quoted cell: no new row
                    in_quote = _ends_in_quote(line, True, quote, delimiter)
                    continue
                if quote in line:
                    in_quote = _ends_in_quote(line, False, quote, delimiter)
                if (len(line) <= 2 and not line.strip(b"\r\n")) or n in rejected:
                    continue  # a blank line, or a row the reader rejected
                row += 1
                while row == target:
                    found.append((n, None if in_quote else _cells(line, quote, delimiter)))
                    target = next(wanted, None)
                if target is None:
                    break
        if target is not None:
            raise RuntimeError(f"{self.path}: row {target} not found in the file; "
                               "line numbers would be wrong")
        return found


def _cells(line: bytes, quote: bytes, delimiter: bytes) -> int:
    """The cells of a CSV record that is this one line, split as `_ends_in_quote` reads
    quotes. The reader takes one cell more than the header when it is the last and
    empty, which is how a cell cut in two by its own delimiter can pass unseen."""
    line = line.rstrip(b"\r\n")
    cells, pos = 1, 0
    while True:
        if line.startswith(quote, pos):  # a quoted cell: on past its closing quote
            pos += len(quote)
            while (j := line.find(quote, pos)) >= 0 and \
                    line.startswith(quote, j + len(quote)):
                pos = j + 2 * len(quote)  # an escaped quote
            if j < 0:
                return cells
            pos = j + len(quote)
        j = line.find(delimiter, pos)
        if j < 0:
            return cells
        cells, pos = cells + 1, j + len(delimiter)


def _ends_in_quote(line: bytes, in_quote: bool, quote: bytes, delimiter: bytes) -> bool:
    """Whether a CSV line ends inside a quoted cell, given whether it starts in one
    (RFC 4180: a doubled quote inside a quoted cell is a quote)."""
    pos = 0
    while True:
        j = line.find(quote, pos)
        if j < 0:
            return in_quote
        if in_quote:
            if line[j + 1:j + 2] == quote:
                pos = j + 2  # an escaped quote
                continue
            in_quote = False
        elif j == 0 or line[max(j - len(delimiter), 0):j] == delimiter:
            in_quote = True  # a quote opens a cell only at its start
        pos = j + 1


def file_digest(path: Path, identity: tuple) -> FileDigest:
    """SHA-256 of a file's bytes, read in 1 MiB blocks, and whether any is a control byte
    (`identity`: the file's, taken before; see `file_identity`)."""
    h = hashlib.sha256()
    controls = False
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
            # in C at ~2 GB/s (deleting them instead: 1.7 GB/s); it lets clean files skip
            # the SQL checks
            controls = controls or 0 in block.translate(_CONTROL_ZEROS)
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


def _plain_path(path: Path, workdir: Path, name: str) -> Path:
    """A link to `path` under a name DuckDB takes literally: it reads `tickets[1].csv` (or
    `*.csv`) as a glob, even inside a list, and would load other files."""
    link = workdir / f"{name}{path.suffix.lower()}"
    link.unlink(missing_ok=True)
    link.symlink_to(path.resolve())
    return link


def _transcode_to_utf8(path: Path, encoding: str, workdir: Path, name: str) -> Path:
    out = workdir / f"{name}.utf8.csv"  # a plain name (see _plain_path)
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


def _one_line_ending(source: Path, workdir: Path, name: str) -> Path | None:
    """A copy of `source` with every CRLF made LF, when it mixes CRLF and bare LF line
    endings (rows appended by another program); None when it does not. DuckDB's reader
    takes one line ending per file and refuses the whole file otherwise."""
    crlf = bare_lf = False
    last = b""
    with open(source, "rb") as f:
        while block := f.read(1 << 20):
            text = last + block
            crlf = crlf or b"\r\n" in text
            bare_lf = bare_lf or text.count(b"\n") > text.count(b"\r\n")
            last = b"\r" if block.endswith(b"\r") else b""  # a CRLF split by the read
            if crlf and bare_lf:
                break
    if not (crlf and bare_lf):
        return None
    out = workdir / f"{name}.lf.csv"  # a plain name (see _plain_path)
    with open(source, "rb") as src, open(out, "wb") as dst:
        carry = b""
        while block := src.read(1 << 20):
            block = carry + block
            carry = b"\r" if block.endswith(b"\r") else b""
            dst.write((block[:-1] if carry else block).replace(b"\r\n", b"\n"))
        dst.write(carry)
    return out


def _open_csv(con, path: Path, name: str, encoding: str | None, workdir: Path,
              header_row: int) -> StagedFile:
    if path.stat().st_size == 0:
        raise ReadError(f"{path}: the file is empty")
    encoding = text_encoding(path, encoding or detect_encoding(path))
    _refuse_binary(path, encoding)
    if encoding in ("utf-8", "utf8", "utf-8-sig"):
        source = _plain_path(path, workdir, name)
    else:
        source = _transcode_to_utf8(path, encoding, workdir, name)
    try:
        delimiter, skip, columns = _sniff_csv(path, source, header_row - 1)
    except ReadError:
        fixed = _one_line_ending(source, workdir, name)
        if fixed is None:
            raise
        source = fixed
        delimiter, skip, columns = _sniff_csv(path, source, header_row - 1)
    params = {f"{name}_path": str(source)}
    # The sniffer's delimiter and header, read once without sniffing again, with RFC 4180
    # quotes (as Excel and WPS write them; docs/data-contract.md) whatever the sniffer's
    # sample held: with none, a file whose first quoted cell comes after the sample would
    # have that row split; and where it saw apostrophes it answers "'", which made two
    # rows of a description starting with one a single row (a ticket lost in silence).
    params[f"{name}_delim"] = delimiter
    params[f"{name}_quote"] = '"'
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


def _sniff_csv(path: Path, source: Path, skip: int) -> tuple[str, int, list[str]]:
    """(delimiter, lines before the header, column names) that DuckDB's sniffer
    finds in `source`, the UTF-8 text of `path`, after `skip` title lines.

    Runs on its own connection: a failed statement would abort the load's transaction.
    """
    con = duckdb.connect()
    try:
        try:
            # the default line limit: a 20 MB one makes the sniffer read 40 MB, 2-3x slower;
            # a sample of 2,048 rows (not 20,480) settles delimiter, titles and header,
            # since types are not sniffed, in half the time
            delimiter, skip, columns = con.execute(
                f"select Delimiter, SkipRows, Columns "
                f"from sniff_csv($path, {_CSV_OPTIONS}, skip = $skip, "
                f"sample_size = {_SNIFF_ROWS})",
                {"path": str(source), "skip": skip}).fetchall()[0]
            return delimiter, skip, [c["name"] for c in columns]
        except duckdb.Error:
            # sniff_csv refuses what read_csv still reads (a header and no rows, a lone
            # BOM, a first line over 2 MB): take read_csv's own reading of the header
            return ",", skip, [r[0] for r in con.execute(
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
        select min(line_byte_position), any_value(csv_line),
            string_agg(distinct error_type, ', ')
        from "{staged.rejects_table}" group by line order by 1
        """
    ).fetchall()
    con.execute(f'drop table if exists "{staged.rejects_table}"; '
                f'drop table if exists "{staged.name}_scans"')
    staged.cast_rejected = any("CAST" in kind for _, _, kind in rows)
    lines = _lines_at(Path(staged.params[f"{staged.name}_path"]),
                      [(offset, raw or "") for offset, raw, _ in rows])
    staged.rejected = [
        (line, (raw or "").strip("\r\n"), f"malformed CSV row ({kind.lower()})"
         + ("; is the file really UTF-8? pass --encoding" if "UNICODE" in kind else "")
         + ("; a cell holding the delimiter goes in double quotes" if "TOO MANY" in kind
            else ""))
        for line, (_, raw, kind) in zip(lines, rows)
    ]


def _lines_at(path: Path, rejects: list[tuple[int, str]]) -> list[int]:
    """The line (1 = the first) where each rejected row (byte offset as DuckDB gives it,
    ascending; its text) of `path` starts: one read up to the last offset, counting LFs
    in C. DuckDB's offset is the row's first byte, the one after it, or a blank line
    before it: the row is the first line from there whose text is the row's first line
    (else the first one not blank)."""
    lines, seen, read, line_start = [], 0, 0, 0
    with open(path, "rb") as f:
        for offset, raw in rejects:
            while read < offset:
                block = f.read(min(offset - read, 1 << 20))
                if not block:
                    break
                if (found := block.count(b"\n")):
                    seen += found
                    line_start = read + block.rindex(b"\n") + 1
                read += len(block)
            f.seek(line_start)
            lines.append(seen + 1 + _lines_until(f, raw))
            f.seek(read)
    return lines


def _lines_until(f, raw: str, limit: int = 100) -> int:
    """How many lines from `f`'s position come before the one reading `raw`'s first
    line; else before the first line not blank (within `limit` lines)."""
    want = raw.strip("\r\n").split("\n", 1)[0].rstrip("\r").encode("utf-8", "replace")
    first = None
    for n in range(limit):
        line = f.readline()
        if not line:
            break
        line = line.rstrip(b"\r\n")
        if line == want:
            return n
        if first is None and line:
            first = n
    return first or 0


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


def check_workbook(path: Path) -> None:
    """Refuse a workbook before anything decompresses it: a zip entry that expands more
    than MAX_INFLATE_RATIO times (over 1 MiB), entries over MAX_WORKBOOK_BYTES in all, or
    a sheet whose declared range (`<dimension ref=...>`) spans over MAX_SHEET_CELLS
    cells. Only each sheet's first DIMENSION_SEARCH_BYTES are decompressed. Legacy .xls
    files are not zips: the child process's limits (`convert_workbook`) guard those.

    Raises:
        ReadError: the file is not a zip, or breaks one of the limits above.
    """
    if path.suffix.lower() == ".xls":
        return
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ReadError(f"{path}: not an Excel workbook ({e})") from None
    with book:
        entries = book.infolist()
        for e in entries:
            if e.file_size > (1 << 20) and e.file_size > MAX_INFLATE_RATIO * e.compress_size:
                raise ReadError(
                    f"{path}: refused as a zip bomb: {e.filename} would expand "
                    f"{e.file_size // max(e.compress_size, 1):,} times, from "
                    f"{e.compress_size:,} to {e.file_size:,} bytes (the limit is "
                    f"{MAX_INFLATE_RATIO} times)")
        total = sum(e.file_size for e in entries)
        if total > MAX_WORKBOOK_BYTES:
            raise ReadError(f"{path}: the workbook expands to {total:,} bytes, over the "
                            f"limit of {MAX_WORKBOOK_BYTES:,}; split it or save it as CSV")
        for e in entries:
            if not re.fullmatch(r"xl/worksheets/[^/]+\.xml", e.filename):
                continue
            try:
                with book.open(e) as f:
                    head = f.read(DIMENSION_SEARCH_BYTES).decode("utf-8", "replace")
            except (zipfile.BadZipFile, OSError, RuntimeError, zlib.error) as error:
                raise ReadError(f"{path}: {e.filename} is damaged ({error})") from None
            found = _DIMENSION.search(head)
            if not found:
                continue
            _, first_col, first_row, last_col, last_row = found.groups()
            rows = int(last_row or first_row) - int(first_row) + 1
            cols = _column_number(last_col or first_col) - _column_number(first_col) + 1
            if rows * cols > MAX_SHEET_CELLS:
                raise ReadError(
                    f"{path}: {e.filename} declares the range {found.group(1)} "
                    f"({rows:,} rows x {cols:,} columns), over the limit of "
                    f"{MAX_SHEET_CELLS:,} cells; delete the empty rows and columns "
                    "(or save the sheet as CSV)")


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - ord("A") + 1
    return n


def convert_workbook(path: Path, workdir: Path, sheet: str | None) -> Path:
    """Check a workbook (`check_workbook`), then read `sheet` (the first when None) in a
    child process under a memory limit and write it as Parquet in `workdir`.

    Call it before taking the warehouse lock: a workbook can make its reader abort
    (python-calamine allocates a sheet's whole range up front), and the lock must never
    be held by a process that its input can kill. The Parquet file holds the sheet's
    non-blank rows as text columns c1, c2, ... and their sheet line in `_line`; a cell
    over MAX_CELL_CHARS is cut to MAX_CELL_CHARS + 1 characters, so that the loader
    still quarantines it without ever holding more.

    Raises:
        ReadError: the workbook breaks a limit, cannot be read, or killed its reader.
    """
    path = Path(path)
    check_workbook(path)
    fd, out = tempfile.mkstemp(suffix=".parquet", prefix="workbook-", dir=workdir)
    os.close(fd)
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.readers", str(path), out, sheet or ""],
        env=env, capture_output=True, text=True, errors="replace", check=False)
    if proc.returncode == 0:
        return Path(out)
    if proc.returncode == _READ_ERROR_EXIT:
        raise ReadError(proc.stderr.strip().splitlines()[-1])
    why = (f"killed by {signal.Signals(-proc.returncode).name}" if proc.returncode < 0
           else f"exit status {proc.returncode}")
    logger.error("the workbook reader for %s stopped (%s): %s", path, why,
                 proc.stderr.strip()[-2000:])
    raise ReadError(
        f"{path}: cannot read as Excel: the reader stopped ({why}), most likely at its "
        f"limit of {CHILD_MEMORY_BYTES >> 30} GiB of memory (a sheet whose used range is "
        "far larger than its data?); delete the empty rows and columns or save it as CSV")


def _write_sheet(path: Path, out: Path, sheet: str | None) -> None:
    """In the child: read the sheet with python-calamine and write it as Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        data = book.get_sheet_by_name(sheet) if sheet else book.get_sheet_by_index(0)
        rows = data.to_python(skip_empty_area=False)
    except Exception as e:  # noqa: BLE001 - calamine has its own error types; re-raised
        raise ReadError(f"{path}: cannot read as Excel ({e})") from None
    lines, cells = [], []
    for line, row in enumerate(rows, start=1):
        values = [_excel_cell(v) for v in row]
        if any(v is not None for v in values):  # skip formatted-but-empty rows
            lines.append(line)
            cells.append([v[:MAX_CELL_CHARS + 1] if v else v for v in values])
    width = max((len(r) for r in cells), default=0)
    table = {f"c{i + 1}": pa.array([r[i] if i < len(r) else None for r in cells],
                                   pa.string()) for i in range(width)}
    table["_line"] = pa.array(lines, pa.int64())
    pq.write_table(pa.table(table), out)


def _child_main(argv: list[str]) -> int:
    """`python -m pipelines.readers WORKBOOK OUT.parquet [SHEET]`, run by convert_workbook."""
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CHILD_CPU_SECONDS, CHILD_CPU_SECONDS))
    try:
        _write_sheet(Path(argv[0]), Path(argv[1]), argv[2] if len(argv) > 2 and argv[2]
                     else None)
    except ReadError as e:
        print(e, file=sys.stderr)
        return _READ_ERROR_EXIT
    return 0


def _open_excel(con, path: Path, name: str, workbook: Path, header_row: int) -> StagedFile:
    """The sheet converted by `convert_workbook`: the first non-blank row at or below
    `header_row` is the header; the rows below it are the relation, with `_line`."""
    params = {f"{name}_path": str(workbook)}
    first = con.execute(
        f"select * from read_parquet(${name}_path) where _line >= $header_row "
        f"order by _line limit 1", params | {"header_row": header_row})
    names = [d[0] for d in first.description]
    row = first.fetchall()
    if not row:
        raise ReadError(f"{path}: the sheet is empty")
    values = dict(zip(names, row[0]))
    header_line = values.pop("_line")
    # a repeated header name keeps its last column, as a dict of columns would
    columns = {(v or f"column{i + 1}").strip(): c for i, (c, v) in enumerate(values.items())}
    select = ", ".join(f"{quote(c)} as {quote(h)}" for h, c in columns.items())
    params[f"{name}_header"] = header_line
    relation = (f"(select {select}, _line from read_parquet(${name}_path) "
                f"where _line > ${name}_header)")
    return StagedFile(path, name, list(columns), relation, params, has_line_column=True,
                      header_line=header_line)


def _open_parquet(con, path: Path, name: str, workdir: Path) -> StagedFile:
    params = {f"{name}_path": str(_plain_path(path, workdir, name))}
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
    workbook: Path | None = None,
) -> StagedFile:
    """Prepare `path` (CSV, Excel or Parquet, by suffix) to be read as text columns.

    Args:
        con: the load's connection.
        path: the input file.
        name: identifier prefix for temp objects (a plain name chosen by the loader).
        workdir: private folder for links, transcoded CSV and converted workbooks;
            must live until the load ends.
        encoding: CSV encoding; detected when None.
        sheet: Excel sheet name; the first sheet when None.
        sha256_future: the file's hash if already started (`hash_in_background`).
        header_row: line (CSV) or row (Excel) of the header; rows above it are titles.
        workbook: an Excel file's sheet as `convert_workbook` wrote it; converted here
            when None.

    Raises:
        ReadError: the file is missing, empty or not readable in its format.
    """
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        staged = _open_excel(con, path, name,
                             workbook or convert_workbook(path, workdir, sheet), header_row)
    elif suffix in PARQUET_SUFFIXES:
        staged = _open_parquet(con, path, name, workdir)
    else:
        staged = _open_csv(con, path, name, encoding, workdir, header_row)
    if not staged.columns:
        raise ReadError(f"{path}: no columns found")
    staged.sha256_future = sha256_future or hash_in_background(path)
    return staged


def find_header_line(path: Path, names: set[str], encoding: str | None = None,
                     workbook: Path | None = None) -> int | None:
    """The first of the first HEADER_SEARCH_LINES lines (CSV) or sheet rows (Excel) whose
    cells include every one of `names`, or None.

    Office exports often put a report name or an export date above the header. An Excel
    file is searched in `workbook`, its sheet as `convert_workbook` wrote it.
    """
    path = Path(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return None  # Parquet has no title lines
    if path.suffix.lower() in EXCEL_SUFFIXES:
        if workbook is None:
            return None
        con = duckdb.connect()
        try:
            rows = con.execute("select * from read_parquet($path) where _line <= $n",
                               {"path": str(workbook), "n": HEADER_SEARCH_LINES}).fetchall()
        finally:
            con.close()
        found = [row[-1] for row in rows  # _line is the last column
                 if names <= {(v or "").strip() for v in row[:-1]}]
        return min(found, default=None)
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


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
