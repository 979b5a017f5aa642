"""A load report checked against counts the loader did not make.

`LoadReport.adds_up()` only proves that the five buckets sum to `rows_read`; a loader that
files a row in the wrong bucket, or reads fewer rows than the file holds, still adds up.
`assert_accounted` recounts each bucket from outside the loader: the file's rows with
Python's csv module (openpyxl or pyarrow for workbooks and Parquet), the rows the load
wrote and quarantined from the warehouse, and the duplicates from the file's keys; and
checks that every quarantined line of a CSV file is a line where one of its records starts.
"""

from __future__ import annotations

import csv
import io
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

import duckdb

from pipelines.loader import LoadReport
from pipelines.mapping import load_mapping
from pipelines.sources import SOURCES

csv.field_size_limit(sys.maxsize)  # the loader takes a 10 MB cell; so must its recount


def _csv_records(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line, row) of each non-blank record below the header, numbered as the loader
    numbers quarantined rows (docs/data-contract.md): the file's line where the record
    starts, lines ending at LF, blank lines and line breaks inside quoted cells counted."""
    raw = path.read_bytes()
    # a file mixing encodings still splits into the same records
    text = raw.decode("utf-8-sig", errors="replace")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            pass
    # StringIO, not splitlines(): a form feed, CR or U+2028 inside a cell is no line break
    reader = csv.reader(io.StringIO(text, newline="\n"))
    header = next(reader, [])
    records = []
    ended = reader.line_num  # lines read so far: the next record starts on the next one
    for cells in reader:
        if any(c.strip() for c in cells):
            records.append((ended + 1, dict(zip(header, cells))))
        ended = reader.line_num
    return records


def file_rows(path: Path, sheet: str | None = None) -> int:
    """Data rows of an input file below a one-line header, counted without the loader."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if path.suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        rows = (book[sheet] if sheet else book.active).iter_rows(min_row=2, values_only=True)
        return sum(1 for row in rows if any(v not in (None, "") for v in row))
    return len(_csv_records(path))


def _file_duplicates(path: Path, key: tuple[str, ...], quarantined_lines: set[int]) -> int | None:
    """Valid rows whose key occurs again in the file (each key keeps one row), or None
    when the file is not a CSV naming every key column."""
    if Path(path).suffix not in (".csv", ".txt"):
        return None
    records = _csv_records(Path(path))
    if not records or any(k not in records[0][1] for k in key):
        return None
    keys = Counter(tuple(row[k].strip().upper() for k in key)
                   for line, row in records if line not in quarantined_lines)
    return sum(n - 1 for n in keys.values())


def assert_accounted(settings, reports: Sequence[LoadReport], paths: Sequence[Path],
                     mapping_path: Path | None = None) -> None:
    """Fail unless each report of one load agrees with independent counts.

    Call it right after the load: the rows written are found by the load's id, which a
    later load of the same keys replaces. Duplicates are recounted for CSV files.
    """
    assert reports and len(reports) == len(paths)
    assert len({r.load_id for r in reports}) == 1, "reports of more than one load"
    source = SOURCES[reports[0].source]
    mapping = load_mapping(mapping_path, {c.name for c in source.columns})
    key = tuple(mapping.source_column(k) for k in source.key)
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        written = con.execute(f"select count(*) from {source.table} where load_id = $id",
                              {"id": reports[0].load_id}).fetchall()[0][0]
        for report, path in zip(reports, paths):
            summary = report.summary()
            assert report.adds_up(), summary
            assert report.rows_read == file_rows(path, mapping.sheet), summary
            lines = {line for (line,) in con.execute(
                "select line_no from quarantine where load_id = $id and source_file = $f",
                {"id": report.load_id, "f": report.source_file}).fetchall()}
            quarantined = con.execute(
                "select count(*) from quarantine where load_id = $id and source_file = $f",
                {"id": report.load_id, "f": report.source_file}).fetchall()[0][0]
            assert report.quarantined == quarantined, (summary, quarantined)
            if Path(path).suffix in (".csv", ".txt"):
                starts = {line for line, _ in _csv_records(Path(path))}
                assert lines <= starts, ("quarantined lines where no record starts",
                                         sorted(lines - starts), summary)
            if len(paths) == 1:
                duplicates = _file_duplicates(path, key, lines)
                if duplicates is not None:
                    assert report.duplicates == duplicates, (summary, duplicates)
    finally:
        con.close()
    assert sum(r.inserted + r.updated for r in reports) == written, \
        ([r.summary() for r in reports], written)
