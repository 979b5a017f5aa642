"""The `warnings` export: the warnings active in the period, most severe first, with
exact evidence and their 口径, filtered by community; the same rows the table holds."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from pipelines import exports, warnings_engine
from pipelines.loader import load_files
from tests.factories import ticket_row, write_csv

T1 = dt.datetime(2025, 9, 24, 8, 0)
T2 = dt.datetime(2025, 9, 30, 8, 0)


def _csv(settings, tmp_path, date_from, date_to, **filters) -> list[dict]:
    job = exports.ExportJob(report="warnings",
                            period=exports.Period.between(date_from, date_to),
                            out=tmp_path / "out", file="{report}.csv", filters=filters)
    [record] = exports.run_job(settings, job, as_of=T2)
    assert record.status == "ok", record.message
    with open(record.output_path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def loaded(settings, tmp_path, monkeypatch):
    """Two loads: T-A (level 4, 龙塔社区) open throughout; T-B (level 4, 枫林社区)
    closed by the second load, so resolved at T2."""
    a = ticket_row(ticket_id="T-A", level="4", closed_at="", updated_at="")
    b = ticket_row(ticket_id="T-B", level="4", closed_at="", updated_at="",
                   community="枫林社区", grid="枫林社区第1网格", compound="枫林绿洲")
    overdue = [ticket_row(closed_at="", updated_at="", reported_at="2025-09-01 09:00:00")
               for _ in range(11)]
    for at, rows, name in ((T1, [a, b, *overdue], "1"),
                           (T2, [a, {**b, "closed_at": "2025-09-29 08:00:00",
                                     "updated_at": "2025-09-29 08:00:00"}], "2")):
        monkeypatch.setattr(warnings_engine, "local_now", lambda s, at=at: at)
        load_files(settings, "tickets", [write_csv(tmp_path / f"{name}.csv", rows)])
    return settings


def test_export_warnings__active_in_the_period_most_severe_first(loaded, tmp_path):
    rows = _csv(loaded, tmp_path, dt.date(2025, 9, 24), dt.date(2025, 9, 30))
    level4 = [(r["subject"], r["status"], r["severity"]) for r in rows
              if r["rule_id"] == "level4_open"]
    assert sorted(level4) == [("T-A", "ongoing", "critical"),
                              ("T-B", "resolved", "critical")]
    assert [r["severity"] for r in rows] == sorted(
        (r["severity"] for r in rows), key=["critical", "high", "medium"].index)
    overdue = next(r for r in rows if r["rule_id"] == "overdue_open")
    assert (overdue["observed"], overdue["threshold"]) == ("11.00", "10.00")
    assert "deadline_at" in overdue["definition"] and "count = 10" in overdue["definition"]


def test_export_warnings__a_period_after_a_resolution_leaves_it_out(loaded, tmp_path):
    rows = _csv(loaded, tmp_path, dt.date(2025, 10, 1), dt.date(2025, 10, 31))
    assert "T-B" not in {r["subject"] for r in rows}
    assert "T-A" in {r["subject"] for r in rows}


def test_export_warnings__filtered_by_community(loaded, tmp_path):
    rows = _csv(loaded, tmp_path, dt.date(2025, 9, 24), dt.date(2025, 9, 30),
                community="枫林社区")
    assert {r["community"] for r in rows} == {"枫林社区"}
    assert [r["subject"] for r in rows if r["rule_id"] == "level4_open"] == ["T-B"]
