"""The benchmark harness runs end to end at its smallest size, so that it cannot rot.

No timing is asserted: CI machines are shared and noisy. The full run is
`python -m benchmarks run --sizes 100k,1m,10m --out docs/benchmarks.md`.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pyarrow as pa

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
    # a center's regular update: the newest tickets again, none left open, each
    # updated after its last step and after what the warehouse holds of it
    update = tmp_path / "recent.csv"
    generate.write_recent_update_csv(tmp_path / "a.duckdb", update, 100)
    con = duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True)
    try:
        assert con.execute(
            "select count(*), count(*) filter (where u.closed_at is null), "
            "count(*) filter (where u.updated_at <= t.updated_at "
            "or u.updated_at < u.closed_at or u.closed_at < u.reported_at), "
            "min(u.reported_at) = (select min(reported_at) from (select reported_at from "
            "tickets order by reported_at desc limit 100)), "
            "count(*) filter (where t.closed_at is null) > 0 "
            "from read_csv($f) u join tickets t using (ticket_id)", {"f": str(update)}
        ).fetchone() == (100, 0, 0, True, True)
    finally:
        con.close()


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


def test_harness__runs_at_smallest_size(tmp_path, monkeypatch):
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
    target = "warnings after a load ≤ 5 s at 10M (issue 15)"
    older = ("# An older run\n\n| | |\n| --- | --- |\n| date | 2026-11-23 17:57 |\n\n"
             "## Summary against the targets\n\n| target | measured | verdict |\n"
             f"| --- | --- | --- |\n| {target} | stale figures | met |\n\n")
    out.write_text(f"{older}{report.HAND_MARKER}\n\n{hand}", encoding="utf-8")
    # the report is written after every size: each write compares with the report the
    # run started from, never with its own partial one
    compared = []
    real_write = report.write
    monkeypatch.setattr(report, "write", lambda results, path, previous=None: (
        compared.append(previous), real_write(results, path, previous))[1])
    assert main(args) == 0
    assert compared and all(
        c == ("2026-11-23 17:57", {target: "stale figures"}) for c in compared), compared
    text = out.read_text(encoding="utf-8")
    assert "# An older run" not in text and text.endswith(f"{report.HAND_MARKER}\n\n{hand}")
    assert f"| {target} |" in text and "previous run (2026-11-23 17:57) |" in text
    for heading in (
        "## Machine and run",
        "## Load:",
        "### Whole processes",
        "## Update: 1,000 tickets into 20,000",
        "tickets, standby ready, merging |",
        "A center's regular update, measured the same way",
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
    # the CSV download is measured as a stream: first rows, then the whole stream
    results = json.loads((tmp_path / "work" / "results.json").read_text())
    (batches,) = [
        f for f in results["sizes"][0]["serve"]["functions"]
        if f["function"] == "ticket_batches"
    ]
    assert batches["owner"] == "download start" and batches["target_ms"] == 150
    assert set(batches["stream"]) >= {"p50", "p95", "rows_median", "rows_max",
                                      "rows_per_s"}
    assert batches["stream"]["rows_max"] > 0
    assert "| downloads start ≤ 150 ms p95 at 10M |" in text
    assert "### Streamed downloads" in text
    # every wall and explorer query is timed, the alarm strip, the breakdown and the
    # warnings explorer included: none is skipped for a parameter the harness lacks
    functions = results["sizes"][0]["serve"]["functions"]
    skipped = [f"{f['module']}.{f['function']}: {f['skipped']}" for f in functions
               if f["owner"] in ("wall view", "explorer callback") and "skipped" in f]
    assert skipped == []
    timed = {f"{f['module']}.{f['function']}" for f in functions if "p95" in f}
    assert {"wall.alarm_data", "wall.wall_view_data(view=map)",
            "explore.ticket_measure_breakdown", "warnings.warning_list"} <= timed
    # warnings are computed after generation, as after a load, and judged at ≤ 5 s
    assert results["sizes"][0]["build"]["warnings_seconds"] > 0
    assert "| warnings after a load ≤ 5 s at 10M (issue 15) |" in text


def _clock(monkeypatch):
    """A fake perf_counter that moves one second per record batch produced."""
    now = [0.0]
    monkeypatch.setattr(querybench.time, "perf_counter", lambda: now[0])

    def batches(n):
        for i in range(n):
            now[0] += 1
            yield pa.record_batch({"x": list(range(10 * i, 10 * i + 10))})

    return batches


def test_timed_call__a_stream_answers_with_its_first_batch(monkeypatch):
    batches = _clock(monkeypatch)
    schema = pa.schema([("x", pa.int64())])

    def stream(con, n):
        return pa.RecordBatchReader.from_batches(schema, batches(n))

    assert querybench.timed_call(stream, None, {"n": 3}) == (1.0, 3.0, 30)
    assert querybench.timed_call(stream, None, {"n": 0}) == (0.0, 0.0, 0)
    table = pa.table({"x": [1, 2]})
    assert querybench.timed_call(lambda con: table, None, {}) == (0.0, None, 2)


def _size(label, tickets, functions):
    return {
        "label": label,
        "tickets": tickets,
        "serve": {"functions": functions, "baseline_sql": {"q": {"p95": 1.0}}},
        "pandas": {"queries": {"q": {"p95": 10.0}}},
    }


def _fn(name, owner, p95, stream_p95=None):
    f = {"module": "explore", "function": name, "owner": owner, "p50": p95,
         "p95": p95, "target_ms": 150, "used_by": []}
    if stream_p95 is not None:
        f["stream"] = {"p50": stream_p95, "p95": stream_p95, "rows_median": 1000,
                       "rows_max": 400_000, "rows_per_s": 1e6}
    return f


def test_report__downloads_judged_by_first_rows_not_the_whole_stream():
    def results(first_ms):
        return {"sizes": [
            _size("1M", 1_000_000, [_fn("ticket_page", "explorer callback", 20),
                                    _fn("ticket_batches", "download start", 30, 300)]),
            _size("10M", 10_000_000, [_fn("ticket_page", "explorer callback", 25),
                                      _fn("ticket_batches", "download start", first_ms,
                                          3000)]),
        ]}

    rows = "\n".join(report._summary(results(60)))
    assert "| explorer callbacks ≤ 150 ms p95 at 10M | slowest at 10M: " \
           "`explore.ticket_page` 25.0 ms | met |" in rows
    assert "| downloads start ≤ 150 ms p95 at 10M | slowest at 10M: " \
           "`explore.ticket_batches` 60.0 ms to the first rows | met |" in rows
    # the whole stream grew 10×, its first rows 2×: the growth verdict holds
    assert "2.0× (worst, `explore.ticket_batches`); 0 of 2 queries" in rows
    assert "far less than 10×" in rows and "| **missed** |" not in rows
    missed = "\n".join(report._summary(results(200)))
    assert "`explore.ticket_batches` 200 ms to the first rows | **missed** |" in missed
    table = report._streams_table(results(60)["sizes"])
    assert table[-1] == ("| `explore.ticket_batches` | 10M | 60.0 / 60.0 | "
                         "3,000 / 3,000 | 1,000 / 400,000 | 1,000,000 |")


def test_warnings_quality__reports_false_warnings_and_recall_per_size():
    from benchmarks import warnings_quality

    text = warnings_quality.run(seed=1, n_surges=6, eval_from=dt.date(2025, 9, 20),
                                end=dt.date(2025, 10, 20))
    assert "| clean, 2 months |" in text and "National Day months" in text
    sizes = [line.split("|")[1].strip() for line in text.splitlines()
             if line.startswith("| ") and "×" in line.split("|")[1]]
    assert sizes == ["1.5×", "2×", "3×", "5×"]


def test_warnings_quality__targets_across_seeds_pool_the_surges_and_count_seeds_as_samples():
    from benchmarks import warnings_quality as wq

    # two seeds of 10 surges each, 9 and 8 found: 17 of 20; the interval from the
    # seeds' spread (ratio estimator, t with 1 degree of freedom: 12.706 x 0.05)
    recall, low, high = wq._pooled([9, 8], [10, 10])
    assert recall == 0.85
    assert (round(low, 3), round(high, 3)) == (0.215, 1.485)
    assert wq._seeds("15,1,100-102") == [15, 1, 100, 101, 102]

    window = {"n_surges": 6, "eval_from": dt.date(2025, 9, 20), "end": dt.date(2025, 10, 20)}
    evaluations = [wq.evaluate(seed, **window) for seed in (1, 2)]
    text = wq.across(evaluations)
    threes = [ev.size(3.0) for ev in evaluations]
    found, n = sum(r.found_10 for r in threes), sum(r.surges_10 for r in threes)
    (pooled,) = [line for line in text.splitlines() if line.startswith("| all 2 |")]
    assert f"{found / n:.3f} ({found} of {n};" in pooled
    seed_rows = [line.split("|")[1].strip() for line in text.splitlines()
                 if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert seed_rows == ["1", "2"]
    below = [str(ev.seed) for ev, r in zip(evaluations, threes) if r.found_10 / r.surges_10 < 0.9]
    assert f"under 0.9: {', '.join(below) or 'none'}." in text


def test_report__summary_keeps_the_previous_runs_figures():
    def results(p95):
        return {"sizes": [_size("10M", 10_000_000,
                                [_fn("ticket_page", "explorer callback", p95)])]}

    earlier = "\n".join(["| | |", "| --- | --- |", "| date | 2026-11-23 17:57 |", "",
                         *report._summary(results(130))])
    date, measured = report.previous_summary(earlier)
    assert date == "2026-11-23 17:57"
    rows = report._with_previous(report._summary(results(40)), (date, measured))
    assert "| target | measured | verdict | previous run (2026-11-23 17:57) |" in rows
    assert ("| explorer callbacks ≤ 150 ms p95 at 10M | slowest at 10M: "
            "`explore.ticket_page` 40.0 ms | met | slowest at 10M: "
            "`explore.ticket_page` 130 ms |") in rows
    # a first report has nothing to compare with
    assert report._with_previous(report._summary(results(40)), ("", {})) == \
        report._summary(results(40))
