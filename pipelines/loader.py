"""The generic load: extract → map → validate → quarantine → dedup → upsert, all in SQL.

One call loads one or more files of one source in a single warehouse write, so a load is
all or nothing. Every row read ends in exactly one bucket, per file:
rows_read = inserted + updated + unchanged + duplicates + quarantined.
- quarantined: the row breaks a rule (stored in `quarantine` with file, line and reason);
- duplicates: another row of the same load has the same key and wins (the newest version
  column, else the later row); exact copies count here too;
- unchanged: the stored row is identical, or newer than this one;
- updated / inserted: the stored row changed / was added.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import duckdb
from tqdm import tqdm

from pipelines import checks as data_checks
from pipelines import derived, journal, privacy, warehouse
from pipelines.errors import LoadError
from pipelines.mapping import Mapping, MappingError, load_mapping
from pipelines.readers import (EXCEL_SUFFIXES, MAX_CELL_CHARS, ReadError, StagedFile,
                               collect_rejects, convert_workbook, find_header_line,
                               hash_in_background, open_file, quote)
from pipelines.settings import Settings, local_now
from pipelines.sources import SOURCES, Column, Source

logger = logging.getLogger(__name__)

# Tried after ISO 8601 (which try_cast reads) for timestamps without a mapped format.
DEFAULT_TIME_FORMATS = [
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日", "%Y%m%d%H%M%S", "%Y%m%d",
]
SHOWN_CHARS = 100  # of a bad value quoted in a quarantine reason
SHOWN_QUARANTINED = 5  # quarantined lines a load report quotes (`quarantine` has all)
# C0 control characters but tab, line feed and carriage return, and DEL (RE2 syntax)
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
TRUE_WORDS = ["1", "true", "t", "yes", "y", "是", "对"]
FALSE_WORDS = ["0", "false", "f", "no", "n", "否"]


@dataclass
class LoadReport:
    """What one file of one load did. The counts add up to rows_read."""

    source: str
    source_file: str
    file_sha256: str = ""
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    quarantined: int = 0
    warnings: list[str] = field(default_factory=list)
    load_id: int | None = None
    newest_record_at: dt.datetime | None = None
    # the first SHOWN_QUARANTINED quarantined lines: (line, reason), as stored (masked)
    quarantine_examples: list[tuple[int | None, str]] = field(default_factory=list)

    def adds_up(self) -> bool:
        """True when every row read is accounted for exactly once."""
        return self.rows_read == (self.inserted + self.updated + self.unchanged
                                  + self.duplicates + self.quarantined)

    def summary(self) -> str:
        """One line for the terminal and the log."""
        line = (f"{self.source} {self.source_file}: read {self.rows_read:,} = "
                f"inserted {self.inserted:,} + updated {self.updated:,} + unchanged "
                f"{self.unchanged:,} + duplicates {self.duplicates:,} + quarantined "
                f"{self.quarantined:,}")
        return line + "".join(f"\n  warning: {w}" for w in self.warnings)

    def quarantine_lines(self) -> list[str]:
        """The first quarantined lines of the file, each with its reason, and how many
        more there are: what a clerk at a terminal needs to fix the file."""
        shown = [f"  line {line}: {reason}" if line is not None else f"  {reason}"
                 for line, reason in self.quarantine_examples]
        more = self.quarantined - len(self.quarantine_examples)
        if more > 0:
            shown.append(f"  ... and {more:,} more quarantined line(s)")
        return shown


class _Params:
    """Collects bound parameters under generated names while SQL text is assembled."""

    def __init__(self, initial: dict | None = None):
        self.values: dict = dict(initial or {})

    def add(self, value) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return "$" + name

    def used_by(self, sql: str) -> dict:
        """The values `sql` refers to: DuckDB rejects unused named parameters."""
        return {n: self.values[n] for n in set(re.findall(r"\$(\w+)", sql))
                if n in self.values}


def _cell_expr(col: Column, staged: StagedFile, mapping: Mapping, native: set[str]) -> str:
    """The file's cell for `col`: renamed, trimmed, '' as NULL (`native`: already typed)."""
    src = mapping.source_column(col.name)
    if src not in staged.columns:
        return "null::varchar"
    q = quote(src)
    if col.name in native:
        return q
    # trim() costs 4x a test for an edge space, and most cells have no space at all:
    # contains() rules that out fastest, then LIKE (half of starts_with/ends_with)
    return (f"nullif(case when contains({q}, ' ') and ({q} like ' %' or {q} like '% ') "
            f"then trim({q}) else {q} end, '')")


def _native_columns(source: Source, mapping: Mapping) -> set[str]:
    """Timestamp columns the CSV reader can parse itself: ISO 8601, no mapped format,
    default or value map. Its parse equals try_cast's; a cell it cannot parse makes the
    load read them as text instead, where the other formats are tried."""
    return {c.name for c in source.stored if c.kind == "timestamp"
            and c.name not in mapping.formats and c.name not in mapping.defaults
            and c.name not in mapping.values}


def _text_expr(col: Column, mapping: Mapping, p: _Params, masked: bool) -> str:
    """Canonical text of `col` from its cell `<col>__cell`: value-mapped, defaulted,
    personal data protected (`masked`: phone and ID numbers, e-mails masked)."""
    expr = f"{col.name}__cell"
    synonyms = {**col.synonyms, **mapping.values.get(col.name, {})}
    if synonyms:
        cases = " ".join(f"when {p.add(k)} then {p.add(v)}" for k, v in synonyms.items())
        expr = f"(case {expr} {cases} else {expr} end)"
    if col.name in mapping.defaults:
        expr = f"coalesce({expr}, {p.add(mapping.defaults[col.name])})"
    if masked:
        expr = privacy.mask_sql(expr)
    elif col.pii == "pseudonymise":
        expr = privacy.pseudonym_sql(expr)
    return expr


def _typed_expr(col: Column, mapping: Mapping, p: _Params, native: set[str]) -> str:
    """SQL giving the typed value of `<col>__raw`, NULL when it does not parse."""
    raw = f"{col.name}__raw"
    if col.name in native:
        return raw
    if col.kind in ("timestamp", "date", "year"):
        formats = mapping.formats.get(col.name)
        iso = f"try_cast({raw} as timestamp)"
        parsed = (f"coalesce(try_strptime({raw}, {p.add(formats)}), {iso})" if formats
                  else f"coalesce({iso}, try_strptime({raw}, {p.add(DEFAULT_TIME_FORMATS)}))")
        if col.kind == "date":
            return f"cast({parsed} as date)"
        if col.kind == "year":  # a birth date is reduced to its year; a bare year is kept
            return (f"coalesce(year({parsed}), case when regexp_full_match({raw}, "
                    f"'(19|20)[0-9]{{2}}') then cast({raw} as integer) end)")
        return parsed
    if col.kind == "int":
        # try_cast alone rounds ('1.5' -> 2) and reads hex and exponents ('0x3', '1e2'):
        # only digits pass, with a '.0' tail as spreadsheets and pandas write whole numbers
        return (f"case when regexp_full_match({raw}, '[+-]?[0-9]{{1,10}}(\\.0*)?') "
                f"then try_cast({raw} as integer) end")
    if col.kind == "decimal":
        return (f"case when regexp_full_match({raw}, '[0-9]{{1,16}}(\\.[0-9]{{1,2}})?') "
                f"then cast({raw} as decimal(18,2)) end")
    if col.kind == "bool":
        return (f"case when lower({raw}) in (select unnest({p.add(TRUE_WORDS)})) then true "
                f"when lower({raw}) in (select unnest({p.add(FALSE_WORDS)})) then false end")
    if col.kind == "enum":
        # most cells are already canonical: test that before lower(), which costs more
        choices, value = p.add(list(col.choices)), f"lower({raw})"
        # a value kept as given is stored and quoted in warnings: masked (rare rows only)
        fallback = "null" if col.strict else privacy.mask_sql(raw)
        return (f"case when list_contains({choices}, {raw}) then {raw} "
                f"when list_contains({choices}, {value}) then {value} else {fallback} end")
    return raw


def _kind_words(col: Column) -> str:
    if col.kind == "enum":
        return "one of " + " | ".join(col.choices)
    if col.kind == "decimal":
        return "a non-negative amount with at most 2 decimal places"
    return {"int": "a whole number", "bool": "yes/no", "year": "a date or year",
            "timestamp": "a date and time", "date": "a date"}.get(
        col.kind, col.kind)


def _flaw_expr(source: Source, staged: StagedFile, mapping: Mapping,
               check_controls: bool) -> str:
    """SQL giving what is wrong with a row's text cells (`<col>__cell`) as they came, NULL
    when nothing is: a cell over MAX_CELL_CHARS, or (`check_controls`) a control
    character, such as NUL, in any text column (ids and names included).

    Typed columns need no such test: such a cell does not parse, and is quarantined.
    """
    checks = []  # (condition, reason text)
    for col in source.stored:
        if col.kind not in ("text", "enum") or \
                mapping.source_column(col.name) not in staged.columns:
            continue
        cell = f"{col.name}__cell"
        # strlen (bytes) is free and bounds length (characters) from above
        too_long = f"strlen({cell}) > {MAX_CELL_CHARS} and length({cell}) > {MAX_CELL_CHARS}"
        checks.append((too_long,
                       f"'{col.name} is longer than {MAX_CELL_CHARS:,} characters'"))
        if check_controls:
            checks.append((f"regexp_matches({cell}, '{CONTROL_CHARACTERS}')",
                           f"'{col.name} holds a control character (such as NUL)'"))
    if not checks:
        return "null::varchar"
    broken = " or ".join(f"({condition})" for condition, _ in checks)
    text = ", ".join(f"case when {condition} then {reason} end" for condition, reason in checks)
    return f"case when {broken} then concat_ws('; ', {text}) end"


def _reason_expr(source: Source) -> str:
    """SQL building the row's quarantine reason ('' when the row is good).

    The reason text is built only for rows that break a rule: one test of every rule
    costs a fraction of assembling the text for every row. `_flaw` (`_flaw_expr`) comes
    first.
    """
    checks = [("_flaw is not null", "_flaw")]  # (condition, reason text)
    for col in source.columns:
        raw = f"{col.name}__raw"
        if col.required:
            checks.append((f"{raw} is null", f"'missing {col.name}'"))
        if col.kind != "text" and not (col.kind == "enum" and not col.strict):
            # as a JSON string: cut short, quotes and control characters escaped
            shown = "" if col.pii else \
                f" ' || to_json(left({raw}::varchar, {SHOWN_CHARS}))::varchar || '"
            checks.append((f"{raw} is not null and {col.target} is null",
                           f"'{col.name}:{shown} is not {_kind_words(col)}'"))
    for rule in source.rules:
        checks.append((f"coalesce({rule.violated}, false)", rule.reason))
    broken = " or ".join(f"({condition})" for condition, _ in checks)
    text = ", ".join(f"case when {condition} then {reason} end" for condition, reason in checks)
    # a reason may quote a cell: masked, and only for the rows that break a rule
    reasons = privacy.mask_sql(f"concat_ws('; ', {text})")
    return f"case when {broken} then {reasons} else '' end"


def _required_missing(source: Source, staged: StagedFile, mapping: Mapping) -> list[str]:
    return [c.name for c in source.columns if c.required
            and mapping.source_column(c.name) not in staged.columns
            and c.name not in mapping.defaults]


def _kept_raw(col: Column, masked: set[str], native: set[str]) -> str:
    """What a quarantined row keeps of `col`: its text masked (most sources mask it only
    here, for the few rows quarantined); a birth date only as the year the warehouse keeps."""
    raw = f"{col.name}__raw"
    if col.kind == "year":
        return (f"case when {raw} is not null then coalesce(cast({col.target} as varchar), "
                f"'[withheld: personal data]') end")
    if col.name in masked or col.name in native:  # native: typed by the reader, no text
        return raw
    return privacy.mask_sql(raw)


def _stage_sql(source: Source, file_no: int, staged: StagedFile, mapping: Mapping,
               p: _Params, native: set[str], check_controls: bool = True) -> str:
    """SQL adding one file's rows to `_typed` in one pass: typed values, reason, row hash.

    The first file creates `_typed`, later ones append to it, so a row's rowid follows
    file order and then row order: that is its identity and "later row" for the rest of
    the load.
    """
    head = "create temp table _typed as" if file_no == 0 else "insert into _typed by name"
    return f"{head} {_rows_sql(source, file_no, staged, mapping, p, native, check_controls)}"


def _rows_sql(source: Source, file_no: int, staged: StagedFile, mapping: Mapping,
              p: _Params, native: set[str], check_controls: bool = True) -> str:
    """SQL of one file's rows as the data contract makes them, in one pass: `_file_no`,
    `_line`, typed values, `_reason` ('' when the row is good), `_raw` and `_row_hash`.

    `_raw` (JSON of the row's canonical text, personal data already protected) is made
    only for rows that will be quarantined, each value cut to MAX_CELL_CHARS.
    `check_controls`: test text cells for control characters (see `_flaw_expr`).
    """
    cells = ", ".join(f"{_cell_expr(c, staged, mapping, native)} as {c.name}__cell"
                      for c in source.stored)
    masked = {c.name for c in source.stored if source.masks(c) and c.name not in native}
    texts = ", ".join(f"{_text_expr(c, mapping, p, c.name in masked)} as {c.name}__raw"
                      for c in source.stored)
    line = "_line" if staged.has_line_column else "null::bigint"
    targets = [c.target for c in source.stored]
    typed = ", ".join(f"{_typed_expr(c, mapping, p, native)} as {c.target}"
                      for c in source.stored)
    raw = "to_json(struct_pack(" + ", ".join(
        f"{c.name} := {_kept_raw(c, masked, native)}" if c.name in native
        else f"{c.name} := left({_kept_raw(c, masked, native)}, {MAX_CELL_CHARS})"
        for c in source.stored) + "))::varchar"
    # DuckDB's 64-bit hash of the stored values: ~8x faster than md5 over JSON. Should a
    # DuckDB upgrade change it, the next reload counts its rows as updated once.
    return f"""
        with cells as (
            select {file_no} as _file_no, {line} as _line, {cells} from {staged.relation}
        ),
        mapped as (select _file_no, _line,
            {_flaw_expr(source, staged, mapping, check_controls)} as _flaw, {texts}
            from cells),
        typed as (select *, {typed} from mapped),
        checked as (select *, {_reason_expr(source)} as _reason from typed)
        select _file_no, _line, {", ".join(targets)}, _reason,
            case when _reason <> '' then {raw} end as _raw,
            hash({", ".join(targets)}) as _row_hash
        from checked
    """


def _classify_sql(source: Source) -> str:
    """SQL creating `_classified`: the bucket of every valid row that is not inserted
    (narrow: keys only). Every other valid row is inserted: most rows of most loads are,
    and not storing them makes this step a third cheaper.

    `_row` is the row's rowid in `_typed`: a higher one is later in the load. Parameters
    `$low` and `$high`: the least and greatest first key column of the valid rows.
    """
    keys = ", ".join(source.key)
    order = f"{source.version} desc nulls last, " if source.version else ""
    join = " and ".join(f"t.{k} = v.{k}" for k in source.key)
    version = f", {source.version}" if source.version else ""
    stale = (f"or (t.{source.version} is not null and v.{source.version} is not null "
             f"and v.{source.version} < t.{source.version})") if source.version else ""
    return f"""
        create temp table _classified as
        -- three cheap scans of _typed cost less than storing this CTE for its three uses
        with valid as not materialized (
            select rowid as _row, _file_no, {keys}{version}, _row_hash
            from _typed where _reason = ''
        ),
        repeated as (select {keys} from valid group by all having count(*) > 1),
        -- only keys that occur twice need ranking: the newest version wins, then the later row
        losers as (
            select _row from (
                select _row, row_number() over (
                    partition by {keys} order by {order}_row desc) as _rank
                from valid semi join repeated using ({keys})
            ) where _rank > 1
        )
        select v._row, v._file_no, {", ".join(f"v.{k}" for k in source.key)},
            case
                when l._row is not null then 'duplicate'
                when t.row_hash = v._row_hash {stale} then 'unchanged'
                else 'updated'
            end as _class
        from valid v
        left join losers l on l._row = v._row
        -- the keys' range as constants: zone maps skip the stored rows outside it (a
        -- 1,000-row update read every key of 10M tickets)
        left join (select * from {source.table}
                   where {source.key[0]} between $low and $high) t on {join}
        where l._row is not null or t.{source.key[0]} is not null
    """


def _apply(con, source: Source, load_id: int, extras: derived.InsertExtras) -> int:
    """Replace updated rows, insert new ones; return the number of rows written."""
    join = " and ".join(f"{source.table}.{k} = c.{k}" for k in source.key)
    first = source.key[0]
    low, high = con.execute(f"select min({first}), max({first}) from _classified "
                            "where _class = 'updated'").fetchall()[0]
    con.execute(f"delete from {source.table} using _classified c "  # range: see _classify_sql
                f"where c._class = 'updated' and {join} "
                f"and {source.table}.{first} between $low and $high",
                {"low": low, "high": high})
    targets = [f"t.{c.target}" for c in source.stored] + list(extras.columns.values())
    names = [c.target for c in source.stored] + list(extras.columns)
    # Row order in the table means nothing; not keeping it makes the insert ~25% faster.
    con.execute("set preserve_insertion_order = false")
    try:
        return con.execute(
            f"insert into {source.table} ({', '.join(names)}, row_hash, load_id) "
            f"select {', '.join(targets)}, t._row_hash, $load_id from _typed t "
            # Usually almost every valid row is new or changed: excluding the few others
            # is cheaper than matching the many.
            f"anti join (select _row from _classified where _class <> 'updated') c "
            f"    on t.rowid = c._row "
            f"{extras.join} where t._reason = ''",
            {"load_id": load_id},
        ).fetchall()[0][0]
    finally:
        con.execute("reset preserve_insertion_order")


def _stage(con, source: Source, files: Sequence[StagedFile], mapping: Mapping,
           params: _Params, native: set[str], clean: set[int] = frozenset()) -> None:
    """Read every file once into `_typed`, in order, and collect the reader's rejects.

    `clean`: numbers of files known to hold no control characters, which skip that test.
    """
    derived.warm_up(_input_bytes(files))
    for i, staged in enumerate(files):
        parsed = _parse_natively(staged, mapping, native)
        sql = _stage_sql(source, i, staged, mapping, params, parsed, i not in clean)
        try:
            con.execute(sql, params.used_by(sql) | staged.params)
        except duckdb.Error as e:
            if warehouse.is_disk_full(e):  # the disk, not the file: the writer reports it
                raise
            raise LoadError(f"{staged.path}: cannot read "
                            f"({str(e).strip().splitlines()[0]})") from None
        collect_rejects(con, staged)


def _input_bytes(files: Sequence[StagedFile]) -> int:
    """The files' size on disk (what the insert reads: see derived.warm_up)."""
    return sum(f.path.stat().st_size for f in files if f.path.is_file())


def _parse_natively(staged: StagedFile, mapping: Mapping, native: set[str]) -> set[str]:
    """The columns of `native` the reader of `staged` parses itself (it is told so)."""
    parsed = {n for n in native if staged.can_parse_types
              and mapping.source_column(n) in staged.columns}
    if staged.can_parse_types:
        staged.parse_as({mapping.source_column(n): "TIMESTAMP" for n in parsed})
    return parsed


class _NotDirect(Exception):
    """A file inserted straight into an empty table was not as assumed (a row to
    quarantine, a repeated key, control bytes, a timestamp the reader could not parse,
    an error): the write is rolled back and the file loaded the usual way."""


@contextmanager
def file_rows_probe_joins(con):
    """Joins in the statements run inside probe with the file's rows, as written.

    DuckDB estimates a CSV scan without a sample at a few dozen rows, so it builds a
    join's hash table on the file (a million rows, every one held before the first is
    written) rather than on the deadlines' day table (about 19,000 rows). At 1.09M rows
    that was 0.9 of a first load's 4.3 s (docs/benchmarks.md). Left set when the
    statement fails: the caller discards the connection then.
    """
    con.execute("set disabled_optimizers = 'build_side_probe_side'")
    yield
    con.execute("reset disabled_optimizers")


def _insert_directly(con, settings: Settings, source: Source, staged: StagedFile,
                     mapping: Mapping, params: _Params, native: set[str], clean: bool,
                     load_id: int) -> int:
    """One file into the source's empty table in one pass, without staging it: the rows
    as `_rows_sql` makes them, all of them good, the keys unique. Returns the rows
    inserted; raises _NotDirect (the caller rolls back) when a row is not good, a key
    repeats or the file may hold control bytes.

    With nothing stored there is nothing to classify: every good row is new unless its
    key repeats. A row to quarantine needs its position in the file, which only staging
    keeps: the first one stops the insert (DuckDB's `error()`), and the load starts again
    the usual way. So does a repeated key, found by one count of the keys inserted.
    """
    parsed = _parse_natively(staged, mapping, native)
    rows = _rows_sql(source, 0, staged, mapping, params, parsed, check_controls=not clean)
    extras = derived.direct_extras(con, settings, source.name)
    names = ", ".join([c.target for c in source.stored] + list(extras.columns))
    values = ", ".join([f"t.{c.target}" for c in source.stored]
                       + list(extras.columns.values()))
    sql = (f"insert into {source.table} ({names}, row_hash, load_id) "
           f"select {values}, t._row_hash, $load_id from ({rows}) t {extras.join}"
           # the message is not shown: the row is quarantined by the usual load
           f"where case when t._reason = '' then true else error('row to quarantine in "
           f"file ' || t._file_no) end")
    con.execute("set preserve_insertion_order = false")  # as `_apply`: order means nothing
    derived.warm_up(_input_bytes([staged]))
    try:
        with file_rows_probe_joins(con):
            written = con.execute(sql, params.used_by(sql) | staged.params
                                  | {"load_id": load_id}).fetchall()[0][0]
    except duckdb.Error as e:  # the transaction is aborted: the writer rolls it back
        if warehouse.is_disk_full(e):
            raise
        raise _NotDirect(str(e).strip().splitlines()[0]) from None
    con.execute("reset preserve_insertion_order")
    collect_rejects(con, staged)
    if (clean and staged.may_hold_control_characters()) or staged.cast_rejected:
        raise _NotDirect("control bytes, or timestamps not all ISO 8601")
    # what is stored, counted apart from the insert's own count
    stored, keys = con.execute(f"select count(*), count(distinct ({', '.join(source.key)})) "
                               f"from {source.table} where load_id = $id",
                               {"id": load_id}).fetchall()[0]
    if stored != written:
        raise RuntimeError(f"{written:,} rows inserted, but {stored:,} stored")
    if keys != stored:
        raise _NotDirect(f"{stored - keys:,} repeated key(s)")
    derived.inserted_directly(con, settings, source.name, load_id)
    return written


@dataclass(frozen=True)
class _FileRows:
    """What `_typed` holds of one file."""

    first_row: int = 0  # rowid of its first row: a row's position is its rowid less this
    rows: int = 0
    quarantined: int = 0
    newest: dt.datetime | None = None  # freshness: see _file_rows


def _newest_expr(source: Source) -> str:
    """SQL aggregate of a load's newest stamp: the source's data_time column, else its
    version column, else its first timestamp."""
    stamps = [c.target for c in source.stored if c.name == source.data_time] + \
        [c.target for c in source.stored if c.name == source.version] + \
        [c.target for c in source.stored if c.kind == "timestamp"][:1]
    return "coalesce(" + ", ".join(f"max({s})" for s in stamps) + ")" if stamps else "null"


def _file_rows(con, source: Source, n_files: int) -> list[_FileRows]:
    """One scan of `_typed` per load: each file's first rowid, rows to quarantine and newest
    stamp (the source's data_time column, else its version column, else its first
    timestamp). Rowids are checked to be contiguous per file, because line numbers in
    quarantine depend on it."""
    rows = {}
    for f, first, last, n, quarantined, newest_at in con.execute(
        f"select _file_no, min(rowid), max(rowid), count(*), "
        f"count(*) filter (_reason <> ''), {_newest_expr(source)} from _typed group by all"
    ).fetchall():
        if last - first + 1 != n:
            raise RuntimeError(f"rows of file {f} are not numbered contiguously "
                               f"({first}..{last} for {n} rows): line numbers would be wrong")
        rows[f] = _FileRows(first, n, quarantined, newest_at)
    return [rows.get(f, _FileRows()) for f in range(n_files)]


def _quarantine(con, source: Source, files: Sequence[StagedFile], stats: list[_FileRows],
                load_id: int) -> None:
    """Store the load's quarantined rows, each with its line in its file: Excel's sheet
    row (`_line`), a CSV file's own line (`StagedFile.record_lines`, which reads the file
    again only when it has a quarantined row, and only up to the last one), a Parquet
    row's position from 1."""
    found: dict[str, list] = {"file_no": [], "pos": [], "line": [], "hint": []}
    for i, staged in enumerate(files):
        if staged.is_csv and stats[i].quarantined:
            positions = [p for (p,) in con.execute(
                "select rowid - $first from _typed where _file_no = $i and _reason <> '' "
                "order by rowid", {"first": stats[i].first_row, "i": i}).fetchall()]
            found["file_no"] += [i] * len(positions)
            found["pos"] += positions
            for line, cells in staged.record_lines(positions):
                found["line"].append(line)
                found["hint"].append(_extra_cells_hint(cells, len(staged.columns)))
    # lists, not a registered Arrow table: registering one imports pandas
    con.execute(
        """
        insert into quarantine
        with csv_lines as (select unnest($file_no::bigint[]) as _file_no,
                               unnest($pos::bigint[]) as _pos,
                               unnest($line::bigint[]) as _line_no,
                               unnest($hint::varchar[]) as _hint)
        select $load_id, $source, $names[_file_no + 1],
            coalesce(_line, _line_no, _pos + 1), _raw, concat(_reason, _hint)
        from (select *, rowid - $first_rows[_file_no + 1] as _pos from _typed
              where _reason <> '')
        left join csv_lines using (_file_no, _pos)
        order by _file_no, _pos
        """,
        {"load_id": load_id, "source": source.name, "names": [str(f.path) for f in files],
         "first_rows": [f.first_row for f in stats], **found},
    )
    _quarantine_rejected(con, source, files, load_id)


def _extra_cells_hint(cells: int | None, columns: int) -> str | None:
    """What to add to a quarantined row's reason when its line holds more cells than the
    header: the reader drops one extra cell when it is last and empty, so a description
    cut in two by its own delimiter reads as a bad value in the column after it."""
    if cells is None or cells <= columns:
        return None
    return (f"; the line has {cells} cells, the header {columns}: a cell holding the "
            f"delimiter goes in double quotes")


def _quarantine_rejected(con, source: Source, files: Sequence[StagedFile],
                         load_id: int) -> None:
    """Store the lines the CSV reader could not split, with their reasons."""
    # A line that could not be split may hold names: keep it only for sources without them.
    withheld = source.has_personal_data
    for staged in files:
        if staged.rejected:
            con.executemany(
                "insert into quarantine select $1, $2, $3, $4, "
                f"coalesce({privacy.mask_sql('$5::varchar')}, '[withheld: personal data]'), "
                f"{privacy.mask_sql('$6::varchar')}",
                [[load_id, source.name, str(staged.path), line, None if withheld else raw,
                  reason] for line, raw, reason in staged.rejected],
            )


def _quarantine_examples(con, load_id: int) -> dict[str, list[tuple[int | None, str]]]:
    """The first SHOWN_QUARANTINED quarantined lines of each file of the load, with
    their reasons (masked when they were stored), by file name."""
    examples: dict[str, list[tuple[int | None, str]]] = {}
    for name, line, reason in con.execute(
        "select source_file, line_no, reason from quarantine where load_id = $id "
        "qualify row_number() over (partition by source_file order by line_no) <= $n "
        "order by source_file, line_no", {"id": load_id, "n": SHOWN_QUARANTINED},
    ).fetchall():
        examples.setdefault(name, []).append((line, reason))
    return examples


def _count(con, source: Source, files: Sequence[StagedFile], stats: list[_FileRows],
           classes: dict[tuple[int, str], int], load_id: int) -> list[LoadReport]:
    """One report per file from its rows (`stats`) and the counts of its rows not
    inserted (`classes`, by file number and class: see `_classify_sql`)."""
    examples = _quarantine_examples(con, load_id) if any(
        r.quarantined for r in stats) or any(f.rejected for f in files) else {}
    reports = []
    for i, (staged, rows) in enumerate(zip(files, stats)):
        n = {c: classes.get((i, c), 0) for c in ("updated", "unchanged", "duplicate")}
        inserted = rows.rows - rows.quarantined - sum(n.values())
        reports.append(LoadReport(
            source.name, str(staged.path), staged.sha256,
            rows_read=rows.rows + len(staged.rejected), inserted=inserted,
            updated=n["updated"], unchanged=n["unchanged"], duplicates=n["duplicate"],
            quarantined=rows.quarantined + len(staged.rejected), load_id=load_id,
            newest_record_at=rows.newest,
            quarantine_examples=examples.get(str(staged.path), [])))
    return reports


def _enum_warnings(con, source: Source, good: str = "_typed where _reason = ''",
                   params: dict | None = None) -> list[str]:
    """Values of lenient enums outside their choices among the load's good rows (`good`:
    FROM and WHERE, with its `params`)."""
    warnings = []
    for col in source.stored:
        if col.kind == "enum" and not col.strict:
            rows = con.execute(
                f"select {col.target}, count(*) from {good} "
                f"and {col.target} is not null and not list_contains($c, {col.target}) "
                f"group by all order by 2 desc, 1 limit 5",
                {"c": list(col.choices), **(params or {})},
            ).fetchall()
            if rows:
                shown = ", ".join(f"{v!r} ×{n}" for v, n in rows)
                warnings.append(f"{col.name} outside {'|'.join(col.choices)} kept as given: "
                                f"{shown} (map them in the mapping file's [values.{col.name}])")
    return warnings


def _log(con, reports: list[LoadReport], started: dt.datetime, warnings: list[str]) -> None:
    # Warnings may quote values: masked before they reach load_log, stdout or the log.
    warnings = [privacy.mask_text(w) for w in warnings]
    for r in reports:
        r.warnings = warnings
        con.execute(
            "insert into load_log values ($load_id, $source, $file, $sha, $read, $ins, $upd, "
            "$same, $dup, $quar, $started, current_timestamp, $status, $message, $newest)",
            {"load_id": r.load_id, "source": r.source, "file": r.source_file,
             "sha": r.file_sha256, "read": r.rows_read, "ins": r.inserted,
             "upd": r.updated, "same": r.unchanged, "dup": r.duplicates,
             "quar": r.quarantined, "started": started,
             "status": "warning" if warnings else "ok",
             "message": "\n".join(warnings) or None,
             "newest": r.newest_record_at},
        )


def _run_checks(con, source: Source, reports: list[LoadReport]) -> list[str]:
    """The data checks following this source, on the warehouse as the load leaves it
    (its load_log rows included; checks with a scope on the rows the load touched): an
    error refuses the load, warnings are recorded."""
    findings = data_checks.run_all(con, source.name, reports[0].load_id)
    errors = [f for f in findings if f.check.severity == "error"]
    if errors:
        raise LoadError("refused by " + " | ".join(f.message() for f in errors)
                        + "; nothing was loaded")
    warnings = [f.message() for f in findings]
    if warnings:
        con.execute("update load_log set status = 'warning', message = concat_ws("
                    "chr(10), message, $m) where load_id = $id",
                    {"m": "\n".join(warnings), "id": reports[0].load_id})
    return warnings


def _open_with_header(con, source: Source, mapping: Mapping, path: Path, i: int,
                      workdir: Path, encoding: str | None, digest,
                      workbook: Path | None) -> tuple[StagedFile, list[str]]:
    """Open one input file; without a mapped header_row, find a header below title lines.

    Returns the staged file and notices for the load report.
    """
    def open_at(header_row: int) -> StagedFile:
        return open_file(con, path, f"_file{i}", workdir, encoding=encoding,
                         sheet=mapping.sheet, sha256_future=digest, header_row=header_row,
                         workbook=workbook)

    try:
        staged, notices = open_at(mapping.header_row or 1), []
        missing = _required_missing(source, staged, mapping)
        if missing and mapping.header_row is None:
            line = find_header_line(path, {mapping.source_column(c) for c in missing},
                                    staged.encoding, workbook)
            if line and line > 1:
                staged = open_at(line)
                missing = _required_missing(source, staged, mapping)
                notices.append(f"{path}: the header is on line {line}; the {line - 1} "
                               f"line(s) above it were skipped as titles (say so with "
                               f"[file] header_row = {line} in a mapping file)")
    except ReadError as e:
        raise LoadError(str(e)) from None
    if missing:
        raise LoadError(
            f"{path}: required column(s) {', '.join(missing)} not found; the file has "
            f"{', '.join(staged.columns)} (map them with --mapping; a header below line 1 "
            f"is found when it holds every required column, or set [file] header_row)")
    return staged, notices


def load_files(
    settings: Settings,
    source_name: str,
    paths: Sequence[Path],
    mapping_path: Path | None = None,
    encoding: str | None = None,
    progress: bool | None = None,
) -> list[LoadReport]:
    """Load `paths` into the warehouse as source `source_name`, all or nothing.

    Args:
        settings: configuration (warehouse path, time limits, pseudonym key, ...).
        source_name: a key of `pipelines.sources.SOURCES`.
        paths: input files (CSV, .xlsx, Parquet).
        mapping_path: optional TOML mapping for another system's columns and values.
        encoding: CSV encoding; detected per file when None.
        progress: show a progress bar; by default only when stderr is a terminal.

    Returns:
        One LoadReport per file.

    Every attempt and its outcome (ok, refused, failed) goes to the load journal beside
    the warehouse (`pipelines.journal`), where a rollback cannot erase it.

    Raises:
        LoadError: a file cannot be read or lacks required columns; nothing was changed.
        WarehouseError: the warehouse cannot be written (disk, lock); nothing was changed.
    """
    if source_name not in SOURCES:
        raise LoadError(f"unknown source {source_name!r}; expected one of {', '.join(SOURCES)}")
    attempt = journal.start(settings.db_path, source_name, paths, local_now(settings))
    try:
        reports = _load(settings, source_name, paths, mapping_path, encoding, progress)
    except LoadError as e:
        journal.finish(settings.db_path, attempt, source_name, "refused",
                       local_now(settings), str(e))
        raise
    except BaseException as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        journal.finish(settings.db_path, attempt, source_name, "failed",
                       local_now(settings), reason)
        raise
    journal.finish(settings.db_path, attempt, source_name, "ok", local_now(settings),
                   load_id=reports[0].load_id if reports else None)
    return reports


def _load(settings: Settings, source_name: str, paths: Sequence[Path],
          mapping_path: Path | None, encoding: str | None,
          progress: bool | None) -> list[LoadReport]:
    """The load itself (see `load_files`)."""
    source = SOURCES[source_name]
    if not paths:
        raise LoadError("no input files given")
    try:
        mapping = load_mapping(mapping_path, {c.name for c in source.columns})
    except MappingError as e:
        raise LoadError(str(e)) from None
    encoding = encoding or mapping.encoding
    show = sys.stderr.isatty() if progress is None else progress
    started = local_now(settings).replace(microsecond=0)
    try:
        params = _Params(privacy.hmac_params(privacy.secret_key(settings))
                         if any(c.pii == "pseudonymise" for c in source.columns) else {})
    except ValueError as e:
        raise LoadError(str(e)) from None
    steps = tqdm(total=len(paths) + 3, desc=f"load {source_name}", unit="step",
                 disable=not show, leave=False)
    # Hashing overlaps the single-threaded parts (warehouse copy, CSV sniffing).
    digests = [hash_in_background(p) if Path(p).is_file() else None for p in paths]
    workdir = tempfile.TemporaryDirectory(prefix="load-")
    try:
        # Workbooks are read in a child process before the lock is taken (see
        # readers.convert_workbook): a workbook that kills its reader takes nothing down.
        try:
            workbooks = {i: convert_workbook(Path(p), Path(workdir.name), mapping.sheet)
                         for i, p in enumerate(paths) if Path(p).is_file()
                         and Path(p).suffix.lower() in EXCEL_SUFFIXES}
        except ReadError as e:
            raise LoadError(str(e)) from None
        inputs = _Inputs(source, list(paths), mapping, params, encoding, Path(workdir.name),
                         workbooks, digests, steps, started)
        try:
            reports = _write(settings, inputs, direct=True)
        except _NotDirect as e:
            logger.info("%s: not inserted straight from the file (%s): loading it the "
                        "usual way", paths[0], e)
            steps.reset()
            reports = _write(settings, inputs, direct=False)
    finally:
        steps.close()
        workdir.cleanup()
    for r in reports:
        logger.info("load report: %s", r.summary().replace("\n", " |"))
    return reports


@dataclass
class _Inputs:
    """What one load reads, prepared before the warehouse is opened."""

    source: Source
    paths: list[Path]
    mapping: Mapping
    params: _Params
    encoding: str | None
    workdir: Path
    workbooks: dict[int, Path]
    digests: list
    steps: tqdm
    started: dt.datetime


def _write(settings: Settings, inputs: _Inputs, direct: bool) -> list[LoadReport]:
    """One write of the warehouse: open the files, stage, classify and apply them, or
    (`direct`, one file into an empty table) insert it straight (`_insert_directly`,
    which raises _NotDirect when it cannot); then the derived tables, load_log, checks."""
    source, paths, mapping, params = (inputs.source, inputs.paths, inputs.mapping,
                                      inputs.params)
    steps = inputs.steps
    with warehouse.writer(settings) as con:
        # The CSV reader fetches its buffers one thread at a time: twice as many threads
        # as cores keep every core busy transforming rows meanwhile (1M rows on 2
        # cores: 2.35 -> 2.23 s; the same setting makes a bare read_csv no faster).
        threads = con.execute("select current_setting('threads')").fetchall()[0][0]
        con.execute(f"set threads = {2 * int(threads)}")
        load_id = con.execute("select nextval('load_id_seq')").fetchall()[0][0]
        files, notices = [], []
        for i, path in enumerate(paths):
            steps.set_postfix_str(Path(path).name)
            staged, notice = _open_with_header(con, source, mapping, Path(path), i,
                                               inputs.workdir, inputs.encoding,
                                               inputs.digests[i], inputs.workbooks.get(i))
            files.append(staged)
            notices += notice
            steps.update()
        native = _native_columns(source, mapping)
        # A CSV file is hashed and scanned for control bytes while DuckDB reads it:
        # assume it clean (the regex test costs ~10% of a load), read it again if not.
        clean = {i for i, f in enumerate(files) if f.is_csv}
        if direct and len(files) == 1 and derived.can_insert_directly(source.name) and \
                not con.execute(f"select exists (select 1 from {source.table})"
                                ).fetchall()[0][0]:
            written = _insert_directly(con, settings, source, files[0], mapping, params,
                                       native, 0 in clean, load_id)
            _check_unchanged(files)
            newest = con.execute(f"select {_newest_expr(source)} from {source.table} "
                                 "where load_id = $id", {"id": load_id}).fetchall()[0][0]
            stats, classes = [_FileRows(0, written, 0, newest)], {}
            steps.update(2)
            _quarantine_rejected(con, source, files, load_id)
            warnings = notices + _enum_warnings(
                con, source, f"{source.table} where load_id = $id", {"id": load_id})
        else:
            stats, classes, written = _stage_and_apply(con, settings, source, files,
                                                       mapping, params, native, clean,
                                                       load_id)
            warnings = notices + _enum_warnings(con, source)
        warnings += derived.refresh(con, settings, source.name, load_id)
        reports = _count(con, source, files, stats, classes, load_id)
        accounted = sum(r.inserted + r.updated for r in reports)
        if written != accounted:
            raise RuntimeError(f"{written:,} rows written, but the accounting says "
                               f"{accounted:,}")
        _log(con, reports, inputs.started, warnings)
        found = _run_checks(con, source, reports)
        for r in reports:
            r.warnings = r.warnings + found
        steps.update()
    return reports


def _check_unchanged(files: Sequence[StagedFile]) -> None:
    try:
        for staged in files:
            staged.check_unchanged()  # after every read of it, and its hash
    except ReadError as e:
        raise LoadError(str(e)) from None


def _stage_and_apply(con, settings: Settings, source: Source, files: list[StagedFile],
                     mapping: Mapping, params: _Params, native: set[str], clean: set[int],
                     load_id: int) -> tuple[list[_FileRows], dict, int]:
    """Stage every file into `_typed`, classify its good rows against the stored ones,
    quarantine the bad ones, apply the rest. Returns each file's rows, the counts of rows
    not inserted by file and class, and the rows written."""
    paths = [f.path for f in files]
    _stage(con, source, files, mapping, params, native, clean)
    dirty = {i for i in clean if files[i].may_hold_control_characters()}
    if dirty or (native and any(f.cast_rejected for f in files)):
        # a timestamp the reader could not parse may be in another format: read
        # every file again as text, where all formats are tried
        logger.info("control characters or timestamps not all ISO 8601: reading "
                    "%s again", paths)
        con.execute("drop table _typed")
        _stage(con, source, files, mapping, params,
               set() if any(f.cast_rejected for f in files) else native,
               clean - dirty)
    _check_unchanged(files)
    stats = _file_rows(con, source, len(files))
    low, high = con.execute(f"select min({source.key[0]}), max({source.key[0]}) "
                            "from _typed where _reason = ''").fetchall()[0]
    con.execute(_classify_sql(source), {"low": low, "high": high})
    classes = {(row[0], row[1]): row[2] for row in con.execute(
        "select _file_no, _class, count(*) from _classified group by all").fetchall()}
    _quarantine(con, source, files, stats, load_id)
    written = _apply(con, source, load_id, derived.insert_extras(con, settings, source.name))
    return stats, classes, written
