"""Ledger and opening balances: exact decimals end to end, quarantine of bad amounts,
the monthly statement and its reconciliation checks, and adjustments to published months.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.bootstrap import status_text
from pipelines.loader import load_files
from pipelines.settings import local_now
from tests.accounting import assert_accounted
from tests.factories import ledger_row, write_csv

CHECKS = Path(__file__).resolve().parents[2] / "pipelines" / "sql" / "checks"
LEDGER_CHECKS = sorted(CHECKS.glob("check_ledger_*.sql"))


def rows(settings, sql: str, **params) -> list[tuple]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def load(settings, tmp_path, source: str, data: list[dict], name: str | None = None):
    path = write_csv(tmp_path / f"{name or source}.csv", data)
    (report,) = load_files(settings, source, [path])
    assert_accounted(settings, [report], [path])
    return report


def violations(settings, check: Path) -> list[tuple]:
    return rows(settings, check.read_text(encoding="utf-8"))


def opening(compound="金桂苑", month="2025-01", balance="1000.00") -> dict:
    return {"compound": compound, "month": month, "opening_balance": balance}


@pytest.mark.parametrize(("amount", "reason"), [
    ("12.345", "at most 2 decimal places"),
    ("-5.00", "non-negative"),
    ("abc", "amount"),
    ("1,000.00", "amount"),
    ("", "missing amount"),
])
def test_load_ledger__quarantines_bad_amounts(settings, tmp_path, amount, reason):
    report = load(settings, tmp_path, "ledger", [ledger_row(), ledger_row(amount=amount)])
    assert (report.inserted, report.quarantined) == (1, 1)
    ((why,),) = rows(settings, "select reason from quarantine")
    assert reason in why


def test_load_ledger__amounts_stored_exactly_as_decimal(settings, tmp_path):
    entries = [ledger_row(amount="373.20", direction="支出"), ledger_row(amount="0.1"),
               ledger_row(amount="7"), ledger_row(amount="99999999999999.99")]
    load(settings, tmp_path, "ledger", entries)
    ((kind,),) = rows(settings, "select data_type from information_schema.columns "
                                "where table_name = 'ledger_entries' "
                                "and column_name = 'amount_yuan'")
    assert kind == "DECIMAL(18,2)"
    got = sorted(a for (a,) in rows(settings, "select amount_yuan from ledger_entries"))
    assert got == [Decimal("0.10"), Decimal("7.00"), Decimal("373.20"),
                   Decimal("99999999999999.99")]
    assert rows(settings, "select direction from ledger_entries "
                          "where amount_yuan = 373.20") == [("expense",)]


def test_load_ledger__a_million_dimes_sum_to_exactly_100000(settings, tmp_path):
    path = tmp_path / "dimes.csv"
    duckdb.sql(
        """
        copy (
            select 'L' || lpad(i::varchar, 7, '0') as entry_id, '金桂苑' as compound,
                date '2025-01-01' + (i % 28)::integer as booked_on,
                'income' as direction, '停车费' as category, '0.10' as amount,
                '' as counterparty, '' as voucher_no, '' as note
            from range(1000000) as t(i)
        ) to $path (header)
        """,
        params={"path": str(path)},
    )
    started = time.perf_counter()
    (report,) = load_files(settings, "ledger", [path])
    elapsed = time.perf_counter() - started
    assert report.inserted == 1_000_000
    assert rows(settings, "select sum(amount_yuan)::varchar from ledger_entries") == [
        ("100000.00",)]
    assert rows(settings, "select income_yuan, closing_yuan from ledger_monthly "
                          "where month = '2025-01-01'") == [
        (Decimal("100000.00"), Decimal("100000.00"))]
    print(f"1,000,000 ledger entries loaded in {elapsed:.1f} s")


def test_ledger_monthly__each_closing_is_the_next_opening(settings, tmp_path):
    load(settings, tmp_path, "ledger_balances", [opening(balance="5000.00")])
    load(settings, tmp_path, "ledger", [
        ledger_row(booked_on="2025-01-05", amount="1000.00"),
        ledger_row(booked_on="2025-01-20", direction="expense", amount="373.20"),
        # February: expenses only, no income
        ledger_row(booked_on="2025-02-10", direction="expense", amount="10.05"),
        ledger_row(booked_on="2025-04-01", amount="0.01"),
    ])
    got = rows(settings, """
        select month, opening_yuan, income_yuan, expense_yuan, closing_yuan
        from ledger_monthly where month < '2025-05-01' order by month""")
    assert got == [
        (dt.date(2025, 1, 1), Decimal("5000.00"), Decimal("1000.00"), Decimal("373.20"),
         Decimal("5626.80")),
        (dt.date(2025, 2, 1), Decimal("5626.80"), Decimal("0.00"), Decimal("10.05"),
         Decimal("5616.75")),
        (dt.date(2025, 3, 1), Decimal("5616.75"), Decimal("0.00"), Decimal("0.00"),
         Decimal("5616.75")),
        (dt.date(2025, 4, 1), Decimal("5616.75"), Decimal("0.01"), Decimal("0.00"),
         Decimal("5616.76")),
    ]
    # the statement runs on to the current month, every month published once due
    last_month, = rows(settings, "select max(month) from ledger_monthly")[0]
    assert last_month == local_now(settings).date().replace(day=1)
    for check in LEDGER_CHECKS:
        assert violations(settings, check) == [], check.name


def test_ledger_checks__report_every_break(settings, tmp_path):
    load(settings, tmp_path, "ledger_balances", [opening(balance="100.00")])
    load(settings, tmp_path, "ledger", [
        ledger_row(booked_on="2024-12-31", amount="1.00"),  # before the opening month
        ledger_row(booked_on="2025-01-05", amount="1.00"),
        ledger_row(booked_on="2025-03-05", amount="1.00"),
    ])
    con = duckdb.connect(str(settings.db_path))
    con.execute("update ledger_monthly set closing_yuan = closing_yuan + 0.01 "
                "where month = '2025-02-01'")
    con.close()
    found = {c.stem: violations(settings, c) for c in LEDGER_CHECKS}
    assert len(found["check_ledger_monthly_arithmetic"]) == 1
    (brk,) = found["check_ledger_monthly_continuity"]
    assert brk[1] == dt.date(2025, 2, 1)
    assert len(found["check_ledger_published_unchanged"]) == 1
    assert len(found["check_ledger_entries_before_opening"]) == 1
    assert found["check_ledger_journal_matches_entries"] == []


def test_load_ledger__late_entry_in_published_month_is_an_adjustment(settings, tmp_path):
    load(settings, tmp_path, "ledger_balances", [opening(balance="1000.00")])
    rent = ledger_row(entry_id="L1", booked_on="2025-01-05", amount="1000.00")
    load(settings, tmp_path, "ledger", [rent], "first")
    january = "select opening_yuan, income_yuan, expense_yuan, closing_yuan, " \
              "is_published from ledger_monthly where month = '2025-01-01'"
    before = rows(settings, january)
    assert before == [(Decimal("1000.00"), Decimal("1000.00"), Decimal("0.00"),
                       Decimal("2000.00"), True)]
    assert rows(settings, "select is_adjustment from ledger_entries") == [(False,)]

    late = ledger_row(entry_id="L2", booked_on="2025-01-20", direction="expense",
                      amount="373.20")
    corrected = {**rent, "amount": "1100.00"}
    report = load(settings, tmp_path, "ledger", [corrected, late], "second")
    assert (report.inserted, report.updated) == (1, 1)
    assert any("adjustment" in w for w in report.warnings)

    assert rows(settings, january) == before  # not silently rewritten
    today = local_now(settings).date()
    assert sorted(rows(settings, "select entry_id, is_adjustment, adjusted_on "
                                 "from ledger_entries")) == [
        ("L1", True, today), ("L2", True, today)]
    ((adjustment, count, closing),) = rows(settings, """
        select adjustment_yuan, adjustment_count, closing_yuan from ledger_monthly
        where month = $m""", m=today.replace(day=1))
    assert (adjustment, count) == (Decimal("-273.20"), 2)  # +100.00 - 373.20
    assert closing == Decimal("1726.80")
    for check in LEDGER_CHECKS:
        assert violations(settings, check) == [], check.name
    text = status_text(settings)
    assert "ledger adjustments" in text and "L2" in text


def test_load_ledger__entry_in_unpublished_month_is_not_an_adjustment(
        make_settings, tmp_path):
    settings = make_settings(ledger_publish_days=100_000)  # nothing is published yet
    load(settings, tmp_path, "ledger", [ledger_row(booked_on="2025-01-05")], "first")
    load(settings, tmp_path, "ledger", [ledger_row(booked_on="2025-01-20")], "second")
    assert rows(settings, "select bool_or(is_adjustment) from ledger_entries") == [(False,)]
    assert rows(settings, "select income_yuan, adjustment_yuan from ledger_monthly "
                          "where month = '2025-01-01'") == [
        (Decimal("2000.00"), Decimal("0.00"))]
    assert rows(settings, "select count(*) from ledger_publications") == [(0,)]


def test_load_ledger__history_loaded_year_by_year_makes_no_adjustments(
        settings, tmp_path):
    load(settings, tmp_path, "ledger_balances", [opening(month="2024-01")])
    load(settings, tmp_path, "ledger", [ledger_row(booked_on="2024-06-05")], "y2024")
    load(settings, tmp_path, "ledger", [ledger_row(booked_on="2025-06-05")], "y2025")
    assert rows(settings, "select bool_or(is_adjustment) from ledger_entries") == [(False,)]


def test_load_ledger_balances__quarantines_bad_month(settings, tmp_path):
    report = load(settings, tmp_path, "ledger_balances", [
        opening(), opening(compound="翠竹园", month="January")])
    assert (report.inserted, report.quarantined) == (1, 1)
    ((why,),) = rows(settings, "select reason from quarantine")
    assert "is not a month" in why
