"""Votes, ballots and engagement: quarantine rules, ballot replacement, Civil Code art. 278
thresholds at their exact edges, on-track projection, and monthly participation rates.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from pipelines.loader import load_files
from pipelines.settings import local_now
from tests.accounting import assert_accounted
from tests.factories import ballot_row, national_id, resident_row, vote_row, write_csv


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


def result(settings, vote_id: str) -> dict:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        cur = con.execute("select * from vote_results where vote_id = $v", {"v": vote_id})
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))
    finally:
        con.close()


def cast(settings, tmp_path, vote: dict, ballots: list[tuple[str, str]],
         cast_at: str = "2025-09-02 10:00:00") -> dict:
    """Load `vote` and one ballot per (choice, area); return its vote_results row."""
    load(settings, tmp_path, "votes", [vote])
    report = load(settings, tmp_path, "ballots", [
        ballot_row(vote_id=vote["vote_id"], choice=choice, area_m2=area, cast_at=cast_at)
        for choice, area in ballots])
    assert report.quarantined == 0
    return result(settings, vote["vote_id"])


def test_vote_results__two_thirds_of_owners_but_not_of_area_fails(settings, tmp_path):
    vote = vote_row(vote_id="V1", eligible_owners=3, eligible_area_m2="300.00")
    got = cast(settings, tmp_path, vote, [("yes", "100.00"), ("yes", "99.99")])
    assert (got["voted_owners"], got["voted_area_m2"]) == (2, Decimal("199.99"))
    assert not got["meets_turnout"] and got["meets_approval"]
    assert got["state"] == "failed"


def test_vote_results__exactly_two_thirds_by_owners_and_area_passes(settings, tmp_path):
    vote = vote_row(vote_id="V1", eligible_owners=3, eligible_area_m2="300.00")
    got = cast(settings, tmp_path, vote, [("yes", "100.00"), ("yes", "100.00")])
    assert got["meets_turnout"] and got["state"] == "passed"
    assert got["turnout_owners_pct"] == pytest.approx(200 / 3)


def test_vote_results__exactly_three_quarters_passes_a_major_matter(settings, tmp_path):
    vote = vote_row(vote_id="V1", matter="major", eligible_owners=4,
                    eligible_area_m2="400.00")
    got = cast(settings, tmp_path, vote, [("yes", "100.00")] * 3 + [("no", "100.00")])
    assert got["meets_approval"] and got["state"] == "passed"
    assert got["approval_owners_pct"] == Decimal("75.00")


def test_vote_results__just_under_three_quarters_by_area_fails_a_major_matter(
        settings, tmp_path):
    vote = vote_row(vote_id="V1", matter="重大事项", eligible_owners=4,
                    eligible_area_m2="400.00")
    got = cast(settings, tmp_path, vote, [("yes", "100.00")] * 2 + [("yes", "99.99"),
                                                                     ("no", "100.01")])
    assert got["matter"] == "major"
    assert not got["meets_approval"] and got["state"] == "failed"


def test_vote_results__exactly_half_fails_an_ordinary_matter(settings, tmp_path):
    vote = vote_row(vote_id="V1", eligible_owners=4, eligible_area_m2="400.00")
    got = cast(settings, tmp_path, vote, [("yes", "100.00")] * 2 + [("no", "100.00")] * 2)
    assert got["meets_turnout"] and not got["meets_approval"]
    assert got["state"] == "failed"


def test_vote_results__abstentions_count_for_turnout_not_approval(settings, tmp_path):
    vote = vote_row(vote_id="V1", eligible_owners=3, eligible_area_m2="300.00")
    got = cast(settings, tmp_path, vote, [("yes", "100.00"), ("弃权", "100.00"),
                                          ("同意", "100.00")])
    assert (got["yes_owners"], got["abstain_owners"]) == (2, 1)
    assert got["state"] == "passed"


def test_vote_results__no_ballots_fails_even_a_major_matter(settings, tmp_path):
    load(settings, tmp_path, "votes", [vote_row(vote_id="V1", matter="major")])
    got = result(settings, "V1")
    assert (got["voted_owners"], got["meets_approval"], got["state"]) == (0, False, "failed")


@pytest.mark.parametrize(("voted", "on_track"), [(3, True), (1, False)])
def test_vote_results__open_vote_projects_turnout_to_its_close(
        settings, tmp_path, voted, on_track):
    now = local_now(settings).replace(microsecond=0)
    vote = vote_row(vote_id="V1", eligible_owners=6, eligible_area_m2="600.00",
                    opens_at=now - dt.timedelta(days=10),
                    closes_at=now + dt.timedelta(days=10))
    got = cast(settings, tmp_path, vote, [("yes", "100.00")] * voted,
               cast_at=str(now - dt.timedelta(hours=1)))
    assert got["state"] == "open"
    assert got["on_track"] is on_track
    # half the window has run: the projection doubles the turnout so far
    assert abs(got["projected_turnout_owners_pct"] - 200 * voted / 6) < 1


def test_vote_results__percent_kept_whole_so_one_rounding_reads_61_8(settings, tmp_path):
    # 201 of 325 owners: 61.846 %; stored to 2 places (61.85) it read "61.9" at 1 place
    vote = vote_row(vote_id="V1", eligible_owners=325, eligible_area_m2="32500.00")
    got = cast(settings, tmp_path, vote, [("yes", "100.00")] * 201)
    assert got["turnout_owners_pct"] == pytest.approx(100 * 201 / 325, abs=1e-9)
    assert f"{got['turnout_owners_pct']:.1f}" == "61.8"
    assert got["voted_area_m2"] == Decimal("20100.00")  # counts and areas stay exact


def test_vote_results__more_area_than_declared_loads_and_the_data_check_fires(
        settings, tmp_path):
    # a votes file declaring 1 m² for ballots of 300 m²: turnout 30,000 % by area
    load(settings, tmp_path, "votes", [vote_row(vote_id="V1", eligible_area_m2="1.00")])
    report = load(settings, tmp_path, "ballots", [
        ballot_row(vote_id="V1", area_m2="100.00") for _ in range(3)])
    assert report.inserted == 3
    assert any("check_vote_results_within_eligible (warning)" in w and "V1" in w
               for w in report.warnings)
    got = result(settings, "V1")
    assert got["turnout_area_pct"] == pytest.approx(30000.0)


@pytest.mark.parametrize(("override", "reason"), [
    ({"vote_id": "NOPE"}, "vote NOPE is unknown"),
    ({"cast_at": "2025-09-15 20:00:01"}, "cast after the vote closed"),
    ({"cast_at": "2025-08-31 23:59:59"}, "cast before the vote opened"),
    ({"area_m2": "0"}, "area_m2 must be above 0"),
    ({"area_m2": "-12.50"}, "area_m2"),
    ({"choice": "maybe"}, "choice"),
    ({"owner_id": ""}, "missing owner_id"),
])
def test_load_ballots__quarantines_bad_ballots(settings, tmp_path, override, reason):
    load(settings, tmp_path, "votes", [vote_row(vote_id="V1")])
    report = load(settings, tmp_path, "ballots", [
        ballot_row(vote_id="V1"), ballot_row(**{"vote_id": "V1", **override})])
    assert (report.inserted, report.quarantined) == (1, 1)
    ((why,),) = rows(settings, "select reason from quarantine")
    assert reason in why


def test_load_ballots__closing_minute_itself_is_accepted(settings, tmp_path):
    load(settings, tmp_path, "votes", [vote_row(vote_id="V1")])
    report = load(settings, tmp_path, "ballots", [
        ballot_row(vote_id="V1", cast_at="2025-09-15 20:00:00")])
    assert report.inserted == 1


def test_load_ballots__later_ballot_replaces_earlier(settings, tmp_path):
    load(settings, tmp_path, "votes", [vote_row(vote_id="V1")])
    owner = national_id("50011219600514", 123)
    first = ballot_row(vote_id="V1", owner_id=owner, choice="no",
                       cast_at="2025-09-02 10:00:00")
    later = {**first, "choice": "yes", "cast_at": "2025-09-03 10:00:00"}
    report = load(settings, tmp_path, "ballots", [later, first])
    assert (report.inserted, report.duplicates) == (1, 1)
    assert rows(settings, "select choice from ballots") == [("yes",)]
    # an older ballot in a later file does not replace the newer one
    assert load(settings, tmp_path, "ballots", [first], "old").unchanged == 1
    newest = {**first, "choice": "abstain", "cast_at": "2025-09-04 10:00:00"}
    assert load(settings, tmp_path, "ballots", [newest], "new").updated == 1
    assert rows(settings, "select choice, voted_owners from ballots, vote_results") == [
        ("abstain", 1)]


@pytest.mark.parametrize(("override", "reason"), [
    ({"closes_at": "2025-09-01 09:00:00"}, "closes_at is not after opens_at"),
    ({"eligible_owners": "0"}, "eligible_owners must be above 0"),
    ({"matter": "urgent"}, "matter"),
    ({"eligible_area_m2": "1.005"}, "eligible_area_m2"),
])
def test_load_votes__quarantines_bad_votes(settings, tmp_path, override, reason):
    report = load(settings, tmp_path, "votes", [vote_row(), vote_row(**override)])
    assert (report.inserted, report.quarantined) == (1, 1)
    ((why,),) = rows(settings, "select reason from quarantine")
    assert reason in why


def test_load_engagement__quarantines_unknown_kind(settings, tmp_path):
    events = [{"event_id": "E1", "compound": "金桂苑", "kind": "问卷",
               "occurred_at": "2025-09-05 10:00:00", "person_id": "", "household_id": ""},
              {"event_id": "E2", "compound": "金桂苑", "kind": "party",
               "occurred_at": "2025-09-05 10:00:00", "person_id": "", "household_id": ""}]
    report = load(settings, tmp_path, "engagement", events)
    assert (report.inserted, report.quarantined) == (1, 1)
    assert rows(settings, "select kind from engagement") == [("questionnaire",)]


def test_participation_monthly__households_with_any_act_over_households(
        settings, tmp_path):
    """Four households in 金桂苑; one in 翠竹园.

    | month   | H1 ballot | H2 event (household) | H3 event (person only) | rate |
    | 2025-09 | yes       | questionnaire        | opinion                | 3/4  |
    | 2025-10 |           | questionnaire x2     |                        | 1/4  |
    """
    h = {i: resident_row(household_id=f"H{i}", is_owner=1) for i in range(1, 6)}
    h[5]["compound"] = "翠竹园"
    h3_child = resident_row(household_id="H3", is_owner=0)
    load(settings, tmp_path, "population", [*h.values(), h3_child])
    load(settings, tmp_path, "votes", [vote_row(vote_id="V1")])
    load(settings, tmp_path, "ballots", [ballot_row(vote_id="V1",
                                                    owner_id=h[1]["person_id"])])

    def event(i, kind, when, household="", person=""):
        return {"event_id": f"E{i}", "compound": "金桂苑", "kind": kind,
                "occurred_at": when, "person_id": person, "household_id": household}

    load(settings, tmp_path, "engagement", [
        event(1, "questionnaire", "2025-09-05 10:00:00", household="H2"),
        event(2, "opinion", "2025-09-06 10:00:00", person=h3_child["person_id"]),
        event(3, "questionnaire", "2025-10-06 10:00:00", household="H2"),
        event(4, "questionnaire", "2025-10-07 10:00:00", household="H2"),
    ])
    got = rows(settings, """
        select month, households, participating_households, participation_rate, ballots,
            questionnaires, opinions
        from participation_monthly where compound = '金桂苑' order by month""")
    assert got == [
        (dt.date(2025, 9, 1), 4, 3, Decimal("0.7500"), 1, 1, 1),
        (dt.date(2025, 10, 1), 4, 1, Decimal("0.2500"), 0, 2, 0),
    ]
    assert rows(settings, "select sum(participating_households) from participation_monthly "
                          "where compound = '翠竹园'") == [(0,)]
