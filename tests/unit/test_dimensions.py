"""Dimensions: one hierarchy, and one rule placing a compound in exactly one community,
used alike by the explorer, its export links and the wall."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines import dimensions
from pipelines.loader import load_files
from pipelines.queries import explore as eq
from pipelines.queries import exports as xq
from pipelines.queries import wall as wq
from tests.factories import ballot_row, ledger_row, resident_row, vote_row, write_csv

COMPOUND = "观澜苑"
MOST, FEW = "龙塔社区", "望江社区"
CLOCK = wq.Clock.at(now=dt.datetime(2025, 9, 5, 12, 0))
# The wall ranks compounds over whole months only, up to the participation cut-off.
CLOCK_NEXT_MONTH = wq.Clock.at(now=dt.datetime(2025, 10, 5, 12, 0))
PERIOD = dict(date_from=dt.date(2025, 9, 1), date_to=dt.date(2025, 9, 30))


def _load_split_compound(settings, tmp_path) -> None:
    """观澜苑: 3 residents in 龙塔社区 and 1 in 望江社区, a vote with a ballot, a ledger line."""
    people = [resident_row(community=MOST, grid=f"{MOST}第1网格", compound=COMPOUND)
              for _ in range(3)]
    people.append(resident_row(community=FEW, grid=f"{FEW}第2网格", compound=COMPOUND))
    load_files(settings, "population", [write_csv(tmp_path / "p.csv", people)])
    vote = vote_row(compound=COMPOUND)
    load_files(settings, "votes", [write_csv(tmp_path / "v.csv", [vote])])
    ballot = ballot_row(vote_id=vote["vote_id"], owner_id=people[0]["person_id"])
    load_files(settings, "ballots", [write_csv(tmp_path / "b.csv", [ballot])])
    # A later act elsewhere (a compound with no residents, so in no community) moves the
    # participation cut-off into October: September is then a whole month on the wall.
    later = vote_row(compound="别处苑", opens_at="2025-10-01 09:00:00",
                     closes_at="2025-10-15 20:00:00")
    load_files(settings, "votes", [write_csv(tmp_path / "v2.csv", [later])])
    load_files(settings, "ballots", [write_csv(tmp_path / "b2.csv", [ballot_row(
        vote_id=later["vote_id"], cast_at="2025-10-02 10:00:00")])])
    line = ledger_row(compound=COMPOUND, booked_on="2025-09-03")
    load_files(settings, "ledger", [write_csv(tmp_path / "l.csv", [line])])


def _rows_per_surface(settings, community: str) -> dict[str, int]:
    """Rows of 观澜苑 each surface shows when filtered on `community`."""
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        view = eq.PeopleFilters(PERIOD["date_from"], PERIOD["date_to"],
                                communities=(community,))
        participation = wq.participation_data(con, CLOCK, small_count=0,
                                              community=community)
        accounts = wq.accounts_data(con, CLOCK, small_count=0, community=community)
        whole_months = wq.participation_data(con, CLOCK_NEXT_MONTH, small_count=0,
                                             community=community)
        as_of = dt.datetime(2025, 9, 30, 23, 0)
        return {
            "explorer votes": len(eq.vote_table(con, view, now=CLOCK.now)),
            "explorer participation": len(eq.participation_by_month(con, view)),
            "explorer compounds": len(eq.participation_by_compound(con, view)),
            "explorer accounts": eq.ledger_statements(con, view).num_rows,
            "export vote_results": xq.report_table(
                con, "vote_results", community=community, as_of=as_of, **PERIOD).num_rows,
            "export participation": xq.report_table(
                con, "participation", community=community, **PERIOD).num_rows,
            "export ledger_statement": xq.report_table(
                con, "ledger_statement", community=community, **PERIOD).num_rows,
            "wall open votes": len(participation["votes"]),
            "wall participation": len(whole_months["compounds"]),
            "wall accounts": len(accounts["compounds"]) if accounts["available"] else 0,
        }
    finally:
        con.close()


def test_compound_community__majority_of_residents_on_every_surface(settings, tmp_path):
    _load_split_compound(settings, tmp_path)
    few = _rows_per_surface(settings, FEW)
    most = _rows_per_surface(settings, MOST)
    assert few == dict.fromkeys(few, 0)
    assert most == dict.fromkeys(most, 1)


def test_compound_community__the_centers_compounds_table_wins(settings, tmp_path):
    _load_split_compound(settings, tmp_path)
    declared = [{"compound": COMPOUND, "community": FEW, "grid": ""}]
    (report,) = load_files(settings, "compounds",
                           [write_csv(tmp_path / "c.csv", declared)])
    assert report.inserted == 1
    few = _rows_per_surface(settings, FEW)
    most = _rows_per_surface(settings, MOST)
    assert few == dict.fromkeys(few, 1)
    assert most == dict.fromkeys(most, 0)


def test_compound_community__ties_go_to_the_first_community_by_name(settings, tmp_path):
    people = [resident_row(community=c, compound=COMPOUND) for c in (MOST, FEW)]
    load_files(settings, "population", [write_csv(tmp_path / "p.csv", people)])
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        placed = con.execute("select community, basis from compound_community "
                             "where compound = $c", {"c": COMPOUND}).fetchall()
    finally:
        con.close()
    assert placed == [(min(MOST, FEW), "residents")]


def test_compounds_source__rows_without_a_community_are_quarantined(settings, tmp_path):
    rows = [{"compound": "甲小区", "community": MOST, "grid": ""},
            {"compound": "乙小区", "community": "", "grid": ""}]
    (report,) = load_files(settings, "compounds", [write_csv(tmp_path / "c.csv", rows)])
    assert (report.inserted, report.quarantined) == (1, 1)


def test_dimensions__one_chain_from_sub_district_to_compound():
    chain = [d.id for d in dimensions.hierarchy()]
    assert chain == ["sub_district", "community", "grid", "compound"]
    for dim in dimensions.DIMENSIONS.values():
        assert dim.label_zh and dim.label_en
        assert dim.parent is None or dim.parent in dimensions.DIMENSIONS


def test_compound_community__explorer_downloads_and_report_links_agree(settings, tmp_path):
    """The explorer's own CSVs and its "导出报表（当前筛选）" links, through the app."""
    import dash

    from app import create_app, reset_pages_state

    _load_split_compound(settings, tmp_path)
    app = create_app(settings)
    client = app.server.test_client()
    names = ("votes", "participation_monthly", "ledger_statement", "report_vote_results",
             "report_participation", "report_ledger_statement")

    def rows(community: str) -> dict[str, int]:
        query = {"from": "2025-09-01", "to": "2025-09-30", "community": community}
        got = {}
        for name in names:
            r = client.get(f"/download/explore/{name}.csv", query_string=query)
            assert r.status_code == 200, (name, r.status_code)
            got[name] = len(r.data.decode("utf-8-sig").strip().splitlines()) - 1
        return got

    try:
        assert rows(FEW) == dict.fromkeys(names, 0)
        assert rows(MOST) == dict.fromkeys(names, 1)
        declared = [{"compound": COMPOUND, "community": FEW}]
        load_files(settings, "compounds", [write_csv(tmp_path / "c.csv", declared)])
        assert rows(FEW) == dict.fromkeys(names, 1)
        assert rows(MOST) == dict.fromkeys(names, 0)
    finally:
        reset_pages_state()
        dash._pages.PAGE_REGISTRY.clear()
