"""Search the warehouse's text for personal data, by query rather than by raw bytes.

DuckDB compresses strings (dictionary and FSST), so a name stored in clear need not appear
as its bytes in the file once a table holds a few thousand rows: only a query sees every
value. These helpers read every text column of every table through SQL.
"""

from __future__ import annotations

from typing import Iterable

import duckdb


def text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(table, column) of every VARCHAR or VARCHAR[] column of every table (views only
    repeat what their tables hold); a table outside `main` is named `schema.table`."""
    return [(t if s == "main" else f"{s}.{t}", c) for s, t, c in con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "semi join duckdb_tables() using (database_name, schema_name, table_name) "
        "where not internal and (data_type = 'VARCHAR' or data_type like 'VARCHAR[%') "
        "order by all").fetchall()]


def _quoted(table: str) -> str:
    return ".".join(f'"{part}"' for part in table.split("."))


def find_strings(con: duckdb.DuckDBPyConnection,
                 needles: Iterable[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for each needle contained in some value of a text column.

    Case-insensitive, so an ID's check letter 'X' is found as 'x' too.
    """
    wanted = sorted({n.lower() for n in needles if n})
    found = []
    for table, column in text_columns(con):
        # Every substring of each value as long as some needle, joined to the needles: a
        # hash join, where thousands of contains() per value would take minutes.
        rows = con.execute(
            f"""
            with v as (select distinct lower(cast("{column}" as varchar)) as v
                       from {_quoted(table)} where "{column}" is not null),
            needles as (select unnest($needles) as n),
            lengths as (select distinct length(n) as l from needles),
            windows as (select v, l, unnest(range(1, length(v) - l + 2)) as i
                        from v, lengths where length(v) >= l)
            select distinct n from windows join needles on substr(v, i, l) = n order by n
            """,
            {"needles": wanted}).fetchall()
        found += [(table, column, n) for (n,) in rows]
    return found


def find_pattern(con: duckdb.DuckDBPyConnection, regex: str) -> list[tuple[str, str, str]]:
    """(table, column, first match) for each text column holding a match of `regex`."""
    found = []
    for table, column in text_columns(con):
        rows = con.execute(
            f'select regexp_extract(cast("{column}" as varchar), $re) '
            f'from {_quoted(table)} where regexp_matches(cast("{column}" as varchar), $re) '
            "limit 1",
            {"re": regex}).fetchall()
        found += [(table, column, m) for (m,) in rows]
    return found
