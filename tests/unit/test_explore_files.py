"""The explorer's files: CSV and XLSX hold exactly the page's table, in Chinese by default
(codes on request), are named after their view, and never carry a live formula."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import unquote

import duckdb
import openpyxl
import pandas as pd
import pytest

from dashboards._downloads import xlsx_bytes
from dashboards._explore_breakdown import breakdown_table
from pipelines.queries import explore as q
from tests.unit.test_explore_queries import NOW, build_explore_warehouse

VIEW = [("from", "2026-07-01"), ("to", "2026-09-30"), ("asof", "2026-11-20T12:00"),
        ("bm", "p90_close_hours"), ("by", "category"), ("by2", "handler"),
        ("level", "1")]


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return build_explore_warehouse(tmp_path_factory.mktemp("files"))


@pytest.fixture(scope="module")
def client(settings):
    import dash

    from app import create_app, reset_pages_state

    app = create_app(settings)
    yield app.server.test_client()
    reset_pages_state()
    dash._pages.PAGE_REGISTRY.clear()


@pytest.fixture(scope="module")
def page_table(settings) -> pd.DataFrame:
    """The table the page shows for VIEW, built as the page builds it."""
    con = duckdb.connect(str(settings.db_path), read_only=True)
    b = q.Breakdown("p90_close_hours", "category", "handler")
    f = q.TicketFilters(dt.date(2026, 7, 1), dt.date(2026, 9, 30), levels=(1,))
    try:
        return breakdown_table(q.ticket_measure_breakdown(con, f, b, now=NOW), b)
    finally:
        con.close()


def _read(r, kind: str) -> pd.DataFrame:
    assert r.status_code == 200, r.get_data()[:200]
    data = io.BytesIO(r.get_data())
    if kind == "csv":
        return pd.read_csv(data, encoding="utf-8-sig")
    return pd.read_excel(data, engine="openpyxl")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_breakdown_file_equals_the_pages_table(client, page_table, kind):
    got = _read(client.get(f"/download/explore/breakdown.{kind}", query_string=VIEW), kind)
    assert list(got.columns) == list(page_table.columns)
    assert list(got.columns)[:2] == ["类别", page_table.columns[1]]
    assert {"物业", "社区", "部门", "居民自治", "合计"} <= set(got.columns)
    pd.testing.assert_frame_equal(got, page_table.astype({c: "float64" for c in
                                                          page_table.columns[1:]}),
                                  check_dtype=False)


def test_codes_on_request_and_chart_files_in_chinese(client):
    coded = _read(client.get("/download/explore/breakdown.xlsx",
                             query_string=VIEW + [("labels", "code")]), "xlsx")
    assert coded.columns[0] == "category"
    assert {"property", "self_governance", "total"} <= set(coded.columns)
    handler = _read(client.get("/download/explore/handler.csv", query_string=VIEW), "csv")
    assert set(handler["处置主体"]) == {"物业", "社区", "部门", "居民自治"}
    assert "上报（件）" in handler.columns and "reported_count" not in handler.columns
    level = _read(client.get("/download/explore/level.xlsx", query_string=VIEW), "xlsx")
    assert set(level["等级"]) <= {"一级", "二级", "三级", "四级"}


def test_file_name_says_the_view(client):
    r = client.get("/download/explore/breakdown.csv",
                   query_string=VIEW + [("community", "青龙社区")])
    name = unquote(r.headers["Content-Disposition"].split("filename*=UTF-8''")[1])
    assert name == ("explore_breakdown_20260701-20260930_p90_close_hours_by_category_"
                    "handler_community-青龙社区_level-1_asof-20261120T1200.csv")
    assert client.get("/download/explore/tickets.xlsx").status_code == 404


def test_xlsx_cells_that_look_like_formulas_stay_text():
    frame = pd.DataFrame({"小区": ["=HYPERLINK(\"http://evil\",\"x\")", "+1", "普通"],
                          "上报（件）": [1, 2, 3]})
    ws = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame, "t"))).active
    cells = [c.value for c in ws["A"]][1:]
    assert cells == ["'=HYPERLINK(\"http://evil\",\"x\")", "'+1", "普通"]
    assert all(c.data_type != "f" for c in ws["A"])
    assert [c.value for c in ws["B"]][1:] == [1, 2, 3]  # numbers stay numbers


def test_ticket_list_file_in_chinese_and_codes_on_request(client):
    """The ticket list reads as the page does (物业, 已办结, 一级, 满意); `labels=code`
    gives the stored codes, row for row the same tickets."""
    from dashboards._downloads import TICKET_COLUMNS_ZH, TICKET_VALUES_ZH

    view = VIEW[:3]
    got = _read(client.get("/download/explore/tickets.csv", query_string=view), "csv")
    coded = _read(client.get("/download/explore/tickets.csv",
                             query_string=view + [("labels", "code")]), "csv")
    assert list(got.columns) == [TICKET_COLUMNS_ZH[c] for c in coded.columns]
    assert len(got) == len(coded) > 0
    assert list(got["编号"]) == list(coded["ticket_id"])
    for column, names in TICKET_VALUES_ZH.items():
        shown, stored = got[TICKET_COLUMNS_ZH[column]], coded[column]
        assert set(shown.dropna()) <= set(names.values()), column
        assert [names[v] for v in stored.dropna()] == list(shown.dropna()), column
    assert {"已办结", "满意", "是"} <= set(got["状态"]) | set(got["评价"]) | set(got["按时办结"])


def test_a_live_summary_is_judged_at_the_data_cutoff_whatever_the_clock(
        client, settings, monkeypatch):
    """A live view (no `asof`) judges at the tickets' data cut-off, as the wall's 截至: its
    summary is the same an hour and a day after the newest report, and the previous
    period and last year's are judged at their own ends, as the selected period is. Judged
    at the clock, they gained every closure made since their end while this period's
    stopped at the last load."""
    from dashboards import _downloads

    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        (cutoff,), = con.execute("select max(reported_at) from tickets").fetchall()
        view = [("from", str(cutoff.date() - dt.timedelta(days=89))),
                ("to", str(cutoff.date())), ("labels", "code")]
        files = []
        for later in (dt.timedelta(hours=1), dt.timedelta(days=1)):
            monkeypatch.setattr(_downloads, "local_now", lambda _s, t=cutoff + later: t)
            files.append(_read(client.get("/download/explore/summary.csv",
                                          query_string=view), "csv").set_index("period"))
        pd.testing.assert_frame_equal(files[0], files[1])
        got = files[0]
        for period, shift in (("current", dt.timedelta(0)), ("previous", dt.timedelta(90))):
            end = cutoff - shift
            start = dt.datetime.combine(cutoff.date() - dt.timedelta(days=89), dt.time()) \
                - shift
            (reported, closed, overdue), = con.execute(
                "select count(*), count(*) filter (where closed_at <= $end),"
                " count(*) filter (where deadline_at < $end"
                "  and (closed_at is null or closed_at > $end))"
                " from tickets where reported_at between $start and $end",
                {"start": start, "end": end}).fetchall()
            assert (got.loc[period, "reported_count"], got.loc[period, "closed_count"],
                    got.loc[period, "overdue_count"]) == (reported, closed, overdue), period
            assert pd.Timestamp(got.loc[period, "as_of"]) == pd.Timestamp(end), period
    finally:
        con.close()
