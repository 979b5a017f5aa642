"""The ticket load's promises: nothing good is lost, nothing bad gets in, and it adds up."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.__main__ import main as cli
from pipelines.loader import LoadError, load_files
from pipelines.privacy import mask_sql
from tests.accounting import assert_accounted
from tests.factories import TEST_SECRET, ticket_row, write_csv

ROOT = Path(__file__).resolve().parents[2]


def rows_of(settings, sql: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def quarantine_reasons(settings) -> dict[int, str]:
    return dict(rows_of(settings, "select line_no, reason from quarantine order by line_no"))


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_load_tickets__good_rows_load_and_report_adds_up(settings, tmp_path):
    path = write_csv(tmp_path / "t.csv", [ticket_row(ticket_id="A"), ticket_row(ticket_id="B")])
    (report,) = load_files(settings, "tickets", [path])
    assert (report.rows_read, report.inserted, report.quarantined) == (2, 2, 0)
    assert_accounted(settings, [report], [path])
    assert rows_of(settings, "select ticket_id, level, community from tickets order by 1") == [
        ("A", 1, "龙塔社区"), ("B", 1, "龙塔社区")]
    logged = rows_of(settings, "select rows_read, inserted, status, file_sha256 from load_log")
    assert logged == [(2, 2, "ok", file_digest(path))]


def test_load_tickets__report_matches_an_independent_count_of_every_bucket(settings, tmp_path):
    # Every bucket at once, checked only against counts the loader did not make (csv
    # module, warehouse rows of the load, repeated keys): adds_up() alone would pass a
    # loader that filed duplicates as unchanged, or dropped rows it could not split.
    first = write_csv(tmp_path / "a.csv", [
        ticket_row(ticket_id="A"), ticket_row(ticket_id="B"), ticket_row(ticket_id="B"),
        ticket_row(ticket_id="C", level="9")])
    lines = first.read_text(encoding="utf-8").splitlines()
    first.write_text("\n".join(lines + [lines[1] + ",extra,cells"]) + "\n", encoding="utf-8")
    (report,) = load_files(settings, "tickets", [first])
    assert_accounted(settings, [report], [first])
    second = write_csv(tmp_path / "b.csv", [
        ticket_row(ticket_id="A"), ticket_row(ticket_id="B", category="物业维修"),
        ticket_row(ticket_id="D"), ticket_row(ticket_id="D")])
    (report,) = load_files(settings, "tickets", [second])
    assert_accounted(settings, [report], [second])
    assert (report.unchanged, report.updated, report.inserted, report.duplicates) == \
        (1, 1, 1, 1)


@pytest.mark.parametrize("field", ["ticket_id", "reported_at", "level", "category", "community"])
def test_load_tickets__missing_required_field_is_quarantined(settings, tmp_path, field):
    path = write_csv(tmp_path / "t.csv", [ticket_row(), ticket_row(**{field: ""})])
    (report,) = load_files(settings, "tickets", [path])
    assert (report.inserted, report.quarantined) == (1, 1)
    assert quarantine_reasons(settings) == {3: f"missing {field}"}


@pytest.mark.parametrize("field", ["reported_at", "accepted_at", "closed_at", "updated_at"])
def test_load_tickets__unparseable_timestamp_is_quarantined(settings, tmp_path, field):
    path = write_csv(tmp_path / "t.csv", [ticket_row(**{field: "2025-13-45 99:00"})])
    (report,) = load_files(settings, "tickets", [path])
    assert report.quarantined == 1
    assert quarantine_reasons(settings)[2] == (
        f'{field}: "2025-13-45 99:00" is not a date and time')


def test_load_tickets__other_timestamp_formats_load_beside_iso_ones(settings, tmp_path):
    # ISO 8601 is parsed by the CSV reader; any other format sends the file through text
    # parsing, where the Chinese office formats are tried, and line numbers still hold.
    rows = [ticket_row(ticket_id="ISO"),
            ticket_row(ticket_id="CN", reported_at="2025年09月23日 09:00",
                       accepted_at="20250923090500"),
            ticket_row(ticket_id="BAD", closed_at="2025-13-45 99:00")]
    (report,) = load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", rows)])
    assert (report.inserted, report.quarantined) == (2, 1)
    assert rows_of(settings, "select ticket_id, reported_at, accepted_at from tickets "
                             "order by 1") == [
        ("CN", dt.datetime(2025, 9, 23, 9, 0), dt.datetime(2025, 9, 23, 9, 5)),
        ("ISO", dt.datetime(2025, 9, 23, 9, 0), dt.datetime(2025, 9, 23, 9, 5))]
    assert quarantine_reasons(settings) == {
        4: 'closed_at: "2025-13-45 99:00" is not a date and time'}


@pytest.mark.parametrize("level", ["0", "5", "urgent", "-1"])
def test_load_tickets__level_outside_1_to_4_is_quarantined(settings, tmp_path, level):
    path = write_csv(tmp_path / "t.csv", [ticket_row(level=level)])
    load_files(settings, "tickets", [path])
    assert "level" in quarantine_reasons(settings)[2]
    assert rows_of(settings, "select count(*) from tickets") == [(0,)]


@pytest.mark.parametrize("field", ["accepted_at", "responded_at", "escalated_at", "closed_at"])
def test_load_tickets__time_before_reported_at_is_quarantined(settings, tmp_path, field):
    path = write_csv(tmp_path / "t.csv", [ticket_row(**{field: "2025-09-22 08:00:00"})])
    load_files(settings, "tickets", [path])
    assert quarantine_reasons(settings) == {2: f"{field} is earlier than reported_at"}


def test_load_tickets__quarantine_keeps_file_line_raw_row_and_all_reasons(settings, tmp_path):
    path = write_csv(tmp_path / "t.csv", [
        ticket_row(), ticket_row(category="", closed_at="2025-01-01 00:00:00",
                                 description="联系电话13812345678")])
    load_files(settings, "tickets", [path])
    ((source_file, line, raw, reason),) = rows_of(
        settings, "select source_file, line_no, raw_row, reason from quarantine")
    assert (source_file, line) == (str(path), 3)
    assert reason == "missing category; closed_at is earlier than reported_at"
    assert "2025-01-01 00:00:00" in raw and "13812345678" not in raw


def test_load_tickets__malformed_csv_rows_are_quarantined_with_their_lines(settings, tmp_path):
    good = write_csv(tmp_path / "t.csv", [ticket_row(ticket_id=f"G{i}") for i in range(4)])
    lines = good.read_text(encoding="utf-8").splitlines()
    lines.insert(2, lines[1] + ",extra,cells")  # becomes line 3
    lines.append(ticket_row(ticket_id="Q", level="9")["ticket_id"] + ",2025-09-23,9,a,b")
    good.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (report,) = load_files(settings, "tickets", [good])
    assert (report.rows_read, report.inserted, report.quarantined) == (6, 4, 2)
    assert_accounted(settings, [report], [good])
    reasons = quarantine_reasons(settings)
    assert reasons[3].startswith("malformed CSV row")
    assert 7 in reasons  # the short row after it keeps its own line number


def test_load_tickets__rows_appended_with_other_line_endings_still_load(settings, tmp_path):
    """An Excel export (CRLF) with rows appended by another program (LF): DuckDB's reader
    refused the whole file ("Error when sniffing file"), losing every good row."""
    made = write_csv(tmp_path / "made.csv", [ticket_row(ticket_id=f"G{i}") for i in range(3)])
    header, *rows = made.read_text(encoding="utf-8").splitlines()
    bad = write_csv(tmp_path / "bad.csv", [ticket_row(ticket_id="Q", level="9")])
    added = [rows[0].replace("G0", "A1"), bad.read_text(encoding="utf-8").splitlines()[1]]
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("utf-8")
                      + ("\n".join(added) + "\n").encode("utf-8"))
    (report,) = load_files(settings, "tickets", [mixed])
    assert (report.rows_read, report.inserted, report.quarantined) == (5, 4, 1)
    assert_accounted(settings, [report], [mixed])
    assert list(quarantine_reasons(settings)) == [6]  # its own line in the file
    assert [r[0] for r in rows_of(settings, "select ticket_id from tickets order by 1")] == [
        "A1", "G0", "G1", "G2"]


def test_load_tickets__quoted_comma_after_the_sniffer_sample_still_loads(settings, tmp_path):
    # The CSV sniffer samples the first rows; a file's first quoted cell may come much later.
    rows = [ticket_row(ticket_id=f"G{i}", description="路灯不亮") for i in range(30_000)]
    rows.append(ticket_row(ticket_id="LATE", description="漏水, 楼道积水"))
    (report,) = load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", rows)])
    assert (report.inserted, report.quarantined) == (30_001, 0)
    assert rows_of(settings, "select description from tickets where ticket_id = 'LATE'") == [
        ("漏水, 楼道积水",)]


def test_load_tickets__malformed_row_of_a_crlf_file_is_kept_as_its_line(settings, tmp_path):
    good = write_csv(tmp_path / "t.csv", [ticket_row(ticket_id="G1")])
    lines = good.read_text(encoding="utf-8").splitlines()
    bad = lines[1].replace("G1", "G2") + ",extra"
    good.write_bytes(("\r\n".join([*lines, bad]) + "\r\n").encode("utf-8"))
    load_files(settings, "tickets", [good])
    assert rows_of(settings, "select line_no, raw_row from quarantine") == [(3, bad)]


def test_load_tickets__exact_duplicate_rows_count_once(settings, tmp_path):
    row = ticket_row(ticket_id="D")
    path = write_csv(tmp_path / "t.csv", [row, row, row])
    (report,) = load_files(settings, "tickets", [path])
    assert (report.inserted, report.duplicates) == (1, 2)
    assert rows_of(settings, "select count(*) from tickets") == [(1,)]


def test_load_tickets__same_id_keeps_latest_updated_at(settings, tmp_path):
    newer = ticket_row(ticket_id="S", closed_at="", updated_at="2025-09-23 12:00:00")
    older = ticket_row(ticket_id="S", closed_at="", updated_at="2025-09-23 10:00:00",
                       category="邻里纠纷")
    path = write_csv(tmp_path / "t.csv", [newer, older])
    (report,) = load_files(settings, "tickets", [path])
    assert (report.inserted, report.duplicates) == (1, 1)
    assert rows_of(settings, "select category from tickets") == [("城市管理",)]


def test_load_tickets__same_id_without_updated_at_keeps_later_row(settings, tmp_path):
    first = ticket_row(ticket_id="S", updated_at="", category="邻里纠纷")
    later = ticket_row(ticket_id="S", updated_at="", category="交通安全")
    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", [first, later])])
    assert rows_of(settings, "select category from tickets") == [("交通安全",)]


def test_load_tickets__reloading_the_same_file_changes_nothing(settings, tmp_path):
    path = write_csv(tmp_path / "t.csv", [ticket_row(), ticket_row(), ticket_row(level="x")])
    load_files(settings, "tickets", [path])
    before = rows_of(settings, "select * exclude (load_id) from tickets order by ticket_id")
    (again,) = load_files(settings, "tickets", [path])
    assert (again.inserted, again.updated, again.unchanged, again.quarantined) == (0, 0, 2, 1)
    assert rows_of(settings, "select * exclude (load_id) from tickets order by ticket_id") == before


def test_load_tickets__later_export_updates_status(settings, tmp_path):
    open_row = ticket_row(ticket_id="U", closed_at="", updated_at="2025-09-23 10:00:00")
    load_files(settings, "tickets", [write_csv(tmp_path / "a.csv", [open_row])])
    closed = dict(open_row, closed_at="2025-09-23 16:00:00", updated_at="2025-09-23 16:00:00")
    (report,) = load_files(settings, "tickets", [write_csv(tmp_path / "b.csv", [closed])])
    assert (report.inserted, report.updated) == (0, 1)
    assert rows_of(settings, "select closed_at from tickets") == [
        (dt.datetime(2025, 9, 23, 16, 0),)]


def test_load_tickets__older_export_does_not_undo_a_newer_state(settings, tmp_path):
    closed = ticket_row(ticket_id="O", updated_at="2025-09-23 16:00:00")
    stale = dict(closed, closed_at="", updated_at="2025-09-23 10:00:00")
    load_files(settings, "tickets", [write_csv(tmp_path / "a.csv", [closed])])
    (report,) = load_files(settings, "tickets", [write_csv(tmp_path / "b.csv", [stale])])
    assert (report.updated, report.unchanged) == (0, 1)
    assert rows_of(settings, "select closed_at is not null from tickets") == [(True,)]


def test_load_tickets__several_files_in_one_load_each_add_up(settings, tmp_path):
    a = write_csv(tmp_path / "a.csv", [ticket_row(ticket_id="X", updated_at="2025-09-23 10:00"),
                                       ticket_row(level="")])
    b = write_csv(tmp_path / "b.csv", [ticket_row(ticket_id="X", updated_at="2025-09-23 11:00"),
                                       ticket_row()])
    reports = load_files(settings, "tickets", [a, b])
    assert [(r.inserted, r.duplicates, r.quarantined) for r in reports] == [(0, 1, 1), (2, 0, 0)]
    assert_accounted(settings, reports, [a, b])
    assert rows_of(settings, "select count(distinct load_id), count(*) from load_log") == [(1, 2)]


def test_load_tickets__gbk_file_is_detected(settings, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [ticket_row(community="望江社区",
                                                       description="楼道灯不亮")], "gbk")
    (report,) = load_files(settings, "tickets", [path])
    assert report.inserted == 1
    assert rows_of(settings, "select community, description from tickets") == [
        ("望江社区", "楼道灯不亮")]


def test_load_tickets__utf8_with_bom_keeps_first_column_name(settings, tmp_path):
    path = write_csv(tmp_path / "bom.csv", [ticket_row(ticket_id="B1")], "utf-8-sig")
    (report,) = load_files(settings, "tickets", [path])
    assert report.inserted == 1
    assert rows_of(settings, "select ticket_id from tickets") == [("B1",)]


def test_load_tickets__xlsx_file_loads_with_excel_dates(settings, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    row = ticket_row(ticket_id="X1")
    sheet.append(list(row))
    values = list(row.values())
    values[1] = dt.datetime(2025, 9, 23, 9, 0)  # a real Excel date cell
    values[2] = 3  # a number cell
    sheet.append(values)
    path = tmp_path / "t.xlsx"
    book.save(path)
    (report,) = load_files(settings, "tickets", [path])
    assert report.inserted == 1
    assert rows_of(settings, "select reported_at, level from tickets") == [
        (dt.datetime(2025, 9, 23, 9, 0), 3)]


def test_load_tickets__parquet_file_loads(settings, tmp_path):
    row = ticket_row(ticket_id="P1")
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({k: [v or None] for k, v in row.items()}), path)
    (report,) = load_files(settings, "tickets", [path])
    assert report.inserted == 1


def test_load_tickets__mapping_renames_parses_defaults_and_maps_values(settings, tmp_path):
    """A 311-style export:

    CASE_ENQUIRY_ID | OPEN_DT                | CLOSED_DT | TYPE   | neighborhood | 等级
    101             | 09/23/2025 09:15:00 AM | (empty)   | Pothole| (empty)      | 二级
    """
    export = tmp_path / "311.csv"
    export.write_text(
        "CASE_ENQUIRY_ID,OPEN_DT,CLOSED_DT,TYPE,neighborhood,等级,Source\n"
        "101,09/23/2025 09:15:00 AM,,Pothole,,二级,App\n"
        "102,09/24/2025 01:30:00 PM,09/24/2025 03:00:00 PM,Graffiti,Dorchester,,Call\n",
        encoding="utf-8")
    mapping = tmp_path / "311.toml"
    mapping.write_text(
        '[columns]\nticket_id = "CASE_ENQUIRY_ID"\nreported_at = "OPEN_DT"\n'
        'closed_at = "CLOSED_DT"\ncategory = "TYPE"\ncommunity = "neighborhood"\n'
        'source = "Source"\nlevel = "等级"\n'
        '[formats]\nreported_at = "%m/%d/%Y %I:%M:%S %p"\nclosed_at = "%m/%d/%Y %I:%M:%S %p"\n'
        '[defaults]\nlevel = 1\ncommunity = "(unknown)"\n'
        '[values.level]\n"一级" = 1\n"二级" = 2\n', encoding="utf-8")
    (report,) = load_files(settings, "tickets", [export], mapping_path=mapping)
    assert (report.inserted, report.quarantined) == (2, 0)
    assert rows_of(settings, "select ticket_id, reported_at, closed_at, level, community "
                             "from tickets order by 1") == [
        ("101", dt.datetime(2025, 9, 23, 9, 15), None, 2, "(unknown)"),
        ("102", dt.datetime(2025, 9, 24, 13, 30), dt.datetime(2025, 9, 24, 15, 0), 1,
         "Dorchester")]


def test_load_tickets__title_lines_above_the_header_are_skipped_with_header_row(
        settings, tmp_path):
    body = write_csv(tmp_path / "body.csv", [ticket_row(ticket_id="A"),
                                             ticket_row(ticket_id="B", level="9"),
                                             ticket_row(ticket_id="C")])
    lines = body.read_text(encoding="utf-8").splitlines()
    lines.insert(3, lines[1] + ",extra,cells")  # a malformed row on line 6 once titled
    export = tmp_path / "export.csv"
    export.write_text("龙塔街道工单导出\n导出时间 2025-09-30\n" + "\n".join(lines) + "\n",
                      encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text("[file]\nheader_row = 3\n", encoding="utf-8")
    (report,) = load_files(settings, "tickets", [export], mapping_path=mapping)
    assert (report.rows_read, report.inserted, report.quarantined) == (4, 2, 2)
    reasons = quarantine_reasons(settings)
    assert sorted(reasons) == [5, 6]  # the level-9 row, then the malformed one
    assert reasons[5] == "level must be 1-4, got 9"
    assert reasons[6].startswith("malformed CSV row")


def test_load_tickets__excel_title_row_is_skipped_with_header_row(settings, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["龙塔街道工单导出"])
    row = ticket_row(ticket_id="X1")
    sheet.append(list(row))
    sheet.append(list(row.values()))
    sheet.append(list(ticket_row(ticket_id="X2", level="9").values()))
    book.save(tmp_path / "t.xlsx")
    mapping = tmp_path / "m.toml"
    mapping.write_text("[file]\nheader_row = 2\n", encoding="utf-8")
    (report,) = load_files(settings, "tickets", [tmp_path / "t.xlsx"], mapping_path=mapping)
    assert (report.inserted, report.quarantined) == (1, 1)
    assert quarantine_reasons(settings) == {4: "level must be 1-4, got 9"}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_load_tickets__header_below_title_lines_is_found_without_a_mapping(
        settings, tmp_path, encoding):
    body = write_csv(tmp_path / "body.csv", [ticket_row(ticket_id="A"),
                                             ticket_row(ticket_id="B", level="9")])
    export = tmp_path / "export.csv"
    export.write_text("龙塔街道工单导出\n导出时间 2025-09-30\n" + body.read_text("utf-8"),
                      encoding=encoding)
    (report,) = load_files(settings, "tickets", [export])
    assert (report.rows_read, report.inserted, report.quarantined) == (2, 1, 1)
    assert quarantine_reasons(settings) == {5: "level must be 1-4, got 9"}
    assert any("header is on line 3" in w and "header_row = 3" in w for w in report.warnings)


def test_load_tickets__quoted_header_below_a_title_is_found(settings, tmp_path):
    # Excel and WPS may quote every header cell
    path = tmp_path / "t.csv"
    path.write_text('工单导出\n"ticket_id","reported_at","level","category","community"\n'
                    "T1,2025-09-23 09:00:00,1,城市管理,龙塔社区\n", encoding="utf-8")
    (report,) = load_files(settings, "tickets", [path])
    assert (report.rows_read, report.inserted) == (1, 1)
    assert any("header is on line 2" in w for w in report.warnings)


def test_load_tickets__excel_header_below_a_title_row_is_found(settings, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["龙塔街道工单导出"])
    sheet.append([])
    row = ticket_row(ticket_id="X1")
    sheet.append(list(row))
    sheet.append(list(row.values()))
    book.save(tmp_path / "t.xlsx")
    (report,) = load_files(settings, "tickets", [tmp_path / "t.xlsx"])
    assert (report.rows_read, report.inserted) == (1, 1)
    assert any("header is on line 3" in w for w in report.warnings)


def test_load_tickets__no_header_anywhere_says_how_to_set_it(settings, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("报表\n编号,时间\nT1,2025-09-23 09:00:00\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"required column\(s\) ticket_id.*header_row"):
        load_files(settings, "tickets", [path])
    assert not Path(settings.db_path).exists()


@pytest.mark.parametrize("value", ["0", '"3"', "true", "-1"])
def test_mapping__header_row_must_be_a_line_number(settings, tmp_path, value):
    mapping = tmp_path / "m.toml"
    mapping.write_text(f"[file]\nheader_row = {value}\n", encoding="utf-8")
    path = write_csv(tmp_path / "t.csv", [ticket_row()])
    with pytest.raises(LoadError, match="header_row must be a line number"):
        load_files(settings, "tickets", [path], mapping_path=mapping)


def test_load_tickets__missing_required_column_exits_2_and_changes_nothing(
        settings, tmp_path, capsys):
    load_files(settings, "tickets", [write_csv(tmp_path / "ok.csv", [ticket_row()])])
    before = file_digest(settings.db_path)
    bad = write_csv(tmp_path / "bad.csv", [{"ticket_id": "1", "reported_at": "2025-01-01"}])
    status = cli(["load", "tickets", str(bad), "--db", str(settings.db_path), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert str(bad) in err and "level, category, community" in err
    assert file_digest(settings.db_path) == before


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02\xff\xfe" * 1000])
def test_load_tickets__unreadable_file_raises_load_error(settings, tmp_path, content):
    path = tmp_path / "junk.csv"
    path.write_bytes(content)
    with pytest.raises(LoadError, match="junk.csv"):
        load_files(settings, "tickets", [path])
    assert not Path(settings.db_path).exists()


def test_load_tickets__description_personal_data_is_masked(settings, tmp_path):
    path = write_csv(tmp_path / "t.csv", [ticket_row(
        description="张先生电话13812345678，身份证110101199003074518，邮箱a.b@example.com")])
    load_files(settings, "tickets", [path])
    ((text,),) = rows_of(settings, "select description from tickets")
    assert text == "张先生电话[手机号]，身份证[身份证号]，邮箱[邮箱]"


@pytest.mark.parametrize("text, masked", [
    ("+86 138-1234-5678", "[手机号]"),
    ("电话：139 1234 5678。", "电话：[手机号]。"),
    ("13912345678,15012345678", "[手机号],[手机号]"),
    ("身份证11010119900307451X号", "身份证[身份证号]号"),
    ("身份证110101200503074518", "身份证[身份证号]"),
    ("a_b@example.org", "[邮箱]"),
    ("3栋2单元12号楼，工单20240101123", "3栋2单元12号楼，工单20240101123"),
    ("楼道灯不亮", "楼道灯不亮"),
])
def test_mask__free_text_personal_data_in_every_written_form(text, masked):
    # mask_sql first rules texts out by literals every match contains: each form must pass
    con = duckdb.connect()
    assert con.execute(f"select {mask_sql('$t::varchar')}", {"t": text}).fetchall() == [
        (masked,)]


def test_load_tickets__handler_synonyms_map_and_unknown_values_warn(settings, tmp_path):
    path = write_csv(tmp_path / "t.csv", [ticket_row(handler="物业"), ticket_row(handler="街道办")])
    (report,) = load_files(settings, "tickets", [path])
    assert rows_of(settings, "select handler from tickets order by 1") == [
        ("property",), ("街道办",)]
    assert any("街道办" in w for w in report.warnings)


def test_load_tickets__deadlines_follow_national_day_make_up_days(settings, tmp_path):
    path = write_csv(tmp_path / "t.csv", [
        ticket_row(ticket_id="A", level=3, reported_at="2025-09-29 09:00:00",
                   accepted_at="2025-09-29 09:10:00", responded_at="", closed_at="",
                   updated_at=""),
        ticket_row(ticket_id="B", level=3, reported_at="2025-09-23 09:00:00",
                   accepted_at="", closed_at="", updated_at="")])
    load_files(settings, "tickets", [path])
    assert rows_of(settings, "select ticket_id, due_on, is_calendar_fallback from tickets "
                             "order by 1") == [
        ("A", dt.date(2025, 10, 13), False), ("B", dt.date(2025, 9, 29), False)]


def test_load_tickets__unknown_calendar_year_falls_back_loudly(settings, tmp_path):
    path = write_csv(tmp_path / "t.csv", [ticket_row(
        ticket_id="F", level=3, reported_at="2030-03-04 09:00:00", accepted_at="",
        responded_at="", closed_at="", updated_at="")])
    (report,) = load_files(settings, "tickets", [path])
    assert any("2030" in w and "Monday–Friday" in w for w in report.warnings)
    assert rows_of(settings, "select due_on, is_calendar_fallback from tickets") == [
        (dt.date(2030, 3, 11), True)]
    ((status, message),) = rows_of(settings, "select status, message from load_log")
    assert status == "warning" and "2030" in message


def test_cli_load__glob_loads_every_matching_file(settings, tmp_path, capsys):
    write_csv(tmp_path / "in" / "a.csv", [ticket_row()])
    write_csv(tmp_path / "in" / "b.csv", [ticket_row()])
    status = cli(["load", "tickets", str(tmp_path / "in" / "*.csv"),
                  "--db", str(settings.db_path), "--quiet"])
    assert status == 0
    out = capsys.readouterr().out
    assert "a.csv: read 1 = inserted 1" in out and "b.csv: read 1 = inserted 1" in out


def test_load_tickets__killed_load_leaves_warehouse_unchanged(settings, tmp_path):
    load_files(settings, "tickets", [write_csv(tmp_path / "first.csv", [ticket_row()])])
    before = file_digest(settings.db_path)
    big = write_csv(tmp_path / "big.csv", [ticket_row(ticket_id=f"K{i}") for i in range(1)])
    # Make the file large enough that the load is still running when we kill it.
    lines = big.read_text(encoding="utf-8").splitlines()
    body = lines[1]
    with open(big, "w", encoding="utf-8") as f:
        f.write(lines[0] + "\n")
        for i in range(400_000):
            f.write(body.replace(body.split(",")[0], f"K{i}", 1) + "\n")
    env = dict(os.environ, WALL_SECRET=TEST_SECRET, PYTHONPATH=str(ROOT))
    killed = False
    for _attempt in range(3):  # a loaded machine may finish the load first: try again
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines", "load", "tickets", str(big),
             "--db", str(settings.db_path), "--quiet"], env=env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not list(Path(settings.db_path).parent.glob("*.writing-*")):
            if proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        time.sleep(0.1)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            killed = True
            break
        before = file_digest(settings.db_path)  # it finished: that is the state to keep
    assert killed, "the load always finished before it could be killed"
    assert file_digest(settings.db_path) == before
    (report,) = load_files(settings, "tickets", [write_csv(tmp_path / "next.csv", [ticket_row()])])
    assert report.inserted == 1
    assert not list(Path(settings.db_path).parent.glob("*.writing-*"))


def test_load_tickets__padded_cells_are_trimmed_and_blank_cells_are_missing(settings, tmp_path):
    path = write_csv(tmp_path / "t.csv", [ticket_row(
        ticket_id=" P1 ", community="  望江社区 ", level=" 2", closed_at="   ", updated_at="")])
    (report,) = load_files(settings, "tickets", [path])
    assert report.inserted == 1
    assert rows_of(settings, "select ticket_id, community, level, closed_at from tickets") == [
        ("P1", "望江社区", 2, None)]


def _csv_line(row: dict, ending: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=ending).writerow(row.values())
    return out.getvalue()


@pytest.mark.parametrize(("encoding", "endings"), [
    ("utf-8", ["\n"]), ("utf-8", ["\r\n"]), ("gb18030", ["\r\n"]),
    ("utf-8", ["\r\n", "\n"]),  # an Excel export with rows appended by another program
])
def test_load_tickets__quarantined_row_is_on_the_line_an_editor_shows(
        settings, tmp_path, encoding, endings):
    """Blank lines and line breaks inside quoted cells come before the bad rows: the
    line stored is the one `sed -n Np` (or an editor's "go to line") shows."""
    rows = [ticket_row(ticket_id="G1"), None,
            ticket_row(ticket_id="G2", description="楼道灯不亮\n已报修"),
            ticket_row(ticket_id="Q1", level="9"), None, None,
            ticket_row(ticket_id="G3", description='5"寸 水管, 漏水\n\n"急"'),
            {**ticket_row(ticket_id="M1"), "extra": "cell"},
            ticket_row(ticket_id="Q2", level="0")]
    header = _csv_line({k: k for k in rows[0]}, endings[0])
    body = [_csv_line(r, endings[min(i * len(endings) // len(rows), len(endings) - 1)])
            if r else endings[0] for i, r in enumerate(rows)]
    path = tmp_path / "t.csv"
    path.write_bytes("".join([header, *body]).encode(encoding))
    (report,) = load_files(settings, "tickets", [path])
    assert (report.inserted, report.quarantined) == (3, 3)
    file_lines = path.read_bytes().decode(encoding).split("\n")
    found = {file_lines[line - 1].split(",", 1)[0]: line
             for line, _ in rows_of(settings, "select line_no, reason from quarantine")}
    assert found == {"Q1": 6, "M1": 12, "Q2": 13}


def test_load_tickets__excel_rows_keep_their_sheet_row_and_parquet_rows_their_position(
        settings, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(ticket_row()))
    sheet.append(list(ticket_row(ticket_id="G1").values()))
    sheet.append([])  # a blank sheet row: not read, still counted
    sheet.append(list(ticket_row(ticket_id="Q1", level="9").values()))
    book.save(tmp_path / "t.xlsx")
    rows = [ticket_row(ticket_id="P1"), ticket_row(ticket_id="P2", level="9")]
    pq.write_table(pa.table({k: [r[k] or None for r in rows] for k in rows[0]}),
                   tmp_path / "t.parquet")
    load_files(settings, "tickets", [tmp_path / "t.xlsx"])
    load_files(settings, "tickets", [tmp_path / "t.parquet"])
    assert rows_of(settings, "select source_file, line_no from quarantine order by 1") == [
        (str(tmp_path / "t.parquet"), 2),  # the second row (pyarrow's index 1)
        (str(tmp_path / "t.xlsx"), 4)]
