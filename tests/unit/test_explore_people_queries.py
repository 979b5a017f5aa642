"""Explorer query functions for participation, accounts and population, checked
against independent SQL / Python on a demo warehouse loaded by the real loader."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from pipelines.bootstrap import load_demo_inputs
from pipelines.demo import write_demo
from pipelines.queries import explore as q
from pipelines.settings import Settings, parse_key_groups
from tests.factories import TEST_SECRET

NOW = dt.datetime(2026, 11, 23, 12, 0)
F = q.PeopleFilters(dt.date(2026, 1, 1), dt.date(2026, 11, 23))
K = 5


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("explore-people")
    files = write_demo(root / "demo", years=1, tickets_per_year=5000,
                       today=dt.date(2026, 11, 23))
    settings = Settings(db_path=root / "w.duckdb", demo_dir=root / "demo",
                        secret=TEST_SECRET, secret_file=root / "k",
                        calendar_file=None)
    load_demo_inputs(settings, files)
    c = duckdb.connect(str(settings.db_path), read_only=True)
    yield c
    c.close()


def _community_of(con) -> dict[str, str]:
    rows = con.execute("select compound, community, count(*) from residents "
                       "where compound is not null group by all").fetchall()
    best: dict[str, tuple[int, str]] = {}
    for compound, community, n in rows:
        if compound not in best or n > best[compound][0]:
            best[compound] = (n, community)
    return {c: m for c, (_, m) in best.items()}


def test_vote_table__turnout_approval_and_state_equal_raw_ballots(con):
    got = q.vote_table(con, F, now=NOW)
    votes = con.execute(
        "select vote_id, compound, matter, opens_at, closes_at, eligible_owners, "
        "eligible_area_m2 from votes where opens_at < date '2026-11-24' "
        "and closes_at >= date '2026-01-01'").fetchall()
    assert sorted(got["vote_id"]) == sorted(v[0] for v in votes)
    for vote_id, _c, matter, _o, closes_at, owners, area in votes:
        ballots = con.execute("select choice, area_m2 from ballots where vote_id = ?",
                              [vote_id]).fetchall()
        voted, yes = len(ballots), sum(1 for b in ballots if b[0] == "yes")
        voted_area = sum((b[1] for b in ballots), Decimal(0))
        yes_area = sum((b[1] for b in ballots if b[0] == "yes"), Decimal(0))
        row = got[got.vote_id == vote_id].iloc[0]
        assert row.voted_owners == voted and row.yes_owners == yes
        assert row.turnout_owners_pct == pytest.approx(100 * voted / owners)  # unrounded
        turnout = 3 * voted >= 2 * owners and 3 * voted_area >= 2 * area
        if matter == "major":
            approval = voted > 0 and 4 * yes >= 3 * voted and 4 * yes_area >= 3 * voted_area
        else:
            approval = voted > 0 and 2 * yes > voted and 2 * yes_area > voted_area
        state = "open" if closes_at > NOW else ("passed" if turnout and approval
                                                  else "failed")
        assert (bool(row.meets_turnout), bool(row.meets_approval), row.state) == (
            turnout, approval, state), vote_id


def test_vote_table__matter_state_and_compound_filters(con):
    every = q.vote_table(con, F, now=NOW)
    major = q.vote_table(con, q.PeopleFilters(F.date_from, F.date_to,
                                              matters=("major",)), now=NOW)
    assert set(major.matter) <= {"major"}
    assert len(major) == (every.matter == "major").sum()
    passed = q.vote_table(con, q.PeopleFilters(F.date_from, F.date_to,
                                               states=("passed",)), now=NOW)
    assert len(passed) == (every.state == "passed").sum()
    one = every.compound.iloc[0]
    only = q.vote_table(con, q.PeopleFilters(F.date_from, F.date_to, compounds=(one,)),
                        now=NOW)
    assert set(only.compound) == {one}
    assert q.vote_table(con, q.PeopleFilters(F.date_from, F.date_to,
                                             compounds=("'; drop table votes; --",)),
                        now=NOW).empty


def test_participation_by_month__equals_participation_monthly(con):
    community = "龙塔社区"
    got = q.participation_by_month(con, q.PeopleFilters(F.date_from, F.date_to,
                                                        communities=(community,)))
    mine = {c for c, m in _community_of(con).items() if m == community}
    want = con.execute(
        "select compound, month, participating_households, households "
        "from participation_monthly where month between date '2026-01-01' "
        "and date '2026-11-23' order by all").fetchall()
    want = [w for w in want if w[0] in mine]
    assert len(got) == len(want) and set(got.compound) == mine
    for (compound, month, part, hh) in want:
        row = got[(got.compound == compound) & (got.month == month.isoformat())]
        row = row if not row.empty else got[(got.compound == compound)
                                            & (got.month.dt.date == month)]
        assert row.iloc[0].participation_pct == pytest.approx(round(100 * part / hh, 1))


def test_participation_by_compound__silent_compounds_have_no_acts(con):
    early = q.PeopleFilters(dt.date(2026, 1, 1), dt.date(2026, 2, 28))
    got = q.participation_by_compound(con, early)
    acts = dict(con.execute(
        "select compound, count(*) from ("
        " select v.compound from ballots b join votes v using (vote_id)"
        " where b.cast_at >= date '2026-01-01' and b.cast_at < date '2026-03-01'"
        " union all select compound from engagement"
        " where occurred_at >= date '2026-01-01' and occurred_at < date '2026-03-01')"
        " group by 1").fetchall())
    assert set(got.compound) == set(_community_of(con))
    silent = set(got[got.is_silent].compound)
    assert silent == {c for c in got.compound if acts.get(c, 0) == 0}
    whole = q.participation_by_compound(con, F)
    ballots = dict(con.execute(
        "select v.compound, count(*) from ballots b join votes v using (vote_id) "
        "where b.cast_at >= date '2026-01-01' and b.cast_at < date '2026-11-24' "
        "group by 1").fetchall())
    for r in whole.itertuples():
        assert r.ballots == ballots.get(r.compound, 0)


def test_ledger__statements_exact_and_entries_add_up(con):
    table = q.ledger_statements(con, F).to_pylist()
    want = con.execute("select compound, month, opening_yuan, income_yuan, expense_yuan, "
                       "adjustment_yuan, closing_yuan from ledger_monthly where month "
                       "between date '2026-01-01' and date '2026-11-23'").fetchall()
    assert len(table) == len(want)
    for r in table:
        assert isinstance(r["income_yuan"], Decimal)
        assert r["closing_yuan"] == (r["opening_yuan"] + r["income_yuan"]
                                     - r["expense_yuan"] + r["adjustment_yuan"])
    for r in table[:40]:
        lines = q.ledger_month_entries(con, r["compound"], r["month"]).to_pylist()
        income = sum((e["amount_yuan"] for e in lines
                      if e["direction"] == "income" and not e["is_adjustment"]),
                     Decimal("0.00"))
        expense = sum((e["amount_yuan"] for e in lines
                       if e["direction"] == "expense" and not e["is_adjustment"]),
                      Decimal("0.00"))
        assert (income, expense) == (r["income_yuan"], r["expense_yuan"])
        raw = con.execute(
            "select count(*) from ledger_entries where compound = ? and "
            "date_trunc('month', booked_on) = ?", [r["compound"], r["month"]]
        ).fetchall()[0][0]
        assert len(lines) == raw


def test_ledger_categories__add_up_to_statements(con):
    cats = q.ledger_categories(con, F).to_pylist()
    table = q.ledger_statements(con, F).to_pylist()
    for direction, col in (("income", "income_yuan"), ("expense", "expense_yuan")):
        assert sum((c["amount_yuan"] for c in cats if c["direction"] == direction),
                   Decimal(0)) == sum((r[col] + 0 for r in table), Decimal(0))
    raw = con.execute("select category, sum(amount_yuan) from ledger_entries where "
                      "direction = 'income' and booked_on >= date '2026-01-01' "
                      "group by 1").fetchall()
    got = {c["category"]: c["amount_yuan"] for c in cats if c["direction"] == "income"}
    assert got == dict(raw)


def _population(con, communities=()):
    return q.population_cells(con, small_count=K, year=2026,
                              key_groups=list(parse_key_groups(
                                  Settings.__dataclass_fields__["key_groups"].default)),
                              communities=communities)


def test_population__shown_counts_equal_raw_sql(con):
    cells = _population(con)
    shown = cells[cells.shown_count.notna()]
    residents = dict(con.execute("select community, count(*) from residents "
                                 "group by 1").fetchall())
    for r in shown[(shown.row_kind == 1) & (shown.measure == "residents")].itertuples():
        assert r.shown_count == residents[r.community] and r.cell == str(residents[
            r.community])
    old = dict(con.execute("select community, count(*) from residents where "
                           "2026 - birth_year >= 80 group by 1").fetchall())
    for r in shown[(shown.row_kind == 1) & (shown.measure == "age_80_plus")].itertuples():
        assert r.shown_count == old.get(r.community, 0)
    dibao = dict(con.execute(
        "select community || '/' || grid, count(*) from residents "
        "where list_contains(key_groups, 'dibao') group by 1").fetchall())
    for r in cells[(cells.row_kind == 0) & (cells.measure == "kg:dibao")].itertuples():
        n = dibao.get(f"{r.community}/{r.grid}", 0)
        if 1 <= n < K:
            assert r.cell == f"<{K}" and r.shown_count != r.shown_count  # NaN
        elif r.cell != "—":
            assert r.cell == str(n)


def test_population__suppression_shows_lt_k_and_totals_do_not_reveal_it(con):
    cells = _population(con)
    assert (cells.cell == f"<{K}").any()
    hidden = cells.cell.isin([f"<{K}", "—"])
    assert cells[hidden].shown_count.isna().all()
    for value in cells[~hidden].cell:
        assert int(value) == 0 or int(value) >= K
    # per measure: within a community with a shown total, never exactly one hidden grid
    grids = cells[cells.row_kind == 0].assign(hidden=hidden)
    totals = cells[cells.row_kind == 1].assign(hidden=hidden)
    for (community, measure), part in grids.groupby(["community", "measure"]):
        total_hidden = totals[(totals.community == community)
                              & (totals.measure == measure)].hidden.iloc[0]
        n = int(part.hidden.sum())
        assert n != 1 or total_hidden, (community, measure)
        if total_hidden:
            assert n >= 1, (community, measure)
    # across communities: the sub-district total never isolates one hidden community
    for measure, part in totals.groupby("measure"):
        assert int(part.hidden.sum()) != 1, measure
    # linked columns: residence and age bands add up to residents -> hidden together
    for prefix in ("res_", "age_"):
        group = cells[cells.measure.str.startswith(prefix)].assign(hidden=hidden)
        for _, row in group.groupby(["row_kind", "community", "grid"], dropna=False):
            assert row.hidden.all() or not row.hidden.any()


def test_population__community_filter_keeps_the_same_pattern(con):
    every = _population(con)
    one = _population(con, communities=("龙塔社区",))
    assert set(one.community) == {"龙塔社区"}
    both = every[every.community == "龙塔社区"].reset_index(drop=True)
    assert both.cell.tolist() == one.cell.tolist()
    table = q.population_table(con, small_count=K, year=2026, key_groups=["dibao"],
                               communities=("龙塔社区",))
    assert list(table.columns[:5]) == ["row_kind", "community", "grid", "residents",
                                       "households"]


def test_accounts_total_row__is_the_sub_districts_statement_in_sql(con):
    from dashboards._explore_people import statement_totals

    got = statement_totals(q.ledger_statements(con, F))
    sums = con.execute(
        "select sum(income_yuan), sum(expense_yuan), sum(adjustment_yuan), "
        "count(distinct compound) from ledger_monthly "
        "where month between date '2026-01-01' and date '2026-11-23'").fetchall()[0]
    # each compound's first month's opening and last month's closing, summed
    ends = con.execute(
        "select sum(arg_min(opening_yuan, month)) over (), "
        "sum(arg_max(closing_yuan, month)) over () from ledger_monthly "
        "where month between date '2026-01-01' and date '2026-11-23' "
        "group by compound limit 1").fetchall()[0]
    assert (got["income_yuan"], got["expense_yuan"], got["adjustment_yuan"],
            got["compounds"]) == sums
    assert (got["opening_yuan"], got["closing_yuan"]) == ends
    assert isinstance(got["closing_yuan"], Decimal)
    assert got["closing_yuan"] == (got["opening_yuan"] + got["income_yuan"]
                                   - got["expense_yuan"] + got["adjustment_yuan"])
    one = q.PeopleFilters(dt.date(2026, 3, 1), dt.date(2026, 3, 31), compounds=("金桂苑",))
    march = con.execute("select income_yuan, expense_yuan, closing_yuan from ledger_monthly "
                        "where compound = '金桂苑' and month = date '2026-03-01'").fetchall()[0]
    t = statement_totals(q.ledger_statements(con, one))
    assert (t["income_yuan"], t["expense_yuan"], t["closing_yuan"]) == march
    assert statement_totals(q.ledger_statements(
        con, q.PeopleFilters(dt.date(2000, 1, 1), dt.date(2000, 1, 31)))) is None


def test_accounts_rows__the_running_month_says_so(con):
    """A month still running has a balance so far, not a closing: its row and the
    total's end read 至今; whole months do not."""
    from dashboards._explore_people import statement_totals
    from dashboards._explore_people import statement_rows, total_row

    statements = q.ledger_statements(con, F)
    running = dt.date(2026, 11, 1)
    rows = statement_rows(statements, running)
    marked = {r["month"] for r in rows if r["month"].endswith("（至今）")}
    assert marked == {"2026-11（至今）"}
    assert sum(r["month"] == "2026-11（至今）" for r in rows) == con.execute(
        "select count(*) from ledger_monthly where month = date '2026-11-01'").fetchone()[0]
    assert total_row(statement_totals(statements), running)["month"] == "2026-01–2026-11（至今）"
    assert total_row(statement_totals(statements))["month"] == "2026-01–2026-11"
