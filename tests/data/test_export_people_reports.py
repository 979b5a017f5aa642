"""People, participation and ledger export reports against a warehouse built by the real
loader from small CSVs: each report's rows (the query function and the CSV file) equal
this test's own computation from the input rows; suppression of small counts; exact
decimals and Chinese text through the file.

Residents (k = 5), per grid; '·' = 0:

| community | grid   | residents | dibao | elderly_80 | veteran | disabled |
| 龙塔社区  | 网格1  | 12        | 2     | 7          | 5       | ·        |
| 龙塔社区  | 网格2  | 8         | 6     | 5          | 5       | ·        |
| 龙塔社区  | 网格3  | 10        | ·     | 1          | ·       | ·        |
| 龙湖社区·𠮷 | 网格A | 5         | ·     | ·          | 2       | 3        |
| 龙湖社区·𠮷 | (none) | 6         | ·     | ·          | ·       | ·        |
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from pipelines import exports, warehouse
from pipelines.loader import load_files
from pipelines.queries import exports as q
from pipelines.settings import Settings, local_now
from tests.factories import TEST_SECRET, ballot_row, ledger_row, resident_row, vote_row, write_csv

AS_OF = dt.datetime(2025, 10, 20, 12, 0)
K = 5
LONGTA, LONGHU = "龙塔社区", "龙湖社区·𠮷"
JINGUI, CUIHU = "金桂苑", "翠湖园"


# --- inputs --------------------------------------------------------------------------


def _residents() -> list[dict]:
    people = []

    def grid(community, grid_name, compound, n, groups: dict[str, int], prefix):
        for i in range(n):
            words = [g for g, count in groups.items() if i < count]
            people.append(resident_row(
                community=community, grid=grid_name, compound=compound,
                household_id=f"{prefix}{i // 2}", key_groups=";".join(words),
                updated_at=f"2025-09-{1 + i % 9:02d} 10:00:00"))

    grid(LONGTA, "网格1", JINGUI, 12, {"低保": 2, "高龄": 7, "退役军人": 5}, "A")
    grid(LONGTA, "网格2", JINGUI, 8, {"dibao": 6, "高龄老人": 5, "veteran": 5}, "B")
    grid(LONGTA, "网格3", JINGUI, 10, {"80岁以上老人": 1}, "C")
    grid(LONGHU, "网格A", CUIHU, 5, {"退役军人": 2, "残疾人": 3}, "D")
    grid(LONGHU, "", CUIHU, 6, {}, "E")
    # a household across two grids counts once, in its latest member's grid (网格3)
    people[0]["household_id"] = "C9"
    people[0]["updated_at"] = "2025-08-01 10:00:00"
    people[25]["household_id"] = "C9"
    people[25]["updated_at"] = "2025-09-30 10:00:00"
    return people


def _votes() -> list[dict]:
    return [
        # closes inside the period
        vote_row(vote_id="V1", compound=JINGUI, title="增设充电桩", eligible_owners=4,
                 eligible_area_m2="400.00", opens_at="2025-09-01 09:00:00",
                 closes_at="2025-09-15 20:00:00"),
        # closed before the period: left out
        vote_row(vote_id="V2", compound=JINGUI, title="旧事项", opens_at="2025-08-01 09:00:00",
                 closes_at="2025-08-31 20:00:00"),
        # opens inside the period, still open at AS_OF
        vote_row(vote_id="V3", compound=JINGUI, title="=维修资金续筹", matter="major",
                 eligible_owners=4, eligible_area_m2="400.00",
                 opens_at="2025-10-05 09:00:00", closes_at="2025-11-30 20:00:00"),
        # spans the whole period
        vote_row(vote_id="V4", compound=CUIHU, title="选举业主委员会", matter="major",
                 eligible_owners=3, eligible_area_m2="300.00",
                 opens_at="2025-08-20 09:00:00", closes_at="2025-12-01 20:00:00"),
        # closes on the period's first moment
        vote_row(vote_id="V5", compound=CUIHU, title="健身器材", eligible_owners=3,
                 eligible_area_m2="300.00", opens_at="2025-09-01 09:00:00",
                 closes_at="2025-09-10 00:00:00"),
        # opens after the period: left out
        vote_row(vote_id="V6", compound=CUIHU, title="道路重铺",
                 opens_at="2025-10-11 00:00:00", closes_at="2025-10-30 00:00:00"),
    ]


def _ballots(people) -> list[dict]:
    jingui = [p for p in people if p["compound"] == JINGUI]
    cuihu = [p for p in people if p["compound"] == CUIHU]

    def b(vote, person, choice, area, when):
        return ballot_row(vote_id=vote, owner_id=person["person_id"], choice=choice,
                          area_m2=area, cast_at=when)

    return [
        b("V1", jingui[0], "yes", "100.00", "2025-09-02 10:00:00"),
        b("V1", jingui[3], "yes", "99.99", "2025-09-03 10:00:00"),
        b("V1", jingui[14], "no", "100.01", "2025-09-04 10:00:00"),
        b("V3", jingui[0], "yes", "120.50", "2025-10-06 10:00:00"),
        b("V4", cuihu[0], "yes", "100.00", "2025-08-21 10:00:00"),
        b("V4", cuihu[2], "abstain", "100.00", "2025-09-21 10:00:00"),
        b("V4", cuihu[7], "yes", "100.00", "2025-10-02 10:00:00"),
    ]


def _engagement(people) -> list[dict]:
    jingui = [p for p in people if p["compound"] == JINGUI]

    def e(i, kind, when, household="", person="", compound=JINGUI):
        return {"event_id": f"E{i}", "compound": compound, "kind": kind,
                "occurred_at": when, "person_id": person, "household_id": household}

    return [
        e(1, "questionnaire", "2025-09-05 10:00:00", household="A1"),
        e(2, "opinion", "2025-09-06 10:00:00", person=jingui[9]["person_id"]),
        e(3, "questionnaire", "2025-10-06 10:00:00", household="B2"),
        e(4, "opinion", "2025-10-07 10:00:00", household="B2"),
        e(5, "volunteer", "2025-11-02 10:00:00", household="A1"),
        e(6, "opinion", "2025-10-08 10:00:00", household="D0", compound=CUIHU),
    ]


LEDGER_FIRST = [
    ledger_row(entry_id="L1", compound=JINGUI, booked_on="2025-03-05", amount="1000.00",
               category="摊位租金", counterparty="便民早餐摊位"),
    ledger_row(entry_id="L2", compound=JINGUI, booked_on="2025-03-20", direction="expense",
               amount="373.20", category="广告印刷", counterparty="=cmd|' /C calc'!A0",
               note="电梯广告印刷费"),
    ledger_row(entry_id="L3", compound=JINGUI, booked_on="2025-03-25", direction="expense",
               amount="120.00", category="维修", note="单元门维修"),
    # April: nothing; May: expense only
    ledger_row(entry_id="L4", compound=JINGUI, booked_on="2025-05-10", direction="expense",
               amount="0.10", category="手续费"),
    ledger_row(entry_id="L5", compound=CUIHU, booked_on="2025-06-01", amount="200.00",
               category="停车费"),
]
LEDGER_SECOND = [
    # loaded after March was published: adjustments of the month of the load
    ledger_row(entry_id="L6", compound=JINGUI, booked_on="2025-03-28", amount="50.00",
               category="广告收入"),
    {**LEDGER_FIRST[2], "amount": "100.00"},
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("people_exports")
    settings = Settings(db_path=root / "w.duckdb", demo_dir=root / "demo",
                        secret=TEST_SECRET,
                        secret_file=root / "pseudonym.key", calendar_file=None,
                        small_count=K)
    people = _residents()
    inputs = [
        ("population", people), ("votes", _votes()), ("ballots", _ballots(people)),
        ("engagement", _engagement(people)),
        ("ledger_balances", [{"compound": JINGUI, "month": "2025-01",
                              "opening_balance": "5000.00"}]),
        ("ledger", LEDGER_FIRST), ("ledger", LEDGER_SECOND),
    ]
    for i, (source, data) in enumerate(inputs):
        (report,) = load_files(settings, source, [write_csv(root / f"{i}_{source}.csv",
                                                            data)], progress=False)
        assert report.quarantined == 0, (source, report)
    today = local_now(settings).date()
    con = warehouse.connect_read_only(settings.db_path)
    yield settings, con.cursor(), people, today
    con.close()


# --- helpers -------------------------------------------------------------------------


def _rate(num, den) -> Decimal | None:
    if not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _csv(settings, report: str, out: Path, date_from: dt.date, date_to: dt.date,
         encoding: str | None = None, **filters) -> tuple[list[dict], Path]:
    job = exports.ExportJob(report=report, period=exports.Period.between(date_from, date_to),
                            out=out, file="{report}.csv", filters=filters,
                            encoding=encoding)
    [record] = exports.run_job(settings, job, as_of=AS_OF)
    assert record.status == "ok", record.message
    with open(record.output_path, encoding=encoding or "utf-8-sig", newline="") as f:
        return list(csv.DictReader(f)), Path(record.output_path)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_file(rows: list[dict], expected: list[dict]) -> None:
    assert [list(r) for r in rows[:1]] == [list(e) for e in expected[:1]]
    unescaped = [{k: v[1:] if v[:2] in ("'=", "'+", "'-", "'@") else v
                  for k, v in r.items()} for r in rows]
    assert unescaped == [{k: _text(v) for k, v in e.items()} for e in expected]


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, m = [], first.replace(day=1)
    while m <= last:
        out.append(m)
        m = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def _compounds_of(people, community) -> set[str]:
    return {p["compound"] for p in people if p["community"] == community}


# --- participation -------------------------------------------------------------------


def _expected_participation(people, date_from, date_to) -> list[dict]:
    home = {}  # household -> compound, from its latest member
    for p in sorted(people, key=lambda p: p["updated_at"]):
        home[p["household_id"]] = p["compound"]
    household_of = {p["person_id"]: p["household_id"] for p in people}
    compound_of_vote = {v["vote_id"]: v["compound"] for v in _votes()}
    acts = defaultdict(set)
    ballots, questionnaires, opinions = (defaultdict(int) for _ in range(3))
    months = set()
    for b in _ballots(people):
        m = dt.date.fromisoformat(b["cast_at"][:7] + "-01")
        months.add(m)
        acts[(home[household_of[b["owner_id"]]], m)].add(household_of[b["owner_id"]])
        ballots[(compound_of_vote[b["vote_id"]], m)] += 1
    for e in _engagement(people):
        m = dt.date.fromisoformat(e["occurred_at"][:7] + "-01")
        months.add(m)
        household = e["household_id"] or household_of.get(e["person_id"])
        if household in home:
            acts[(home[household], m)].add(household)
        questionnaires[(e["compound"], m)] += e["kind"] == "questionnaire"
        opinions[(e["compound"], m)] += e["kind"] == "opinion"
    households = defaultdict(int)
    for compound in home.values():
        households[compound] += 1
    expected = []
    for m in _months(min(months), max(months)):
        if not (date_from.replace(day=1) <= m <= date_to):
            continue
        for c in sorted(households):
            n = len(acts[(c, m)])
            expected.append(dict(
                month=f"{m:%Y-%m}", compound=c, households=households[c],
                participating_households=n, participation_rate=_rate(n, households[c]),
                ballots=ballots[(c, m)], questionnaires=questionnaires[(c, m)],
                opinions=opinions[(c, m)]))
    return expected


def test_participation__equal_own_computation(built, tmp_path):
    settings, cur, people, _ = built
    date_from, date_to = dt.date(2025, 9, 15), dt.date(2025, 10, 10)
    expected = _expected_participation(people, date_from, date_to)
    got = q.participation(cur, date_from=date_from, date_to=date_to).to_pylist()
    assert got == expected
    assert {r["month"] for r in got} == {"2025-09", "2025-10"}  # months overlapping
    assert any(0 < r["participating_households"] < r["households"] for r in got)
    rows, _ = _csv(settings, "participation", tmp_path, date_from, date_to)
    _check_file(rows, expected)
    only = q.participation(cur, date_from=date_from, date_to=date_to,
                           community=LONGHU).to_pylist()
    assert only == [r for r in expected if r["compound"] in _compounds_of(people, LONGHU)]


# --- vote_results --------------------------------------------------------------------


def _expected_votes(people, date_from, date_to) -> list[dict]:
    start = dt.datetime.combine(date_from, dt.time())
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time())
    expected = []
    for v in _votes():
        opens = dt.datetime.fromisoformat(v["opens_at"])
        closes = dt.datetime.fromisoformat(v["closes_at"])
        if not (opens < end and closes >= start):
            continue
        bs = [b for b in _ballots(people) if b["vote_id"] == v["vote_id"]]
        voted = len(bs)
        voted_area = sum((Decimal(b["area_m2"]) for b in bs), Decimal(0))
        yes = [b for b in bs if b["choice"] == "yes"]
        yes_area = sum((Decimal(b["area_m2"]) for b in yes), Decimal(0))
        owners, area = int(v["eligible_owners"]), Decimal(v["eligible_area_m2"])
        turnout = 3 * voted >= 2 * owners and 3 * voted_area >= 2 * area
        if v["matter"] == "major":
            approval = 4 * len(yes) >= 3 * voted and 4 * yes_area >= 3 * voted_area
        else:
            approval = 2 * len(yes) > voted and 2 * yes_area > voted_area
        state = ("open" if closes > AS_OF else
                 "passed" if turnout and approval and voted else "failed")
        expected.append(dict(
            vote_id=v["vote_id"], compound=v["compound"], title=v["title"],
            matter=v["matter"], turnout_owners=_rate(voted, owners),
            turnout_area=_rate(voted_area, area), approval_owners=_rate(len(yes), voted),
            approval_area=_rate(yes_area, voted_area), state=state, _closes=closes))
    expected.sort(key=lambda r: (r["compound"], r["_closes"], r["vote_id"]))
    return [{k: v for k, v in r.items() if k != "_closes"} for r in expected]


def test_vote_results__equal_own_computation(built, tmp_path):
    settings, cur, people, _ = built
    date_from, date_to = dt.date(2025, 9, 10), dt.date(2025, 10, 10)
    expected = _expected_votes(people, date_from, date_to)
    got = q.vote_results(cur, date_from=date_from, date_to=date_to,
                         as_of=AS_OF).to_pylist()
    assert got == expected
    assert [r["vote_id"] for r in got] == ["V5", "V4", "V1", "V3"]
    # V4 and V3 are open at AS_OF (vote_results.state says so only as at its load)
    assert [r["state"] for r in got] == ["failed", "open", "passed", "open"]
    # V1: 3 of 4 owners and 300.00 of 400.00 m2 took part; yes by 2 of 3 owners and
    # 199.99 of 300.00 m2 (0.66663: rounded down)
    v1 = got[2]
    assert (v1["turnout_area"], v1["approval_area"]) == (Decimal("0.7500"),
                                                         Decimal("0.6666"))
    assert got[0]["approval_owners"] is None  # no ballots: no denominator
    rows, _ = _csv(settings, "vote_results", tmp_path, date_from, date_to)
    _check_file(rows, expected)
    assert rows[3]["title"] == "'=维修资金续筹"  # formula escaped in the file
    assert rows[0]["approval_owners"] == ""


# --- ledger --------------------------------------------------------------------------


def _posted_lines(today: dt.date) -> list[dict]:
    """The journal this test expects: first-load lines in their own months, second-load
    changes to March (published) as adjustments of the load's month."""
    this_month = today.replace(day=1)
    lines = [dict(month=dt.date.fromisoformat(e["booked_on"]).replace(day=1), entry=e,
                  direction=e["direction"], amount=Decimal(e["amount"]),
                  is_adjustment=False) for e in LEDGER_FIRST]
    lines.append(dict(month=this_month, entry=LEDGER_SECOND[0], direction="income",
                      amount=Decimal("50.00"), is_adjustment=True))
    lines.append(dict(month=this_month, entry=LEDGER_SECOND[1], direction="expense",
                      amount=Decimal("-20.00"), is_adjustment=True))
    return lines


def _expected_statement(today: dt.date, date_from, date_to) -> list[dict]:
    lines = _posted_lines(today)
    this_month = today.replace(day=1)
    first = {JINGUI: dt.date(2025, 1, 1), CUIHU: dt.date(2025, 6, 1)}
    balance = {JINGUI: Decimal("5000.00"), CUIHU: Decimal("0.00")}
    last_posted = {c: max(ln["month"] for ln in lines if ln["entry"]["compound"] == c)
                   for c in first}
    expected = []
    for c in sorted(first):
        for m in _months(first[c], this_month):
            mine = [ln for ln in lines if ln["entry"]["compound"] == c and ln["month"] == m]
            income = sum((ln["amount"] for ln in mine if not ln["is_adjustment"]
                          and ln["direction"] == "income"), Decimal("0.00"))
            expense = sum((ln["amount"] for ln in mine if not ln["is_adjustment"]
                           and ln["direction"] == "expense"), Decimal("0.00"))
            adjustment = sum((ln["amount"] * (1 if ln["direction"] == "income" else -1)
                              for ln in mine if ln["is_adjustment"]), Decimal("0.00"))
            opening = balance[c]
            balance[c] = opening + income - expense + adjustment
            month_end = _months(m, m + dt.timedelta(days=32))[1] - dt.timedelta(days=1)
            published = (month_end + dt.timedelta(days=11)
                         if month_end + dt.timedelta(days=10) < today
                         and m <= last_posted[c] else None)
            if date_from.replace(day=1) <= m <= date_to:
                expected.append(dict(month=f"{m:%Y-%m}", compound=c, opening=opening,
                                     income=income, expense=expense,
                                     adjustment=adjustment, closing=balance[c],
                                     published_on=published))
    return sorted(expected, key=lambda r: (r["month"], r["compound"]))


def test_ledger_statement__equal_own_computation_with_exact_decimals(built, tmp_path):
    settings, cur, _, today = built
    date_from, date_to = dt.date(2025, 3, 10), today
    expected = _expected_statement(today, date_from, date_to)
    got = q.ledger_statement(cur, date_from=date_from, date_to=date_to).to_pylist()
    assert got == expected
    march = got[0]
    assert (march["month"], march["expense"]) == ("2025-03", Decimal("493.20"))
    assert any(r["adjustment"] == Decimal("70.00") for r in got)  # +50.00 - (-20.00)
    rows, _ = _csv(settings, "ledger_statement", tmp_path, date_from, date_to)
    _check_file(rows, expected)
    assert rows[0]["closing"] == "5506.80"
    assert {r["income"] for r in rows if r["month"] == "2025-04"} == {"0.00"}


def test_ledger_entries__equal_own_computation_and_add_up_to_the_statement(
        built, tmp_path):
    settings, cur, _, today = built
    date_from, date_to = dt.date(2025, 3, 1), today
    expected = sorted(
        (dict(month=f"{ln['month']:%Y-%m}", compound=ln["entry"]["compound"],
              entry_id=ln["entry"]["entry_id"],
              booked_on=dt.date.fromisoformat(ln["entry"]["booked_on"]),
              direction=ln["direction"], category=ln["entry"]["category"],
              amount=ln["amount"], counterparty=ln["entry"]["counterparty"] or None,
              voucher_no=ln["entry"]["voucher_no"] or None,
              note=ln["entry"]["note"] or None, is_adjustment=ln["is_adjustment"])
         for ln in _posted_lines(today)),
        key=lambda r: (r["month"], r["compound"], r["is_adjustment"], r["booked_on"],
                       r["entry_id"], r["direction"]))
    got = q.ledger_entries(cur, date_from=date_from, date_to=date_to).to_pylist()
    assert got == expected
    statement = q.ledger_statement(cur, date_from=date_from, date_to=date_to).to_pylist()
    for s in statement:
        mine = [e for e in got if (e["month"], e["compound"]) == (s["month"], s["compound"])]
        assert s["income"] == sum((e["amount"] for e in mine if not e["is_adjustment"]
                                   and e["direction"] == "income"), Decimal("0.00"))
        assert s["expense"] == sum((e["amount"] for e in mine if not e["is_adjustment"]
                                    and e["direction"] == "expense"), Decimal("0.00"))
        assert s["adjustment"] == sum(
            (e["amount"] * (1 if e["direction"] == "income" else -1)
             for e in mine if e["is_adjustment"]), Decimal("0.00"))
    rows, path = _csv(settings, "ledger_entries", tmp_path, date_from, date_to)
    _check_file(rows, expected)
    l2 = next(r for r in rows if r["entry_id"] == "L2")
    assert (l2["amount"], l2["note"], l2["counterparty"]) == (
        "373.20", "电梯广告印刷费", "'=cmd|' /C calc'!A0")
    assert ",-20.00," in path.read_text("utf-8-sig")  # a number, not escaped text
    # one compound's month, as the notice board gets it
    only = q.ledger_entries(cur, date_from=dt.date(2025, 3, 1), date_to=dt.date(2025, 3, 31),
                            compound=JINGUI).to_pylist()
    assert [r["entry_id"] for r in only] == ["L1", "L2", "L3"]


def test_ledger_reports__gb18030_keeps_chinese_and_decimals(built, tmp_path):
    settings, _, _, _ = built
    rows, _ = _csv(settings, "ledger_entries", tmp_path, dt.date(2025, 3, 1),
                   dt.date(2025, 3, 31), encoding="gb18030", compound=JINGUI)
    assert [(r["category"], r["amount"]) for r in rows] == [
        ("摊位租金", "1000.00"), ("广告印刷", "373.20"), ("维修", "120.00")]


# --- population_summary --------------------------------------------------------------

GROUPS = ["dibao", "tekun", "elderly_80", "living_alone", "disabled", "veteran",
          "left_behind_child", "serious_illness", "low_income"]


def _population(cur, **kw) -> list[dict]:
    return q.population_summary(cur, small_count=K, key_groups=GROUPS, **kw).to_pylist()


def _true_counts(people) -> dict[tuple, dict[str, int]]:
    """(community, grid) -> measure -> count, from the input rows; grid None when empty;
    (community, '合计') and ('合计', '合计') for the totals."""
    words = {"低保": "dibao", "dibao": "dibao", "高龄": "elderly_80",
             "高龄老人": "elderly_80", "80岁以上老人": "elderly_80",
             "退役军人": "veteran", "veteran": "veteran", "残疾人": "disabled"}
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    latest = {}
    for p in sorted(people, key=lambda p: p["updated_at"]):
        latest[p["household_id"]] = p
    for p in people:
        keys = [(p["community"], p["grid"] or None), (p["community"], "合计"),
                ("合计", "合计")]
        for key in keys:
            counts[key]["residents"] += 1
            for w in filter(None, p["key_groups"].split(";")):
                counts[key][words[w]] += 1
    for p in latest.values():
        for key in [(p["community"], p["grid"] or None), (p["community"], "合计"),
                    ("合计", "合计")]:
            counts[key]["households"] += 1
    return counts


def test_population_summary__small_counts_suppressed_and_not_derivable(built, tmp_path):
    settings, cur, people, _ = built
    got = _population(cur)
    assert list(got[0]) == ["community", "grid", "residents", "households", *GROUPS]
    assert [(r["community"], r["grid"]) for r in got] == [
        (LONGTA, "网格1"), (LONGTA, "网格2"), (LONGTA, "网格3"), (LONGTA, "合计"),
        (LONGHU, "网格A"), (LONGHU, None), (LONGHU, "合计"), ("合计", "合计")]
    cell = {(r["community"], r["grid"]): r for r in got}
    # a grid with 2 dibao residents reads '<5'; the community total (8) is shown, so
    # the smallest other non-zero grid (6) is hidden as its complement
    assert cell[(LONGTA, "网格1")]["dibao"] == "<5"
    assert cell[(LONGTA, "网格2")]["dibao"] == "—"
    assert cell[(LONGTA, "合计")]["dibao"] == "8"
    # 1 elderly resident in 网格3: the complement is 网格2's 5, not 网格1's 7
    assert [cell[(LONGTA, g)]["elderly_80"] for g in ("网格1", "网格2", "网格3")] == [
        "7", "—", "<5"]
    # veteran: 龙湖's total (2) is small, so 龙塔's total (10) is hidden too, and one of
    # 龙塔's grids with it, so that 龙塔's total cannot be summed from its grids
    assert cell[(LONGHU, "合计")]["veteran"] == "<5"
    assert cell[(LONGTA, "合计")]["veteran"] == "—"
    assert [cell[(LONGTA, g)]["veteran"] for g in ("网格1", "网格2")] == ["—", "5"]
    assert cell[("合计", "合计")]["veteran"] == "12"
    # disabled: 3 in the whole sub-district, hidden at every level
    assert {cell[k]["disabled"] for k in [(LONGHU, "网格A"), (LONGHU, "合计"),
                                          ("合计", "合计")]} == {"<5"}

    truth = _true_counts(people)
    for measure in ["residents", "households", *GROUPS]:
        for key, row in cell.items():
            value = truth[key][measure]
            shown = row[measure]
            # never a count 1..k-1 in clear; every number shown is the true count
            if shown not in ("<5", "—"):
                assert shown == str(value), (key, measure)
            if 1 <= value < K:
                assert shown == "<5", (key, measure)
        # no hidden cell is derivable from a shown total
        for community in (LONGTA, LONGHU):
            grids = [r[measure] for k, r in cell.items()
                     if k[0] == community and k[1] != "合计"]
            hidden = sum(v in ("<5", "—") for v in grids)
            total_hidden = cell[(community, "合计")][measure] in ("<5", "—")
            assert hidden != 1 or total_hidden, (community, measure)
            assert not total_hidden or hidden >= 1, (community, measure)
        totals = [cell[(c, "合计")][measure] in ("<5", "—") for c in (LONGTA, LONGHU)]
        assert sum(totals) != 1 or cell[("合计", "合计")][measure] in ("<5", "—")

    # filtered: the same cells (pattern computed before the filter), no sub-district row
    only = _population(cur, community=LONGTA)
    assert only == [r for r in got if r["community"] == LONGTA]

    rows, path = _csv(settings, "population_summary", tmp_path, dt.date(2025, 1, 1),
                      dt.date(2025, 1, 31))
    _check_file(rows, got)
    text = path.read_text("utf-8-sig")
    assert "龙湖社区·𠮷" in text and "'<5" not in text
    manifest = exports.manifest_path(path).read_text("utf-8")
    assert '"key_groups"' in manifest and "date_from" not in manifest


def test_population_summary__households_count_once_in_latest_grid(built):
    _, cur, people, _ = built
    truth = _true_counts(people)
    cell = {(r["community"], r["grid"]): r for r in _population(cur)}
    # household C9: a member in 网格1 (older row) and one in 网格3 (newer): 网格3 only
    # (网格2's 4 households read '<5'; 网格1's 6 is hidden as its complement)
    assert [cell[(LONGTA, g)]["households"] for g in ("网格1", "网格2", "网格3")] == [
        "—", "<5", "6"]
    assert [truth[(LONGTA, g)]["households"] for g in ("网格1", "网格3")] == [6, 6]
    assert cell[(LONGTA, "合计")]["households"] == str(sum(
        truth[(LONGTA, g)]["households"] for g in ("网格1", "网格2", "网格3"))) == "16"


def test_population_summary__refuses_compound_filter_and_split(built, tmp_path):
    settings, cur, _, _ = built
    with pytest.raises(ValueError, match="compound"):
        q.report_table(cur, "population_summary", compound=JINGUI, small_count=K,
                       key_groups=GROUPS)
    job = exports.ExportJob(report="population_summary",
                            period=exports.Period.between(AS_OF.date(), AS_OF.date()),
                            out=tmp_path, file="{report}_{period}.csv",
                            filters={"compound": JINGUI})
    [record] = exports.run_job(settings, job, as_of=AS_OF)
    assert record.status == "failed" and "compound" in record.message
    assert not list(tmp_path.glob("*.csv"))
    with pytest.raises(ValueError, match="split"):
        q.split_values(cur, "population_summary", "compound", date_from=AS_OF.date(),
                       date_to=AS_OF.date())


def test_population_summary__columns_follow_the_configured_vocabulary(built):
    _, cur, _, _ = built
    got = q.population_summary(cur, small_count=K, key_groups=["veteran", "dibao"])
    assert got.column_names == ["community", "grid", "residents", "households",
                                "veteran", "dibao"]
    with pytest.raises(ValueError, match="column"):
        q.population_summary(cur, small_count=K, key_groups=["x'); drop table t; --"])


# --- splits --------------------------------------------------------------------------


@pytest.mark.parametrize(("report", "split", "names"), [
    ("ledger_statement", "compound", [JINGUI, CUIHU]),
    ("participation", "community", [LONGTA, LONGHU]),
    ("vote_results", "compound", [JINGUI, CUIHU]),
    ("population_summary", "community", [LONGTA, LONGHU]),
])
def test_people_reports__split_one_file_per_value(built, tmp_path, report, split, names):
    settings, _, _, _ = built
    job = exports.ExportJob(report=report,
                            period=exports.Period.between(dt.date(2025, 6, 1),
                                                          dt.date(2025, 10, 31)),
                            out=tmp_path, file=f"{{report}}_{{{split}}}.csv", split=split)
    records = exports.run_job(settings, job, as_of=AS_OF)
    assert all(r.status == "ok" for r in records), [r.message for r in records]
    assert sorted(Path(r.output_path).name for r in records) == sorted(
        f"{report}_{n}.csv" for n in names)
    assert all(r.row_count > 0 for r in records)
