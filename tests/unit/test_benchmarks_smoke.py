"""The benchmark harness runs end to end at its smallest size, so that it cannot rot.

No timing is asserted: CI machines are shared and noisy. The full run is
`python -m benchmarks run --sizes 100k,1m,10m --out docs/benchmarks.md`.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from benchmarks import generate, pagebench, querybench, report
from benchmarks.__main__ import main
from pipelines.settings import Settings


def test_generate__deterministic_tickets_with_deadlines(tmp_path):
    now = dt.datetime(2026, 11, 23, 9, 0)
    settings = Settings(db_path=tmp_path / "w.duckdb", calendar_file=None)
    built = generate.build_warehouse(tmp_path / "a.duckdb", 5_000, settings, now)
    generate.build_warehouse(tmp_path / "b.duckdb", 5_000, settings, now)
    assert built["tables"]["tickets"] == 5_000
    digests = []
    for name in ("a", "b"):
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True)
        digests.append(
            con.execute(
                "select sum(hash(ticket_id, reported_at, closed_at, level, community, "
                "deadline_at)), count(*) filter (due_on is null), "
                "count(*) filter (reported_at > $now or closed_at > $now) from tickets",
                {"now": now},
            ).fetchone()
        )
        con.close()
    assert digests[0] == digests[1]
    assert digests[0][1:] == (0, 0)  # every ticket has a deadline; nothing after now


def test_baseline__pandas_and_sql_give_the_same_answers(tmp_path):
    now = dt.datetime(2026, 11, 23, 9, 0)
    db = tmp_path / "w.duckdb"
    generate.build_warehouse(db, 5_000, Settings(db_path=db, calendar_file=None), now)
    con = duckdb.connect(str(db), read_only=True)
    df = con.execute("select * from tickets").df()
    ctx = querybench.Context(con, now)
    for k in range(4):
        p = querybench.baseline_params(ctx, k)
        for name, sql in querybench.BASELINE_SQL.items():
            wanted = {key: p[key] for key in querybench._BASELINE_PARAMS[name]}
            from_sql = con.execute(sql, wanted).df()
            from_pandas = querybench.BASELINE_PANDAS[name](df, p)
            assert len(from_sql) == len(from_pandas), name
            # the key column, and the last column (a count, a rate or a deadline)
            for col in (0, -1):
                a, b = from_sql.iloc[:, col], from_pandas.iloc[:, col]
                if a.dtype.kind == "f" or b.dtype.kind == "f":
                    a, b = a.astype(float).round(9), b.astype(float).round(9)
                assert a.astype(str).tolist() == b.astype(str).tolist(), name
    con.close()


def test_harness__runs_at_smallest_size(tmp_path):
    out = tmp_path / "benchmarks.md"
    args = [
        "run",
        "--sizes",
        "20k",
        "--load-rows",
        "20k",
        "--repeats",
        "1",
        "--calls",
        "2",
        "--refreshes",
        "5",
        "--workdir",
        str(tmp_path / "work"),
        "--out",
        str(out),
        "--page-watch",
        "2",
    ]
    if pagebench.missing_tools():
        args.append("--no-pages")
    hand = "## Measured by hand\n\nA profile no harness run can redo.\n"
    out.write_text(f"# An older run\n\nstale figures\n\n{report.HAND_MARKER}\n\n{hand}",
                   encoding="utf-8")
    assert main(args) == 0
    text = out.read_text(encoding="utf-8")
    assert "stale figures" not in text and text.endswith(f"{report.HAND_MARKER}\n\n{hand}")
    for heading in (
        "## Machine and run",
        "## Load:",
        "## Query paths",
        "## Against the pandas way",
        "## Memory",
        "## Cost against size",
        "## Pages",
    ):
        assert heading in text
    assert (tmp_path / "benchmarks-cost.svg").read_text().startswith("<svg")
    assert "`wall." in text and "`status." in text  # query functions were discovered
    assert "failed:" not in text, "a query function failed under the harness"
