"""One definition for every figure: the wall, the explorer and the exports agree with the
metric layer for the same window and filters, and the layer agrees with hand counts.

Hypothesis draws the clock, the community and the window (month to date at the data
cut-off; a complete month judged some days after it ended), and for the people figures
the month, the community and the small-count threshold k.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pipelines import warnings_engine
from pipelines.metrics import Window
from pipelines.metrics.compute import (
    data_cutoff,
    ledger_figures,
    participation_cutoff,
    participation_figures,
    population_figures,
    suppress,
    ticket_figures,
    vote_figures,
)
from pipelines.queries import explore, exports, wall
from pipelines.settings import Settings, parse_key_groups
from pipelines.warnings_rules import RULES, load_config
from tests.factories import TEST_SECRET, ticket_row, write_csv

NOW = dt.datetime(2026, 11, 23, 10, 30)
COMMUNITIES = [None, "龙塔社区", "望江社区", "南坪社区"]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    """The demo sub-district (one year, 6,000 tickets, its people, votes and ledger)
    loaded by the real loaders."""
    from pipelines.bootstrap import load_demo_inputs
    from pipelines.demo import write_demo

    tmp = tmp_path_factory.mktemp("agree")
    s = Settings(db_path=tmp / "w.duckdb", demo_dir=tmp / "demo", secret=TEST_SECRET,
                 secret_file=tmp / "key", calendar_file=None)
    files = write_demo(tmp / "demo", years=1, tickets_per_year=6000, today=NOW.date(),
                       clock=NOW.time().replace(minute=0))
    load_demo_inputs(s, files)
    c = duckdb.connect(str(s.db_path), read_only=True)
    yield c
    c.close()


def _explorer(con, w: Window, community: str | None, as_of: dt.datetime) -> dict:
    f = explore.TicketFilters(w.start.date(), w.end.date(),
                              communities=(community,) if community else ())
    return explore.ticket_summary(con, f, now=as_of).set_index("period").loc["current"]


def _export_totals(con, w: Window, community: str | None, as_of: dt.datetime) -> dict:
    t = exports.closure_rates(con, date_from=w.start.date(), date_to=w.end.date(),
                              as_of=as_of, community=community).to_pylist()
    return {k: sum(r[k] for r in t) for k in
            ("tickets", "closed", "closed_on_time", "overdue", "rated", "satisfied")}


_SETTINGS = hsettings(max_examples=25, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(minutes=st.integers(0, 60 * 24 * 300), community=st.sampled_from(COMMUNITIES))
def test_month_to_date__wall_explorer_and_layer_agree(con, minutes, community):
    now = NOW - dt.timedelta(minutes=minutes)
    cut = data_cutoff(con, now)
    w = Window.to_date("month", cut)
    want = ticket_figures(con, w, community=community, response_hours=6)
    d = wall.wall_view_data(con, "closure", now=now, settings=Settings(response_hours=6),
                            filters={"community": community} if community else None)
    total, response = d["total"], d["response"]
    assert d["cutoff"] == cut
    assert (total["reported_count"], total["closed_count"], total["closure_pct"],
            total["on_time_pct"], response["escalated_count"],
            response["satisfaction_pct"]) == (
        want["reported"], want["closed"], want["closure_pct"], want["on_time_pct"],
        want["escalations"], want["satisfaction_pct"])
    assert d["overdue_total"] == want["overdue_open"]
    levels = wall.wall_view_data(con, "levels", now=now,
                                 filters={"community": community} if community else None)
    assert levels["month_total"] == want["reported"]
    assert levels["open_total"] == want["open"]
    x = _explorer(con, w, community, cut)
    assert (x["reported_count"], x["closed_count"], x["overdue_count"]) == (
        want["reported"], want["closed"], want["overdue"])
    for key in ("closure_pct", "on_time_pct", "satisfaction_pct"):
        assert (None if x[key] != x[key] else x[key]) == want[key], key


@_SETTINGS
@given(month_back=st.integers(1, 10), days_after=st.integers(0, 40),
       community=st.sampled_from(COMMUNITIES))
def test_complete_month__explorer_export_and_layer_agree(con, month_back, days_after,
                                                         community):
    day = (NOW.date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for _ in range(month_back - 1):
        day = (day - dt.timedelta(days=1)).replace(day=1)
    as_of = Window.complete("month", day).period_end + dt.timedelta(days=days_after,
                                                                    hours=9)
    w = Window.complete("month", day, as_of)
    want = ticket_figures(con, w, community=community)
    x = _explorer(con, w, community, as_of)
    e = _export_totals(con, w, community, as_of)
    assert (x["reported_count"], x["closed_count"], x["on_time_count"],
            x["overdue_count"]) == (want["reported"], want["closed"],
                                    e["closed_on_time"], want["overdue"])
    assert (e["tickets"], e["closed"], e["overdue"]) == (
        want["reported"], want["closed"], want["overdue"])
    assert x["closure_pct"] == want["closure_pct"]
    assert x["on_time_pct"] == want["on_time_pct"]


# --------------------------------------------------- participation, ledger, population


def _month(month_back: int) -> dt.date:
    day = NOW.date().replace(day=1)
    for _ in range(month_back):
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return day


def _month_end(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def _people(first: dt.date, last: dt.date, community: str | None):
    return explore.PeopleFilters(first, last, communities=(community,) if community else ())


@_SETTINGS
@given(month_back=st.integers(0, 10), community=st.sampled_from(COMMUNITIES))
def test_participation__wall_explorer_export_and_layer_agree(con, month_back, community):
    """participation_pct of a month (the running one to the data cut-off): the wall's
    trend, each compound in the explorer and the export, the layer's figure."""
    first = _month(month_back)
    last = _month_end(first)
    want = participation_figures(con, first, community=community)
    d = wall.wall_view_data(con, "participation", now=NOW,
                            filters={"community": community} if community else None)
    shown = [r for r in d["trend"] if r["month"] == first]
    if not shown:  # before the first act: nothing anywhere
        assert want["households"] is None
    else:
        assert shown[0]["participation_pct"] == want["participation_pct"]
        assert shown[0]["is_partial"] == (month_back == 0)
    if month_back == 1:  # each compound's latest whole month
        for c in d["compounds"]:
            assert c["latest_pct"] == participation_figures(
                con, first, compound=c["compound"])["participation_pct"], c["compound"]
    x = explore.participation_by_month(con, _people(first, last, community))
    x = x[x["month"].dt.date == first]
    assert (int(x["participating_households"].sum()), int(x["households"].sum())) == (
        want["participating_households"] or 0, want["households"] or 0)
    for r in x.itertuples():
        assert r.participation_pct == participation_figures(
            con, first, compound=r.compound)["participation_pct"], r.compound
    e = exports.participation(con, date_from=first, date_to=last,
                              community=community).to_pylist()
    assert (sum(r["participating_households"] for r in e),
            sum(r["households"] for r in e)) == (want["participating_households"] or 0,
                                                 want["households"] or 0)
    for r in e:
        pct = participation_figures(con, first, compound=r["compound"])["participation_pct"]
        assert r["participation_rate"] is None or abs(
            float(r["participation_rate"]) * 100 - pct) <= 0.05 + 1e-9, r["compound"]


@_SETTINGS
@given(month_back=st.integers(0, 10), community=st.sampled_from(COMMUNITIES))
def test_votes__turnout_and_approval_agree_everywhere(con, month_back, community):
    """turnout_owners_pct and approval_owners_pct per vote: the wall's open votes, the
    explorer's table and the export (a fraction) are the vote_results mart's."""
    first = _month(month_back)
    last = _month_end(first)
    want = vote_figures(con)
    x = explore.vote_table(con, _people(first, last, community), now=NOW)
    e = exports.vote_results(con, date_from=first, date_to=last, as_of=NOW,
                             community=community).to_pylist()
    assert sorted(x["vote_id"]) == sorted(r["vote_id"] for r in e)
    for r in x.itertuples():
        w = want[r.vote_id]
        assert (r.turnout_owners_pct, _opt(r.approval_owners_pct)) == (
            float(w["turnout_owners_pct"]), _opt(w["approval_owners_pct"])), r.vote_id
    for r in e:  # the export's fraction is the mart's percentage rounded to 4 places
        w = want[r["vote_id"]]
        assert abs(float(r["turnout_owners"]) * 100 - w["turnout_owners_pct"]) <= 0.005 + 1e-9
        if w["approval_owners_pct"] is None:
            assert r["approval_owners"] is None, r["vote_id"]
        else:
            assert abs(float(r["approval_owners"]) * 100 - w["approval_owners_pct"]
                       ) <= 0.005 + 1e-9, r["vote_id"]
    if month_back == 0:
        d = wall.wall_view_data(con, "participation", now=NOW,
                                filters={"community": community} if community else None)
        for v in d["votes"]:
            w = want[v["vote_id"]]
            assert (v["turnout_owners_pct"], v["approval_owners_pct"]) == (
                float(w["turnout_owners_pct"]), _opt(w["approval_owners_pct"]))


def _opt(value) -> float | None:
    """A percentage as a float, or None (no votes cast: no approval)."""
    if value is None:
        return None
    return None if math.isnan(float(value)) else float(value)


@_SETTINGS
@given(month_back=st.integers(0, 10), community=st.sampled_from(COMMUNITIES))
def test_ledger__income_expense_and_balance_agree_everywhere(con, month_back, community):
    """income, expense and balance of a month, exact decimals: the wall (in that month),
    the explorer's statements and the export, summed over the compounds in scope."""
    first = _month(month_back)
    last = _month_end(first)
    want = ledger_figures(con, first, community=community)
    now = dt.datetime.combine(last, dt.time(18)) if month_back else NOW
    d = wall.wall_view_data(con, "accounts", now=now,
                            filters={"community": community} if community else None)
    assert d["month"] == first
    assert (d["income_yuan"], d["expense_yuan"], d["closing_yuan"]) == (
        want["income"] or 0, want["expense"] or 0, want["balance"] or 0)
    x = explore.ledger_statements(con, _people(first, last, community)).to_pylist()
    e = exports.ledger_statement(con, date_from=first, date_to=last,
                                 community=community).to_pylist()
    for rows, keys in ((x, ("income_yuan", "expense_yuan", "closing_yuan")),
                       (e, ("income", "expense", "closing"))):
        sums = tuple(sum(r[k] for r in rows) for k in keys)
        assert sums == (want["income"] or 0, want["expense"] or 0, want["balance"] or 0)


GROUPS = list(parse_key_groups(Settings().key_groups))


@_SETTINGS
@given(community=st.sampled_from(COMMUNITIES), k=st.sampled_from([1, 5, 20, 200]))
def test_population__residents_and_key_groups_agree_everywhere(con, community, k):
    """residents, key_group_people and each key group's count over the scope: the wall,
    the explorer's and the export's total rows, suppressed alike when from 1 to k-1."""
    want = population_figures(con, community=community)
    d = wall.wall_view_data(con, "population", now=NOW, settings=Settings(small_count=k),
                            filters={"community": community} if community else None)
    assert d["totals"]["residents"]["value"] == suppress(want["residents"], k)
    assert d["key_group_people"]["value"] == suppress(want["key_group_people"], k)
    x = explore.population_cells(con, small_count=k, key_groups=GROUPS, year=NOW.year,
                                 communities=(community,) if community else ())
    x = x[x["row_kind"] == (1 if community else 2)].set_index("measure")
    [e] = [r for r in exports.population_summary(con, small_count=k, key_groups=GROUPS,
                                                 community=community).to_pylist()
           if r["grid"] == "合计" and (r["community"] == community or not community)
           and (community or r["community"] == "合计")]
    for measure, code in [("residents", "residents")] + [(f"kg:{g}", g) for g in GROUPS]:
        value = want.get(measure, 0)
        shown = [d["totals"].get(measure, {"value": 0})["value"],
                 _count(x.loc[measure, "shown_count"]), _count(e[code])]
        if value is not None and 1 <= value < k:
            assert shown == [None, None, None], measure
        else:  # shown as counted, or hidden so that another small count stays hidden
            assert all(v in (value, None) for v in shown), (measure, shown, value)
            assert shown[0] == value or community, measure  # a total is never hidden


def _count(cell) -> int | None:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    text = str(cell)
    return int(float(text)) if text.replace(".", "", 1).isdigit() else None


# ------------------------------------------------------------- hand-made warehouse


@pytest.fixture
def hand(settings, tmp_path):
    """Six level-1 tickets in November 2026 (deadline: the end of the day reported)."""
    from pipelines.loader import load_files

    rows = [
        # closed the same day: on time
        ticket_row(ticket_id="A", reported_at="2026-11-10 09:00:00",
                   accepted_at="2026-11-10 09:05:00", closed_at="2026-11-10 12:00:00",
                   responded_at="2026-11-10 10:00:00", updated_at="2026-11-10 12:00:00"),
        # closed after November ended: open at the end of November, late when closed
        ticket_row(ticket_id="B", reported_at="2026-11-29 09:00:00",
                   accepted_at="2026-11-29 09:05:00", closed_at="2026-12-02 10:00:00",
                   responded_at="2026-11-29 10:00:00", satisfaction="",
                   updated_at="2026-12-02 10:00:00"),
        # never closed: overdue since 11-20 23:59
        ticket_row(ticket_id="C", reported_at="2026-11-20 09:00:00",
                   accepted_at="2026-11-20 09:05:00", closed_at="",
                   responded_at="", satisfaction="", updated_at="2026-11-20 09:00:00"),
        # closed a day late, inside November
        ticket_row(ticket_id="D", reported_at="2026-11-05 09:00:00",
                   accepted_at="2026-11-05 09:05:00", closed_at="2026-11-06 09:00:00",
                   responded_at="2026-11-05 20:00:00", satisfaction="unsatisfied",
                   updated_at="2026-11-06 09:00:00"),
        # another community: outside a 望江社区 filter
        ticket_row(ticket_id="E", community="望江社区", grid="望江社区第1网格",
                   reported_at="2026-11-11 09:00:00", accepted_at="2026-11-11 09:05:00",
                   closed_at="2026-11-11 11:00:00", responded_at="2026-11-11 09:30:00",
                   updated_at="2026-11-11 11:00:00"),
        # October: outside the window
        ticket_row(ticket_id="F", reported_at="2026-10-31 09:00:00",
                   accepted_at="2026-10-31 09:05:00", closed_at="2026-10-31 10:00:00",
                   responded_at="2026-10-31 09:30:00", updated_at="2026-10-31 10:00:00"),
    ]
    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", rows)])
    c = duckdb.connect(str(settings.db_path), read_only=True)
    yield c
    c.close()


def test_hand_made__figures_at_the_end_of_november_and_a_week_later(hand):
    at_end = Window.complete("month", dt.date(2026, 11, 1))
    f = ticket_figures(hand, at_end, community="龙塔社区")
    # A on time; D late; B open (within its limit? no: its deadline 11-29 23:59 passed)
    assert (f["reported"], f["closed"], f["closed_late"], f["overdue"]) == (4, 2, 1, 2)
    assert f["missed_deadline"] == 3 and f["closure_pct"] == 50.0
    assert f["on_time_pct"] == 25.0  # A ÷ (A, D closed + B, C overdue)
    assert f["satisfaction_pct"] == 50.0  # A satisfied, D unsatisfied
    assert (f["open"], f["overdue_open"]) == (2, 2)
    later = Window.complete("month", dt.date(2026, 11, 1), dt.datetime(2026, 12, 7))
    g = ticket_figures(hand, later, community="龙塔社区")
    # B was closed on 12-02: now closed, late; C still overdue
    assert (g["closed"], g["closed_late"], g["overdue"], g["closure_pct"]) == (3, 2, 1, 75.0)
    assert g["median_close_hours"] == 24.0  # 3 h (A), 24 h (D), 73 h (B)
    everyone = ticket_figures(hand, later)
    assert everyone["reported"] == 5


def test_hand_made_vote__wall_and_explorer_show_the_declared_turnout_and_approval(
        settings, tmp_path):
    """A vote of 3 owners and 300 m²: owners of 100 m² and 50 m² vote yes. Turnout is
    2/3 by owners (66.67%) and 1/2 by area, approval 100%: the turnout_owners_pct and
    approval_owners_pct metrics, the same on the wall and in the explorer."""
    from pipelines.loader import load_files
    from pipelines.metrics import metric
    from tests.factories import ballot_row, resident_row, vote_row

    def load(source, rows):
        load_files(settings, source, [write_csv(tmp_path / f"{source}.csv", rows)])

    load("population", [resident_row()])
    vote = vote_row(vote_id="V1", eligible_owners=3, eligible_area_m2="300.00")
    load("votes", [vote])
    load("ballots", [ballot_row(vote_id="V1", choice="yes", area_m2=area)
                     for area in ("100.00", "50.00")])
    assert metric("turnout_owners_pct").source == "vote_results"
    c = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        now = dt.datetime(2025, 9, 5, 12)
        [shown] = wall.participation_data(c, wall.Clock.at(now), small_count=5)["votes"]
        listed = explore.vote_table(
            c, explore.PeopleFilters(dt.date(2025, 9, 1), dt.date(2025, 9, 30)), now=now
        ).set_index("vote_id").loc["V1"]
    finally:
        c.close()
    # by hand: 2 of 3 owners, 150 of 300 m²; unrounded, so a surface rounds once
    # not at risk at the wall's time: 4.1 of the vote's 14.5 days gone, 150 m² projects
    # to about 526 m², over the 200 m² (2/3) the law asks for
    assert (shown["turnout_owners_pct"], shown["turnout_area_pct"],
            shown["approval_owners_pct"], shown["is_at_risk"]) == (
        pytest.approx(200 / 3), 50.0, 100.0, False)
    assert (float(listed["turnout_owners_pct"]), float(listed["approval_owners_pct"])) == (
        pytest.approx(200 / 3), 100.0)


# ------------------------------------ hand-made people: participation, ledger, population

LOADED_AT = dt.datetime(2026, 11, 25, 9, 0)  # the ledger's statement runs to November
WALL_AT = dt.datetime(2026, 12, 3, 15, 40)  # the newest act is 12-02 08:30
LONGTA, WANGJIANG = "龙塔社区", "望江社区"


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    """金竹苑: households HA1-HA3 live in 龙塔社区 and HB1 in 望江社区, so the compound is
    龙塔社区's (most residents); 江景苑: HC1, HC2 in 望江社区. November: HA1 (yes) and
    HB1 (no) vote in V1 (4 owners, 400 m²), HA2 answers a questionnaire, HC1 gives an
    opinion; 12-02 08:30 HA3 answers one. Ledger, November: 金竹苑 +1000.00 −373.20,
    江景苑 +200.00, loaded on 11-25. Key groups: HA1 低保, HA2 and HB1 高龄."""
    from pipelines import derived
    from pipelines.loader import load_files
    from tests.factories import ballot_row, ledger_row, resident_row, vote_row

    tmp = tmp_path_factory.mktemp("people")
    s = Settings(db_path=tmp / "w.duckdb", demo_dir=tmp / "demo", secret=TEST_SECRET,
                 secret_file=tmp / "key", calendar_file=None)

    def load(source, rows):
        load_files(s, source, [write_csv(tmp / f"{source}.csv", rows)], progress=False)

    def event(eid, compound, kind, when, household):
        return {"event_id": eid, "compound": compound, "kind": kind, "occurred_at": when,
                "person_id": "", "household_id": household}

    a = [resident_row(compound="金竹苑", household_id=f"HA{i}", key_groups=kg)
         for i, kg in ((1, "低保"), (2, "高龄"), (3, ""))]
    b = resident_row(compound="金竹苑", community=WANGJIANG, grid="望江社区第1网格",
                     household_id="HB1", key_groups="高龄")
    c = [resident_row(compound="江景苑", community=WANGJIANG, grid="望江社区第1网格",
                      household_id=f"HC{i}") for i in (1, 2)]
    with pytest.MonkeyPatch.context() as mp:
        # the load's clock: which months the ledger statement runs to, and publishes
        mp.setattr(derived, "local_now", lambda _settings: LOADED_AT)
        load("population", [*a, b, *c])
        load("votes", [vote_row(vote_id="V1", compound="金竹苑", eligible_owners=4,
                                eligible_area_m2="400.00", opens_at="2026-11-20 09:00:00",
                                closes_at="2026-12-10 20:00:00")])
        load("ballots", [
            ballot_row(vote_id="V1", owner_id=a[0]["person_id"], choice="yes",
                       cast_at="2026-11-21 10:00:00"),
            ballot_row(vote_id="V1", owner_id=b["person_id"], choice="no",
                       cast_at="2026-11-22 10:00:00")])
        load("engagement", [
            event("E1", "金竹苑", "questionnaire", "2026-11-10 10:00:00", "HA2"),
            event("E2", "江景苑", "opinion", "2026-11-12 10:00:00", "HC1"),
            event("E3", "金竹苑", "questionnaire", "2026-12-02 08:30:00", "HA3")])
        load("ledger", [
            ledger_row(compound="金竹苑", booked_on="2026-11-05", amount="1000.00"),
            ledger_row(compound="金竹苑", booked_on="2026-11-10", direction="expense",
                       category="印刷", amount="373.20"),
            ledger_row(compound="江景苑", booked_on="2026-11-08", amount="200.00")])
    con = duckdb.connect(str(s.db_path), read_only=True)
    yield s, con
    con.close()


NOV, DEC = dt.date(2026, 11, 1), dt.date(2026, 12, 1)


def test_hand_made_people__participation_by_hand_with_a_compound_in_two_communities(
        people):
    """November: 4 of 6 households took part (66.7%); 金竹苑 counts whole in 龙塔社区,
    HB1 (who lives in 望江社区) included: 3 of 4 (75.0%); 望江社区 is 江景苑: 1 of 2."""
    _, con = people
    by_hand = {None: 66.7, LONGTA: 75.0, WANGJIANG: 50.0}
    for community, pct in by_hand.items():
        assert participation_figures(con, NOV, community=community)[
            "participation_pct"] == pct, community
        d = wall.wall_view_data(con, "participation", now=WALL_AT,
                                filters={"community": community} if community else None)
        assert d["latest"]["month"] == NOV and d["latest"]["participation_pct"] == pct
        x = explore.participation_by_month(
            con, _people(NOV, dt.date(2026, 11, 30), community))
        assert set(x["community"]) <= {community} if community else True
        e = exports.participation(con, date_from=NOV, date_to=dt.date(2026, 11, 30),
                                  community=community).to_pylist()
        assert round(100 * sum(r["participating_households"] for r in e)
                     / sum(r["households"] for r in e), 1) == pct
    assert participation_figures(con, DEC)["participation_pct"] == 16.7  # HA3: 1 of 6


def test_hand_made_people__the_running_month_ends_at_the_newest_act_not_the_clock(people):
    """At 12-03 15:40 the newest act is 12-02 08:30: December so far is 2 days, to
    08:30, as the ticket figures run to the newest ticket."""
    _, con = people
    assert participation_cutoff(con, WALL_AT) == dt.datetime(2026, 12, 2, 8, 30)
    d = wall.wall_view_data(con, "participation", now=WALL_AT)
    assert d["window"]["zh"] == "本月至今 2 天（截至 12-02 08:30）"
    assert d["running"]["month"] == DEC and d["running"]["participation_pct"] == 16.7
    # the vote is open at the wall clock: 2 of 4 owners, 1 of 2 yes
    [v] = d["votes"]
    assert (v["vote_id"], v["turnout_owners_pct"], v["approval_owners_pct"]) == (
        "V1", 50.0, 50.0)


def test_hand_made_people__ledger_by_hand(people):
    _, con = people
    D = Decimal
    assert ledger_figures(con, NOV) == {"income": D("1200.00"), "expense": D("373.20"),
                                        "balance": D("826.80")}
    assert ledger_figures(con, NOV, community=LONGTA) == {
        "income": D("1000.00"), "expense": D("373.20"), "balance": D("626.80")}
    assert ledger_figures(con, NOV, community=WANGJIANG)["balance"] == D("200.00")


@pytest.mark.parametrize(("now", "final"), [
    (dt.datetime(2026, 11, 28, 12), False),  # November running
    (dt.datetime(2026, 12, 5, 12), False),   # ended, published on 12-11
    (dt.datetime(2026, 12, 10, 23, 59), False),
    (dt.datetime(2026, 12, 11, 0, 0), True),
])
def test_hand_made_ledger__no_closing_balance_for_a_running_or_unpublished_month(
        people, now, final):
    """期末结余 is shown only once November has ended and is published (10 days after,
    WALL_LEDGER_PUBLISH_DAYS); before, income − expense so far, never a closing."""
    from dashboards._wall_views import accounts_view, fmt_wan

    _, con = people
    d = wall.wall_view_data(con, "accounts", now=now)
    assert d["month"] == NOV and d["is_final"] is final
    assert d["net_yuan"] == Decimal("826.80")
    text = str(accounts_view(d, "zh"))
    assert ("期末结余合计" in text) is final
    # the wall shows money in 万元
    assert (fmt_wan(Decimal("826.80")) in text) and (("收支差（未公布）" in text) is not final)


def test_hand_made_people__population_by_hand(people):
    """Residents count where they live: HB1 in 望江社区 though 金竹苑 is 龙塔社区's."""
    _, con = people
    assert population_figures(con, community=LONGTA) == {
        "residents": 3, "households": 3, "registered": 3, "non_registered": 0,
        "key_group_people": 2, "kg:dibao": 1, "kg:elderly_80": 1}
    got = population_figures(con, community=WANGJIANG)
    assert (got["residents"], got["key_group_people"], got["kg:elderly_80"],
            got["kg:dibao"]) == (3, 1, 1, 0)
    d = wall.wall_view_data(con, "population", now=WALL_AT, settings=Settings(small_count=2))
    assert d["totals"]["residents"]["value"] == 6
    assert d["totals"]["kg:elderly_80"]["value"] == 2
    assert d["totals"]["kg:dibao"]["value"] is None  # 1 < k = 2: suppressed


@pytest.mark.parametrize(("report", "start", "end", "zh", "partial"), [
    ("participation", DEC, dt.date(2026, 12, 31), "2026-12-01–12-02 08:30（至今）", True),
    ("participation", NOV, dt.date(2026, 11, 30), "2026-11-01–2026-11-30", False),
    ("vote_results", DEC, dt.date(2026, 12, 31), "2026-12-01–12-03 15:40（至今）", True),
    ("ledger_statement", DEC, dt.date(2026, 12, 31), "2026-12-01–12-03 15:40（至今）", True),
    ("ledger_statement", NOV, dt.date(2026, 11, 30), "2026-11-01–2026-11-30", False),
    ("population_summary", NOV, dt.date(2026, 11, 30), "最新人口数据（截至 2025-09-01 10:00）",
     False),
])
def test_hand_made_exports__each_manifest_states_its_window(people, tmp_path, report,
                                                             start, end, zh, partial):
    """Every figure states its window: a running period says so, participation runs to
    its newest act, a population report is a snapshot of the newest record."""
    import json

    from pipelines import exports as export_files

    settings, _ = people
    job = export_files.ExportJob(report=report,
                                 period=export_files.Period.between(start, end),
                                 out=tmp_path, file="{report}_{period}.csv")
    [record] = export_files.export_report(settings, job, as_of=WALL_AT)
    assert record.status == "ok", record
    manifest = json.loads(export_files.manifest_path(Path(record.output_path)).read_text(
        encoding="utf-8"))
    assert manifest["window"]["zh"] == zh
    assert manifest["window"]["is_partial"] is partial
    assert manifest["window"]["en"]


# A warning states the figure the wall and the explorer show: the community rules judge
# the layer's figures per community over the same window.
def _warned(s: Settings, con, rule_id: str, as_of: dt.datetime, **params) -> dict:
    """{community: observed} of `rule_id` with thresholds that let every figure fire."""
    config = load_config(s.warnings_file)
    config.rules.clear()
    config.rules[rule_id] = {**RULES[rule_id].params, **params}
    return {w["community"]: w["observed"]
            for w in warnings_engine.rule_warnings(con, s, config, as_of)}


def test_response_timeouts__states_the_layers_rate_over_the_last_7_days(con):
    s = Settings()
    as_of = data_cutoff(con, NOW)
    found = _warned(s, con, "response_timeouts", as_of, pct=0.0, min_tickets=0)
    window = Window.rolling(7, as_of)
    want = {}
    for community in {c for (c,) in con.execute("select distinct community from tickets")
                      .fetchall()}:
        rate = ticket_figures(con, window, community=community,
                              response_hours=s.response_hours)["response_timeout_pct"]
        if rate is not None and rate > 0:
            want[community] = Decimal(str(rate))
    assert len(want) >= 3
    assert found == want


def test_satisfaction_low__states_the_explorers_rate_over_the_last_30_days(con):
    s = Settings()
    as_of = data_cutoff(con, NOW)
    found = _warned(s, con, "satisfaction_low", as_of, pct=100.0, min_rated=0)
    assert len(found) >= 3
    for community, value in found.items():
        f = explore.TicketFilters(as_of.date() - dt.timedelta(days=29), as_of.date(),
                                  communities=(community,))
        shown = explore.ticket_summary(con, f, now=as_of).set_index("period")
        assert value == Decimal(str(shown.loc["current", "satisfaction_pct"])), community


def test_overdue_open__states_the_walls_count_per_community(con):
    s = Settings()
    as_of = data_cutoff(con, NOW)
    found = _warned(s, con, "overdue_open", as_of, count=0)
    shown = wall.map_data(con, wall.Clock.at(now=as_of))["figures"]
    want = {c: Decimal(f["overdue_open_count"]) for c, f in shown.items()
            if f["overdue_open_count"]}
    assert len(want) >= 3
    assert found == want
