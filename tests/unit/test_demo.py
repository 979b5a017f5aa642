"""Unit tests for pipelines.demo: demo input files and the properties the wall needs."""

from __future__ import annotations

import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipelines.demo import national_id_check, write_demo
from pipelines.sources import SOURCES

TODAY = datetime.date(2026, 11, 23)
NOW = "2026-11-23 09:00:00"  # the demo's default clock on TODAY


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Path]:
    """One small demo (1 year, 40k tickets) shared by the tests that only read it."""
    return write_demo(
        tmp_path_factory.mktemp("demo"), years=1, today=TODAY, tickets_per_year=40_000
    )


@pytest.fixture(scope="module")
def con(demo):
    """An in-memory DuckDB with one view per demo file (types sniffed)."""
    con = duckdb.connect()
    for name, path in demo.items():
        con.execute(
            f"create view {name} as select * from read_csv('{path}', header = true)"
        )
    yield con
    con.close()


def one(con, sql: str):
    return con.execute(sql).fetchone()


def test_write_demo__returns_every_source(demo):
    assert set(demo) == set(SOURCES) | {"geo"}  # and the map
    assert all(path.exists() and path.stat().st_size > 0 for path in demo.values())


def test_write_demo__same_seed_same_bytes(tmp_path):
    first = write_demo(tmp_path / "a", years=1, today=TODAY, tickets_per_year=5_000)
    second = write_demo(tmp_path / "b", years=1, today=TODAY, tickets_per_year=5_000)
    other = write_demo(
        tmp_path / "c", seed=1, years=1, today=TODAY, tickets_per_year=5_000
    )
    for name in SOURCES:
        assert first[name].read_bytes() == second[name].read_bytes(), name
    assert first["tickets"].read_bytes() != other["tickets"].read_bytes()


def test_tickets__headers_are_canonical(demo):
    header = demo["tickets"].read_text(encoding="utf-8").split("\n", 1)[0]
    assert header == (
        "ticket_id,reported_at,accepted_at,responded_at,escalated_at,"
        "closed_at,level,category,community,grid,compound,source,handler,"
        "satisfaction,description,updated_at"
    )


def test_tickets__level_mix_matches_domain(con):
    total, *levels = one(
        con,
        "select count(*), "
        + ", ".join(f"count(*) filter (level = {lv})" for lv in (1, 2, 3, 4))
        + " from tickets",
    )
    assert total == 40_000
    shares = np.array(levels) / total
    np.testing.assert_allclose(shares, [0.947, 0.016, 0.034, 0.003], atol=0.006)


def test_tickets__closure_and_satisfaction_rates(con):
    closed_pct, satisfied_pct, rated_pct = one(
        con,
        """
        select count(closed_at) / count(*),
               count(*) filter (satisfaction = 'satisfied') / count(satisfaction),
               count(satisfaction) / count(closed_at)
        from tickets""",
    )
    assert 0.995 < closed_pct < 0.9995
    assert 0.96 < satisfied_pct < 0.99
    assert 0.55 < rated_pct < 0.65


def test_tickets__lifecycle_is_ordered(con):
    bad = one(
        con,
        f"""
        select count(*) from tickets
        where accepted_at < reported_at or responded_at < accepted_at
           or closed_at < responded_at or escalated_at > responded_at
           or updated_at <> greatest(reported_at, accepted_at, responded_at,
                                     escalated_at, closed_at)
           or updated_at > timestamp '{NOW}'""",
    )[0]
    assert bad == 0


def test_tickets__reported_today_some_open_and_overdue(con):
    today_count, open_count, overdue = one(
        con,
        f"""
        select count(*) filter (reported_at >= date '{TODAY}'),
               count(*) filter (closed_at is null),
               -- level 1 is due the day it is accepted, level 2 three days later
               count(*) filter (closed_at is null and (
                   (level = 1 and reported_at < date '{TODAY}')
                   or (level = 2 and reported_at < date '{TODAY}' - interval 4 day)))
        from tickets""",
    )
    assert today_count > 0
    assert open_count > today_count
    assert overdue > 0


def test_tickets__some_descriptions_hold_a_phone_number(con):
    share = one(
        con,
        r"""
        select count(*) filter (regexp_matches(description, '1[3-9]\d{9}')) / count(*)
        from tickets""",
    )[0]
    assert 0.005 < share < 0.015


def test_places__three_zones_fourteen_communities_54_grids(con):
    zones, communities, grids, households = one(
        con,
        """
        select count(distinct zone), count(distinct community), count(distinct grid),
               min(households_served) >= 200 and max(households_served) <= 300
        from grids""",
    )
    assert (zones, communities, grids, households) == (3, 14, 54, True)
    assert one(con, "select sum(grid_workers) from grids")[0] == 178
    assert one(con, "select count(distinct compound) from population")[0] == 30
    # tickets use only known grids, in their own community
    assert (
        one(
            con,
            """select count(*) from tickets t left join grids g
                       on g.grid = t.grid and g.community = t.community
                       where g.grid is null""",
        )[0]
        == 0
    )


def test_population__national_ids_have_valid_check_digits(con):
    ids = [
        row[0]
        for row in con.execute("select person_id::varchar from population").fetchall()
    ]
    assert 35_000 < len(ids) < 45_000
    assert len(set(ids)) == len(ids)
    digits = np.array([[int(ch) for ch in pid[:17]] for pid in ids])
    assert list(national_id_check(digits)) == [pid[17] for pid in ids]


def test_national_id_check__known_example():
    # the example from GB 11643-1999
    digits = np.array([[int(ch) for ch in "11010519491231002"]])
    assert national_id_check(digits)[0] == "X"


def test_population__households_share_their_place(con):
    assert (
        one(
            con,
            """
        select count(*) from (
            select household_id from population group by household_id
            having count(distinct (community, grid, compound, building)) > 1)""",
        )[0]
        == 0
    )
    assert (
        one(
            con,
            """select count(*) from population p left join grids g using (grid)
                       where g.community is distinct from p.community""",
        )[0]
        == 0
    )
    # households per grid are what the grid says it serves
    assert (
        one(
            con,
            """
        select count(*) from grids g join (
            select grid, count(distinct household_id) as n from population group by grid
        ) p using (grid) where p.n <> g.households_served""",
        )[0]
        == 0
    )


def test_compounds__each_in_the_community_most_of_its_residents_live_in(con):
    declared = dict(con.execute("select compound, community from compounds").fetchall())
    majority = dict(con.execute(
        """select compound, arg_max(community, n) from (
            select compound, community, count(*) as n from population group by all)
        group by compound""").fetchall())
    assert declared == majority


def test_population__some_key_groups_are_small_enough_to_suppress(con):
    small = one(
        con,
        """
        with members as (
            select compound, building, unnest(string_split(key_groups, ';')) as grp
            from population where key_groups is not null)
        select count(*) from (
            select compound, building, grp from members
            group by all having count(*) between 1 and 4)""",
    )[0]
    assert small > 0


def test_votes__eligible_owners_match_population(con):
    assert (
        one(
            con,
            """
        with owners as (
            select compound, count(*) as n from population where is_owner = 1
            group by compound)
        select count(*) from votes v join owners o using (compound)
        where v.eligible_owners <> o.n""",
        )[0]
        == 0
    )
    area_ok = one(
        con,
        """
        select bool_and(b.area_m2 between 50 and 180) from ballots b""",
    )[0]
    assert area_ok


def test_votes__some_open_now_and_ballots_inside_their_window(con):
    open_now = one(
        con,
        f"""select count(*) from votes
                           where opens_at <= '{NOW}' and closes_at > '{NOW}'""",
    )[0]
    assert open_now >= 3
    assert (
        one(
            con,
            """select count(*) from ballots b join votes v using (vote_id)
                       where b.cast_at not between v.opens_at and v.closes_at""",
        )[0]
        == 0
    )
    assert (
        one(
            con,
            """select count(*) - count(distinct (vote_id, owner_id))
                       from ballots""",
        )[0]
        > 0
    )


def test_ledger__amounts_are_exact_two_decimal_text(demo):
    con = duckdb.connect()
    rows = con.execute(
        "select amount from read_csv($p, header = true, all_varchar = true)",
        {"p": str(demo["ledger"])},
    ).fetchall()
    assert rows and all(len(a.split(".")[1]) == 2 for (a,) in rows)
    lines = con.execute(
        """
        select count(*) filter (category = '摊位租金' and amount = 1000.00),
               count(*) filter (category = '广告印刷' and amount = 373.20),
               typeof(sum(amount))
        from read_csv($p, header = true, columns = {
            'entry_id': 'varchar', 'compound': 'varchar', 'booked_on': 'date',
            'direction': 'varchar', 'category': 'varchar', 'amount': 'decimal(18,2)',
            'counterparty': 'varchar', 'voucher_no': 'varchar', 'note': 'varchar'})""",
        {"p": str(demo["ledger"])},
    ).fetchone()
    assert lines[0] > 0 and lines[1] > 0
    assert lines[2].startswith("DECIMAL")


def test_ledger__a_month_without_income_and_no_negative_balance(con):
    assert (
        one(
            con,
            """
        with months as (
            select compound, date_trunc('month', booked_on) as m,
                   count(*) filter (direction = 'income') as income_lines
            from ledger group by all)
        select count(*) from months where income_lines = 0""",
        )[0]
        >= 1
    )
    assert (
        one(
            con,
            """
        with moves as (
            select compound, booked_on, entry_id,
                   case when direction = 'income' then amount::decimal(18,2)
                        else -amount::decimal(18,2) end as signed
            from ledger),
        running as (
            select compound, sum(signed) over (partition by compound
                order by booked_on, entry_id) as moved from moves)
        select count(*) from running r join ledger_balances b using (compound)
        where b.opening_balance::decimal(18,2) + r.moved < 0""",
        )[0]
        == 0
    )


def test_engagement__participation_rises_from_18_to_60_pct(con):
    shares = [
        row[0]
        for row in con.execute("""
        with households as (select count(distinct household_id) as n from population),
        acts as (
            select household_id, date_trunc('month', occurred_at) as m from engagement
            union
            select p.household_id, date_trunc('month', b.cast_at)
            from ballots b join population p on p.person_id = b.owner_id)
        select count(distinct household_id) / any_value(households.n)
        from acts, households group by m order by m""").fetchall()
    ]
    assert len(shares) == 9  # launch month, 7 full months, the current month
    assert shares[0] == pytest.approx(0.18, abs=0.03)
    assert shares[3] == pytest.approx(0.60, abs=0.04)
    assert all(s == pytest.approx(0.60, abs=0.05) for s in shares[4:8])
    assert shares[0] < shares[1] < shares[2] < shares[3]


def test_tickets__property_disputes_down_about_a_quarter(tmp_path):
    paths = write_demo(tmp_path, years=2, today=TODAY, tickets_per_year=60_000)
    con = duckdb.connect()
    last, this = con.execute(
        """
        select count(*) filter (year(reported_at) = 2025),
               count(*) filter (year(reported_at) = 2026)
        from read_csv($p, header = true)
        where category = '物业纠纷' and strftime(reported_at, '%m-%d') <= '11-22'""",
        {"p": str(paths["tickets"])},
    ).fetchone()
    assert this / last == pytest.approx(0.75, abs=0.06)


def test_first_start__demo_runs_up_to_the_minute_it_was_made(settings, monkeypatch, caplog):
    """An afternoon first start shows the afternoon's tickets, not a day frozen at 09:00;
    and a healthy first start logs no warnings (each load report once, at INFO)."""
    import logging

    from pipelines import bootstrap

    afternoon = datetime.datetime(2026, 11, 23, 15, 37)
    monkeypatch.setattr(bootstrap, "local_now", lambda _settings: afternoon)
    real = write_demo
    monkeypatch.setattr("pipelines.demo.write_demo",
                        lambda out, **kw: real(out, **kw | {"years": 1,
                                                            "tickets_per_year": 20_000}))
    caplog.set_level(logging.INFO)
    # The benchmark CLI (run in-process by its smoke test) quiets "pipelines" to ERROR.
    caplog.set_level(logging.INFO, logger="pipelines")
    assert bootstrap.ensure_warehouse(settings)
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        (newest,) = con.execute("select max(reported_at) from tickets").fetchone()
    finally:
        con.close()
    assert datetime.datetime(2026, 11, 23, 12, 0) < newest <= afternoon  # was 09:00
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    reports = [r for r in caplog.records if "load report:" in r.getMessage()]
    assert len(reports) == len(SOURCES) + 1  # and the map
