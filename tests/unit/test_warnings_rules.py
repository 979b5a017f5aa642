"""Early-warning rules: each fires at its boundary and not one step below it, and the
TOML file that tunes them refuses what it does not understand, naming file and key.

Rows go straight into a migrated in-memory warehouse: the rules read the tables, not
the loader, and a boundary needs exact timestamps and amounts.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import duckdb
import pytest

from pipelines import warehouse
from pipelines import warnings_engine as we
from pipelines.warnings_rules import RULES, WarningsConfigError, load_config

AS_OF = dt.datetime(2026, 11, 11, 10, 0, 0)
SECOND = dt.timedelta(seconds=1)
_ids = itertools.count(1)


@pytest.fixture
def con():
    c = duckdb.connect()
    warehouse.migrate(c)
    yield c
    c.close()


def add_ticket(con, **values) -> None:
    row = {"ticket_id": f"T{next(_ids):07d}", "reported_at": AS_OF - dt.timedelta(days=1),
           "level": 1, "category": "物业维修", "community": "龙塔社区",
           "grid": "龙塔社区第1网格", "compound": "金桂苑", "row_hash": 0, "load_id": 0}
    row.update(values)
    names = ", ".join(row)
    con.execute(f"insert into tickets ({names}) values "
                f"({', '.join('$' + k for k in row)})", row)


def fired(con, settings, rule_id: str, **params) -> list[dict]:
    """The warnings `rule_id` finds at AS_OF with its default parameters and `params`."""
    config = load_config(settings.warnings_file)
    config.rules.clear()
    config.rules[rule_id] = {**RULES[rule_id].params, **params}
    return we.rule_warnings(con, settings, config, AS_OF)


def test_level4_open__fires_while_open_not_once_closed_at_as_of(con, settings):
    add_ticket(con, ticket_id="T-OPEN", level=4, closed_at=AS_OF + SECOND)
    add_ticket(con, ticket_id="T-CLOSED", level=4, closed_at=AS_OF)
    add_ticket(con, ticket_id="T-L3", level=3)
    (w,) = fired(con, settings, "level4_open")
    assert (w["subject"], w["severity"], w["community"]) == ("T-OPEN", "critical",
                                                              "龙塔社区")
    assert "T-OPEN" in w["title"]


def test_level3_unanswered__fires_at_n_hours_not_a_second_before(con, settings):
    add_ticket(con, ticket_id="T-AT", level=3, reported_at=AS_OF - dt.timedelta(hours=6))
    add_ticket(con, ticket_id="T-BELOW", level=3,
               reported_at=AS_OF - dt.timedelta(hours=6) + SECOND)
    add_ticket(con, ticket_id="T-ANSWERED", level=3, reported_at=AS_OF - dt.timedelta(
        hours=9), responded_at=AS_OF - dt.timedelta(hours=1))
    (w,) = fired(con, settings, "level3_unanswered", hours=6)
    assert (w["subject"], w["observed"], w["threshold"]) == ("T-AT", Decimal("6.00"),
                                                              Decimal("6.00"))


@pytest.mark.parametrize(("overdue", "fires"), [(11, True), (10, False)])
def test_overdue_open__fires_above_the_count(con, settings, overdue, fires):
    for _ in range(overdue):
        add_ticket(con, deadline_at=AS_OF - SECOND)
    add_ticket(con, deadline_at=AS_OF)  # due now: not yet overdue
    add_ticket(con, deadline_at=AS_OF - dt.timedelta(days=3), closed_at=AS_OF)
    found = fired(con, settings, "overdue_open", count=10)
    assert [(w["community"], w["observed"]) for w in found] == (
        [("龙塔社区", Decimal(overdue))] if fires else [])


@pytest.mark.parametrize(("late", "fires"), [(4, True), (3, False)])
def test_response_timeouts__fires_above_the_share(con, settings, late, fires):
    # 20 tickets reported in the last 7 days: 4 late = 20% > 15%; 3 = 15% is not
    reported = AS_OF - dt.timedelta(days=2)
    for i in range(20):
        hours = 7 if i < late else 2
        add_ticket(con, reported_at=reported, responded_at=reported + dt.timedelta(
            hours=hours))
    # the metrics layer's 7 days start at midnight 6 days back: a second before, never
    # answered, it does not count
    add_ticket(con, reported_at=dt.datetime(2026, 11, 5) - SECOND)
    found = fired(con, settings, "response_timeouts", pct=15.0, min_tickets=20)
    assert [w["observed"] for w in found] == ([Decimal("20.0")] if fires else [])


def test_response_timeouts__not_judged_below_min_tickets(con, settings):
    for _ in range(19):
        add_ticket(con, reported_at=AS_OF - dt.timedelta(days=1))  # never responded
    assert fired(con, settings, "response_timeouts", pct=15.0, min_tickets=20) == []


@pytest.mark.parametrize(("satisfied", "fires"), [(17, True), (18, False)])
def test_satisfaction_low__fires_below_the_share(con, settings, satisfied, fires):
    reported = dt.datetime(2026, 10, 13)  # the first instant of the last 30 days
    for i in range(20):
        add_ticket(con, reported_at=reported, closed_at=reported + dt.timedelta(hours=2),
                   satisfaction="satisfied" if i < satisfied else "unsatisfied")
    add_ticket(con, reported_at=reported - SECOND, satisfaction="unsatisfied")
    add_ticket(con, reported_at=AS_OF - dt.timedelta(hours=1))  # not rated: not counted
    found = fired(con, settings, "satisfaction_low", pct=90.0, min_rated=20)
    assert [w["observed"] for w in found] == ([Decimal("85.0")] if fires else [])


def add_vote(con, vote_id: str, closes_at: dt.datetime, meets_turnout: bool) -> None:
    con.execute(
        """
        insert into vote_results (vote_id, compound, title, matter, opens_at, closes_at,
            eligible_owners, eligible_area_m2, voted_owners, voted_area_m2, yes_owners,
            yes_area_m2, no_owners, no_area_m2, abstain_owners, abstain_area_m2,
            turnout_owners_pct, turnout_area_pct, meets_turnout, meets_approval, state,
            as_of)
        values ($id, '金桂苑', '增设充电桩', 'ordinary', $opens, $closes, 90, 9000, 50,
            5000, 50, 5000, 0, 0, 0, 0, 55.56, 55.56, $meets, false, 'open', $opens)
        """, {"id": vote_id, "opens": AS_OF - dt.timedelta(days=10), "closes": closes_at,
              "meets": meets_turnout})


def test_vote_at_risk__fires_closing_in_two_days_not_a_second_later(con, settings):
    add_vote(con, "V-AT", AS_OF + dt.timedelta(days=2), False)
    add_vote(con, "V-LATER", AS_OF + dt.timedelta(days=2) + SECOND, False)
    add_vote(con, "V-ENOUGH", AS_OF + dt.timedelta(days=1), True)
    (w,) = fired(con, settings, "vote_at_risk", days=2)
    assert (w["vote_id"], w["observed"]) == ("V-AT", Decimal("55.56"))


def add_month(con, compound: str, month: dt.date, expense: str, closing: str = "0.00",
              entries: int = 1) -> None:
    con.execute(
        """
        insert into ledger_monthly values ($c, $m, 0, 0, $e, 0, 0, $closing, $n, false,
            null)
        """, {"c": compound, "m": month, "e": Decimal(expense),
              "closing": Decimal(closing), "n": entries})


def months_before(last: dt.date, n: int) -> list[dt.date]:
    out, day = [], last
    for _ in range(n):
        day = (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        out.append(day)
    return out


@pytest.mark.parametrize(("expense", "fires"), [("300.01", True), ("300.00", False)])
def test_expense_spike__fires_above_factor_times_the_median(con, settings, expense, fires):
    last = dt.date(2026, 11, 1)
    for i, month in enumerate(months_before(last, 12)):
        add_month(con, "金桂苑", month, ("100.00", "50.00", "150.00")[i % 3])  # median 100
    add_month(con, "金桂苑", last, expense)
    found = fired(con, settings, "expense_spike", factor=3.0, min_months=6)
    assert [(w["observed"], w["expected"], w["threshold"]) for w in found] == (
        [(Decimal(expense), Decimal("100.00"), Decimal("300.00"))] if fires else [])


def test_expense_spike__needs_min_months_of_history(con, settings):
    last = dt.date(2026, 11, 1)
    for month in months_before(last, 5):
        add_month(con, "金桂苑", month, "100.00")
    add_month(con, "金桂苑", last, "900.00")
    assert fired(con, settings, "expense_spike", factor=3.0, min_months=6) == []


@pytest.mark.parametrize(("closing", "fires"), [("-0.01", True), ("0.00", False)])
def test_negative_balance__fires_below_zero(con, settings, closing, fires):
    add_month(con, "金桂苑", dt.date(2026, 10, 1), "0.00", closing="-50.00")
    add_month(con, "金桂苑", dt.date(2026, 11, 1), "0.00", closing=closing)
    found = fired(con, settings, "negative_balance")
    assert [w["observed"] for w in found] == ([Decimal(closing)] if fires else [])


@pytest.mark.parametrize(("as_of_day", "fires"), [(11, True), (10, False)])
def test_ledger_unpublished__fires_from_the_publication_day(con, make_settings, as_of_day,
                                                            fires):
    # October's publication day is 10 days after its end (2026-11-11): by then it has no
    # entries. The day before, the month due is September, which has them.
    settings = make_settings(ledger_publish_days=10)
    add_month(con, "金桂苑", dt.date(2026, 8, 1), "10.00")
    add_month(con, "金桂苑", dt.date(2026, 9, 1), "10.00")
    config = load_config(settings.warnings_file)
    config.rules.clear()
    config.rules["ledger_unpublished"] = {}
    found = we.rule_warnings(con, settings, config, dt.datetime(2026, 11, as_of_day, 0, 0))
    assert [(w["compound"], w["subject"]) for w in found] == (
        [("金桂苑", "2026-10")] if fires else [])


@pytest.mark.parametrize(("age", "fires"), [(dt.timedelta(hours=26, minutes=1), True),
                                            (dt.timedelta(hours=26), False)])
def test_source_stale__fires_past_the_sources_hours(con, settings, age, fires):
    add_ticket(con, reported_at=AS_OF - age, updated_at=None)
    found = fired(con, settings, "source_stale", hours={"tickets": 26})
    assert [w["source"] for w in found] == (["tickets"] if fires else [])


def test_config__defaults_ship_with_the_repository(settings):
    config = load_config(settings.warnings_file)
    assert set(config.rules) == set(RULES)
    assert config.rules["level3_unanswered"]["hours"] == 6


@pytest.mark.parametrize(("text", "named"), [
    ("[rules.level5_open]\n", "[rules.level5_open] is not a rule"),
    ("[rules.overdue_open]\ncount = 'ten'\n", "[rules.overdue_open]: count must be int"),
    ("[rules.overdue_open]\nlimit = 3\n", "unknown key(s) ['limit']"),
    ("[rules.overdue_open]\nseverity = 'red'\n", "severity must be one of"),
    ("[anomalies]\nalpha = 0.9\n", "[anomalies]: alpha must be between"),
    # below the median an open warning would outlive its surge
    ("[anomalies]\nkeep_quantile = 0.4\n", "[anomalies]: keep_quantile must be at least"),
    ("[anomalies]\nkeep_quantile = 1.0\n", "[anomalies]: keep_quantile must be at least"),
    ("[rules\n", "not valid TOML"),
    ("[rules.source_stale]\nhours = { tickts = 26 }\n", "unknown source(s) ['tickts']"),
])
def test_config__refuses_what_it_does_not_understand(tmp_path, text, named):
    path = tmp_path / "warnings.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WarningsConfigError) as e:
        load_config(path)
    assert str(path) in str(e.value) and named in str(e.value)


def test_refresh__a_broken_file_leaves_the_warnings_and_says_why(con, make_settings,
                                                                  tmp_path):
    path = tmp_path / "warnings.toml"
    path.write_text("[rules.nope]\n", encoding="utf-8")
    notes = we.refresh(con, make_settings(warnings_file=path), as_of=AS_OF)
    assert len(notes) == 1 and "warnings not computed" in notes[0] and str(path) in notes[0]
