"""Export reports against a warehouse built by the real loader: each report's rows (the
query function and the CSV file) equal this test's own SQL over the tickets table."""

from __future__ import annotations

import csv
import datetime as dt
import statistics
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from pipelines import exports, warehouse
from pipelines.loader import load_files
from pipelines.queries import exports as q
from tests.factories import ticket_row, write_csv

AS_OF = dt.datetime(2025, 10, 20, 12, 0)
FROM, TO = dt.date(2025, 9, 1), dt.date(2025, 9, 30)


def _rows() -> list[dict]:
    t = ticket_row
    return [
        t(),  # level 1, closed same day, satisfied
        t(community="=SUM(A1)", category="+86 热线", grid="@网格", compound="-3号院"),
        t(level=2, closed_at="2025-09-28 10:00:00", satisfaction="unsatisfied",
          responded_at="2025-09-23 20:00:00", escalated_at="2025-09-23 16:00:00"),
        t(level=2, closed_at="", responded_at="", satisfaction="", updated_at=""),
        # level 3 over the National Day holiday (2025-10-01..08)
        t(level=3, reported_at="2025-09-29 09:00:00", accepted_at="2025-09-29 09:30:00",
          responded_at="2025-09-29 12:00:00", closed_at="2025-10-10 09:00:00",
          satisfaction=""),
        t(level=3, reported_at="2025-09-30 23:59:59", accepted_at="", responded_at="",
          closed_at="", satisfaction="", updated_at=""),
        # closed after AS_OF: open as of the export
        t(level=1, reported_at="2025-09-10 08:00:00", accepted_at="",
          responded_at="2025-09-10 09:00:00", closed_at="2025-10-25 09:00:00"),
        t(community="龙湖社区·𠮷", level=4, reported_at="2025-09-15 07:00:00",
          accepted_at="", responded_at="2025-09-15 17:30:00", closed_at="",
          satisfaction=""),
        t(community="龙湖社区·𠮷", level=1, reported_at="2025-09-15 07:00:00",
          accepted_at="", responded_at="2025-09-15 08:30:00",
          closed_at="2025-09-15 09:00:00"),
        # outside the period
        t(reported_at="2025-08-31 23:59:59", accepted_at="", responded_at="", closed_at=""),
        t(reported_at="2025-10-01 00:00:00", accepted_at="", responded_at="", closed_at=""),
    ]


@pytest.fixture
def loaded(make_settings, tmp_path):
    settings = make_settings()
    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", _rows())],
               progress=False)
    con = warehouse.connect_read_only(settings.db_path)
    yield settings, con.cursor()
    con.close()


def _tickets(cur) -> list[dict]:
    found = cur.execute(
        """
        select * from tickets
        where cast(reported_at as date) between $f and $t
        """, {"f": FROM, "t": TO}).fetchall()
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in found]


def _rate(num: int, den: int) -> Decimal | None:
    if not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _csv(settings, report: str, out: Path, **filters) -> list[dict]:
    job = exports.ExportJob(report=report, period=exports.Period.between(FROM, TO),
                            out=out, file="{report}.csv", filters=filters)
    [record] = exports.run_job(settings, job, as_of=AS_OF)
    assert record.status == "ok", record.message
    with open(record.output_path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _unescape(text: str) -> str:
    return text[1:] if text[:2] in ("'=", "'+", "'-", "'@") else text


def _as_text(value) -> str:
    return "" if value is None else str(value)


def _check_file(rows: list[dict], expected: list[dict]) -> None:
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected):
        assert {k: _unescape(v) for k, v in got.items()} == {
            k: _as_text(v) for k, v in want.items()}


def test_closure_rates__equal_own_sql(loaded, tmp_path):
    settings, cur = loaded
    groups: dict[tuple, list[dict]] = {}
    for t in _tickets(cur):
        groups.setdefault((t["community"], t["level"]), []).append(t)
    expected = []
    for (community, level), ts in sorted(groups.items()):
        closed = [t for t in ts if t["closed_at"] and t["closed_at"] <= AS_OF]
        on_time = [t for t in closed if t["closed_at"] <= t["deadline_at"]]
        overdue = [t for t in ts if (not t["closed_at"] or t["closed_at"] > AS_OF)
                   and t["deadline_at"] < AS_OF]
        rated = [t for t in ts if t["satisfaction"] is not None]
        satisfied = [t for t in ts if t["satisfaction"] == "satisfied"]
        expected.append(dict(
            period="2025-09-01/2025-09-30", community=community, level=level,
            tickets=len(ts), closed=len(closed), closed_on_time=len(on_time),
            overdue=len(overdue), closure_rate=_rate(len(closed), len(ts)),
            on_time_rate=_rate(len(on_time), len(closed) + len(overdue)), rated=len(rated),
            satisfied=len(satisfied), satisfaction_rate=_rate(len(satisfied), len(rated))))
    got = q.closure_rates(cur, date_from=FROM, date_to=TO, as_of=AS_OF).to_pylist()
    assert got == expected
    assert any(r["closed"] < r["tickets"] for r in got)  # the fixture exercises it
    assert any(r["closed_on_time"] < r["closed"] for r in got)
    assert any(r["overdue"] for r in got)  # open and late counts against on time
    _check_file(_csv(settings, "closure_rates", tmp_path / "out"), expected)


def test_incident_levels__equal_own_sql(loaded, tmp_path):
    settings, cur = loaded
    expected = [
        dict(period="2025-09-01/2025-09-30", community=c, category=k, level=lv, tickets=n)
        for c, k, lv, n in cur.execute(
            """
            select community, category, level, count(*) from tickets
            where cast(reported_at as date) between $f and $t
            group by all order by all
            """, {"f": FROM, "t": TO}).fetchall()
    ]
    got = q.incident_levels(cur, date_from=FROM, date_to=TO, as_of=AS_OF).to_pylist()
    assert got == expected
    _check_file(_csv(settings, "incident_levels", tmp_path / "out"), expected)


def test_overdue_tickets__equal_own_sql(loaded, tmp_path):
    settings, cur = loaded
    expected = sorted(
        (dict(ticket_id=t["ticket_id"], community=t["community"], grid=t["grid"],
              category=t["category"], level=t["level"], reported_at=t["reported_at"],
              deadline=t["due_on"], days_overdue=(AS_OF.date() - t["due_on"]).days)
         for t in _tickets(cur)
         if (t["closed_at"] is None or t["closed_at"] > AS_OF)
         and t["deadline_at"] is not None and AS_OF > t["deadline_at"]),
        key=lambda r: (-r["days_overdue"], r["community"], r["ticket_id"]))
    got = q.overdue_tickets(cur, date_from=FROM, date_to=TO, as_of=AS_OF).to_pylist()
    assert got == expected
    assert len(got) >= 3
    _check_file(_csv(settings, "overdue_tickets", tmp_path / "out"), expected)


def _quantile(values: list[float], p: float) -> Decimal | None:
    if not values:
        return None
    if len(values) == 1:
        x = values[0]
    else:
        x = statistics.quantiles(values, n=100, method="inclusive")[int(p * 100) - 1]
    return Decimal(repr(round(x, 2))).quantize(Decimal("0.01"))


def test_response_times__equal_own_sql(loaded, tmp_path):
    settings, cur = loaded
    limit = dt.timedelta(hours=settings.response_hours)
    groups: dict[tuple, list[dict]] = {}
    for t in _tickets(cur):
        groups.setdefault((t["community"], t["level"]), []).append(t)
    expected = []
    for (community, level), ts in sorted(groups.items()):
        respond = [(t["responded_at"] - t["reported_at"]).total_seconds() / 3600
                   for t in ts if t["responded_at"] and t["responded_at"] <= AS_OF]
        close = [(t["closed_at"] - t["reported_at"]).total_seconds() / 3600
                 for t in ts if t["closed_at"] and t["closed_at"] <= AS_OF]
        expected.append(dict(
            period="2025-09-01/2025-09-30", community=community, level=level,
            tickets=len(ts),
            respond_median_hours=_quantile(respond, 0.5),
            respond_p90_hours=_quantile(respond, 0.9),
            close_median_hours=_quantile(close, 0.5),
            close_p90_hours=_quantile(close, 0.9),
            late_responses=sum(1 for t in ts if t["responded_at"]
                               and t["responded_at"] - t["reported_at"] > limit),
            unanswered_over_limit=sum(1 for t in ts if t["responded_at"] is None
                                      and AS_OF - t["reported_at"] > limit),
            escalations=sum(1 for t in ts if t["escalated_at"] is not None)))
    got = q.response_times(cur, date_from=FROM, date_to=TO, as_of=AS_OF,
                           response_hours=settings.response_hours).to_pylist()
    assert got == expected
    assert sum(r["late_responses"] for r in got) >= 2
    _check_file(_csv(settings, "response_times", tmp_path / "out"), expected)


def test_reports__community_filter_is_a_subset(loaded):
    _, cur = loaded
    for name in q.TICKET_REPORTS:  # people reports: tests/data/test_export_people_reports.py
        kw = dict(date_from=FROM, date_to=TO, as_of=AS_OF)
        if "response_hours" in q.REPORTS[name].params:
            kw["response_hours"] = 6
        everything = q.report_table(cur, name, **kw).to_pylist()
        only = q.report_table(cur, name, community="龙塔社区", **kw).to_pylist()
        assert only and only == [r for r in everything if r["community"] == "龙塔社区"]


def test_export_split__one_file_per_community_with_escaped_names(loaded, tmp_path):
    settings, _ = loaded
    job = exports.ExportJob(report="closure_rates", period=exports.Period.between(FROM, TO),
                            out=tmp_path / "split", file="{report}_{period}_{community}.csv",
                            split="community")
    records = exports.run_job(settings, job, as_of=AS_OF)
    names = sorted(Path(r.output_path).name for r in records)
    assert names == ["closure_rates_2025-09_=SUM(A1).csv",
                     "closure_rates_2025-09_龙塔社区.csv",
                     "closure_rates_2025-09_龙湖社区·𠮷.csv"]
    text = (tmp_path / "split" / "closure_rates_2025-09_=SUM(A1).csv").read_text("utf-8-sig")
    assert ",'=SUM(A1),1," in text
