"""A first load joins the file's rows to the deadlines' day table without holding the
whole file in a hash table first (pipelines.loader.file_rows_probe_joins)."""

from __future__ import annotations

import duckdb

from pipelines.loader import file_rows_probe_joins

# what the direct insert does, in small: a CSV scan without a sample (estimated at a few
# dozen rows) left-joined to a table of tens of thousands of day rows
QUERY = """
explain select t.k, d.due
from read_csv($path, header = true, auto_detect = false, columns = {'k': 'INTEGER'}) t
left join days d on d.k = t.k
"""


def _join_line(con, path) -> str:
    plan = con.execute(QUERY, {"path": str(path)}).fetchall()[0][1]
    return next(line for line in plan.splitlines() if "Join Type:" in line)


def test_the_file_side_probes_the_join(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("k\n" + "\n".join(str(i) for i in range(5000)) + "\n")
    con = duckdb.connect()
    con.execute("create table days as select range as k, range + 1 as due from range(20000)")
    # DuckDB, left to itself, builds on the file: the case the loader guards against
    assert "RIGHT" in _join_line(con, path)
    with file_rows_probe_joins(con):
        assert "LEFT" in _join_line(con, path)
    # and the setting does not outlive the statement
    assert "RIGHT" in _join_line(con, path)
