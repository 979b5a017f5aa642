"""The breakdown: any declared measure by one or two declared dimensions, as the page and
its files show it. Every figure is checked against SQL or pandas written here."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

import duckdb
import pandas as pd
import pytest

from dashboards._explore_breakdown import breakdown_table
from pipelines.queries import explore as q
from tests.unit.test_explore_queries import NOW, build_explore_warehouse

LAST_QUARTER = q.TicketFilters(dt.date(2026, 7, 1), dt.date(2026, 9, 30))


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    settings = build_explore_warehouse(tmp_path_factory.mktemp("breakdown"))
    c = duckdb.connect(str(settings.db_path), read_only=True)
    yield c
    c.close()


def _table(con, f, b, **kw) -> pd.DataFrame:
    return breakdown_table(q.ticket_measure_breakdown(con, f, b, now=NOW), b, **kw)


def test_p90_hours_to_close_by_category_last_quarter_is_one_table(con):
    """The issue's question: p90 hours to close per category, last quarter, worst first,
    with the sub-district's own p90 (not an average of the categories') as the total."""
    got = _table(con, LAST_QUARTER, q.Breakdown("p90_close_hours", "category"))
    want = con.execute("""
        select category, round(quantile_cont(epoch(closed_at - reported_at) / 3600.0, 0.9)
                               filter (where closed_at <= $now), 1) as p90, count(*) as n
        from tickets where reported_at >= '2026-07-01' and reported_at < '2026-10-01'
        group by grouping sets ((category), ())
        order by grouping(category), p90 desc, category""", {"now": NOW}).fetchall()
    rows = [tuple(r) for r in got.itertuples(index=False)]
    assert rows == [(c if c is not None else "合计", p, n) for c, p, n in want]
    assert list(got.columns) == ["类别", "办结用时 P90（小时）", "上报（件）"]


def test_reported_by_category_is_one_column_of_counts_not_two(con):
    """The count of reported tickets is the measure: no second, identical tickets column."""
    got = _table(con, LAST_QUARTER, q.Breakdown("reported", "category"))
    want = con.execute("""
        select coalesce(category, '合计'), count(*) from tickets
        where reported_at >= '2026-07-01' and reported_at < '2026-10-01'
        group by grouping sets ((category), ())
        order by grouping(category), count(*) desc, category""").fetchall()
    assert list(got.columns) == ["类别", "上报（件）"]
    assert [tuple(r) for r in got.itertuples(index=False)] == [tuple(r) for r in want]


def test_pivot_of_closed_late_and_missed_deadline_equals_pandas(con):
    t = con.execute("select * from tickets where reported_at >= '2026-01-01' "
                    "and reported_at < '2026-10-01'").df()
    closed = t.closed_at.notna() & (t.closed_at <= NOW)
    late = closed & (t.closed_at > t.deadline_at)
    overdue = ~closed & (t.deadline_at < NOW)
    f = q.TicketFilters(dt.date(2026, 1, 1), dt.date(2026, 9, 30))
    for measure, flag in (("closed_late", late), ("missed_deadline", late | overdue)):
        got = _table(con, f, q.Breakdown(measure, "community", "level")).set_index("社区")
        want = t.assign(x=flag).pivot_table(index="community", columns="level", values="x",
                                            aggfunc="sum", fill_value=0)
        for community, row in want.iterrows():
            for level, n in row.items():
                assert got.loc[community, f"{'一二三四'[level - 1]}级"] == n, (measure, community)
            assert got.loc[community, "合计"] == row.sum()
        assert got.loc["合计", "合计"] == int(flag.sum())
        # worst first: the rows run from the most tickets missed down
        totals = got["合计"].drop("合计").tolist()
        assert totals == sorted(totals, reverse=True)


def test_a_rate_runs_from_the_worst_up_and_periods_in_time_order(con):
    got = _table(con, LAST_QUARTER, q.Breakdown("on_time_pct", "grid"))
    rates = got["按时办结率（%）"].iloc[:-1].tolist()
    assert rates == sorted(rates, key=lambda v: (v is None, v))
    f = q.TicketFilters(dt.date(2026, 1, 1), dt.date(2026, 11, 30))
    by_quarter = _table(con, f, q.Breakdown("reported", "period", "level", "quarter"))
    assert by_quarter["时段"].tolist() == ["2026年第1季度", "2026年第2季度", "2026年第3季度",
                                         "2026年第4季度（部分）", "合计"]
    assert list(by_quarter.columns) == ["时段", "一级", "二级", "三级", "四级", "合计"]
    year = _table(con, f, q.Breakdown("reported", "period", grain="year"))
    assert year.iloc[0, 0] == "2026年（部分）"


def test_codes_option_gives_ids_and_raw_values(con):
    got = _table(con, LAST_QUARTER, q.Breakdown("reported", "handler"), codes=True)
    assert list(got.columns) == ["handler", "reported", "reported_count"]
    assert set(got["handler"]) == {"property", "community", "department",
                                   "self_governance", "total"}
    zh = _table(con, LAST_QUARTER, q.Breakdown("reported", "handler"))
    assert set(zh["处置主体"]) == {"物业", "社区", "部门", "居民自治", "合计"}


@pytest.mark.parametrize("kwargs", [
    {"measure": "count(*); drop table tickets"}, {"by": "1; select 1"},
    {"by": "category", "by2": "category"}, {"grain": "hour"},
    {"measure": "participation_pct"},  # declared, but not a ticket measure
])
def test_names_outside_the_registries_are_refused(kwargs):
    with pytest.raises(ValueError):
        q.Breakdown(**kwargs)


def test_a_pivot_cell_drills_down_to_exactly_its_tickets(con):
    """Each cell links to the view narrowed to its row and column values: the linked
    view's ticket count is the cell's own count."""
    from dashboards._explore_breakdown import breakdown_keys
    from dashboards._explore_state import cell_view, parse_query

    state, _ = parse_query({"from": "2026-01-01", "to": "2026-09-30", "by": "community",
                            "by2": "level"}, NOW.date())
    df = q.ticket_measure_breakdown(con, state.filters(), state.breakdown(), now=NOW)
    table = breakdown_table(df, state.breakdown())
    rows, cols = breakdown_keys(df, state.breakdown())
    assert len(rows) == len(table) - 1 and len(cols) == len(table.columns) - 2
    for r, community in enumerate(rows[:3]):
        for c, level in enumerate(cols):
            new = cell_view(state, [("community", community), ("level", level)])
            drilled, notices = parse_query(dict(parse_qsl(new.search()[1:])), NOW.date())
            assert notices == [] and drilled.get("level") == (level,)
            n = q.ticket_summary(con, drilled.filters(), now=NOW)
            assert n.loc[n.period == "current", "reported_count"].item() == \
                table.iloc[r, c + 1]
    assert cell_view(state, [("community", None), ("level", None)]) is None  # the corner
