"""Data checks: every `pipelines/sql/checks/check_*.sql` returns no row on a loaded warehouse,
fires on a planted violation, refuses a load (error) or is recorded with it (warning).

The warehouse is built once per session from demo inputs through the real loaders, the same
way `python app.py` builds its first warehouse.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines import bootstrap, checks
from pipelines.demo import write_demo
from pipelines.settings import Settings
from tests.factories import TEST_SECRET

CHECKS = sorted((Path(__file__).resolve().parents[2] / "pipelines" / "sql" / "checks")
                .glob("check_*.sql"))


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Path:
    """A warehouse loaded from one year of demo inputs (20,000 tickets)."""
    root = tmp_path_factory.mktemp("checks")
    settings = Settings(db_path=root / "w.duckdb", demo_dir=root / "demo",
                        secret=TEST_SECRET, secret_file=root / "key")
    files = write_demo(root / "demo", years=1, tickets_per_year=20_000,
                       today=dt.date(2026, 11, 23))
    bootstrap.load_demo_inputs(settings, files)
    return settings.db_path


def test_checks__there_are_checks():
    assert len(CHECKS) >= 10


@pytest.mark.parametrize("check", CHECKS, ids=[c.stem for c in CHECKS])
def test_check__returns_no_rows(demo_warehouse, check):
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        cursor = con.execute(check.read_text(encoding="utf-8"))
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchmany(20)
    finally:
        con.close()
    assert rows == [], f"{check.name} found rows breaking its rule:\n{columns}\n" + \
        "\n".join(map(str, rows))


# --- every check can fire --------------------------------------------------------------

# One planted violation per check: SQL run on a copy of the loaded warehouse.
FIRST = "rowid = (select min(rowid) from {t})"
PLANTS = {
    "check_ballots_within_vote":
        f"update ballots set cast_at = cast_at + interval 400 day where {FIRST.format(t='ballots')}",
    "check_ledger_entries_before_opening":
        "update ledger_openings set month = '2099-01' where "
        "compound = (select min(compound) from ledger_entries)",
    "check_ledger_journal_matches_entries":
        "update ledger_postings set income_yuan = income_yuan + 1 where "
        + FIRST.format(t="ledger_postings"),
    "check_ledger_monthly_arithmetic":
        "update ledger_monthly set closing_yuan = closing_yuan + 1 where "
        + FIRST.format(t="ledger_monthly"),
    "check_ledger_monthly_continuity":
        "delete from ledger_monthly where rowid = (select rowid from ledger_monthly "
        "order by compound, month limit 1 offset 1)",
    "check_ledger_published_unchanged":
        "update ledger_monthly set income_yuan = income_yuan + 1 where (compound, month) = "
        "(select (compound, month) from ledger_publications order by all limit 1)",
    "check_load_log_adds_up":
        "update load_log set inserted = inserted + 1 where load_id = "
        "(select min(load_id) from load_log)",
    "check_participation_rate_bounds":
        "update participation_monthly set participating_households = households + 1 "
        "where " + FIRST.format(t="participation_monthly"),
    "check_people_pseudonymised":
        f"update residents set person_id = '110101199003077777' where {FIRST.format(t='residents')}",
    "check_tickets_unique_id":
        "insert into tickets select * from tickets limit 1",
    "check_tickets_valid_fields":
        f"update tickets set level = 7 where {FIRST.format(t='tickets')}",
    "check_vote_results_within_eligible":
        "update vote_results set voted_owners = eligible_owners + 1 where "
        + FIRST.format(t="vote_results"),
}


@pytest.fixture
def warehouse_copy(demo_warehouse, tmp_path) -> Path:
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_warehouse, copy)
    return copy


def test_checks__every_check_has_a_planted_violation_and_a_valid_header():
    assert sorted(PLANTS) == [c.stem for c in CHECKS]
    for check in checks.all_checks():
        assert check.severity in ("error", "warning") and check.after, check.name


@pytest.mark.parametrize("check", CHECKS, ids=[c.stem for c in CHECKS])
def test_check__fires_on_a_planted_violation(warehouse_copy, check):
    con = duckdb.connect(str(warehouse_copy))
    try:
        changed = con.execute(PLANTS[check.stem]).fetchall()[0][0]
        assert changed >= 1, f"the plant for {check.stem} changed nothing"
        finding = checks.run(con, checks.parse_check(check))
    finally:
        con.close()
    assert finding is not None, f"{check.stem} did not see its planted violation"
    assert finding.row_count >= 1
    assert finding.message().startswith(f"data check {check.stem} (")


def test_error_check_after_a_load__refuses_it_naming_the_check_with_masked_rows(
    warehouse_copy, tmp_path, monkeypatch
):
    from pipelines import journal, loader
    from pipelines.loader import LoadError, load_files
    from tests.factories import ticket_row, write_csv

    settings = Settings(db_path=warehouse_copy, secret=TEST_SECRET,
                        secret_file=tmp_path / "key")
    con = duckdb.connect(str(warehouse_copy), read_only=True)
    try:
        count = con.execute("select count(*) from tickets").fetchall()[0][0]
    finally:
        con.close()
    real_apply = loader._apply

    def buggy_apply(con, source, load_id, extras):  # a loader bug: a bad row goes in
        written = real_apply(con, source, load_id, extras)
        con.execute("update tickets set level = 7, ticket_id = '13812345678' "
                    "where load_id = $id", {"id": load_id})
        return written

    monkeypatch.setattr(loader, "_apply", buggy_apply)
    before = warehouse_copy.read_bytes()
    with pytest.raises(LoadError) as caught:
        load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", [ticket_row()])])
    message = str(caught.value)
    assert message.startswith("refused by data check check_tickets_valid_fields (error): "
                              "1 row(s) break the rule")
    assert "ticket_id=[手机号]" in message and "13812345678" not in message
    assert message.endswith("nothing was loaded")
    assert warehouse_copy.read_bytes() == before
    attempt = journal.summary(warehouse_copy)["tickets"].newest
    assert attempt.outcome == "refused" and "check_tickets_valid_fields" in attempt.reason
    con = duckdb.connect(str(warehouse_copy), read_only=True)
    try:
        assert con.execute("select count(*) from tickets").fetchall()[0][0] == count
    finally:
        con.close()


def test_scoped_check_after_a_load__reads_the_rows_sharing_a_key_with_the_load_only(
    warehouse_copy
):
    check = checks.parse_check(next(c for c in CHECKS
                                    if c.stem == "check_tickets_valid_fields"))
    assert check.scope == ("tickets", "ticket_id")
    con = duckdb.connect(str(warehouse_copy))
    try:
        bad_load = con.execute("select min(load_id) from tickets").fetchall()[0][0]
        other_load = bad_load + 1000  # a load that wrote no ticket
        con.execute("update tickets set level = 7 where rowid = (select min(rowid) from "
                    "tickets where load_id = $id)", {"id": bad_load})
        assert checks.run(con, check, load_id=bad_load).row_count == 1
        assert checks.run(con, check, load_id=other_load) is None
        assert checks.run(con, check).row_count == 1  # `python -m pipelines check`: all
    finally:
        con.close()


def test_scoped_checks_after_a_load__find_the_load_s_keys_once_per_scope(
    warehouse_copy, monkeypatch
):
    # the scoped checks of one load share what they read of the load's keys: at 1.09M
    # tickets each reading cost a first load 0.02 s
    scoped = [c for c in checks.all_checks() if c.follows("tickets") and c.scope]
    assert len(scoped) >= 2 and len({c.scope for c in scoped}) < len(scoped)
    probed = []
    real = checks._load_keys
    monkeypatch.setattr(checks, "_load_keys",
                        lambda con, scope, load_id: probed.append(scope)
                        or real(con, scope, load_id))
    con = duckdb.connect(str(warehouse_copy))
    try:
        bad_load = con.execute("select min(load_id) from tickets").fetchall()[0][0]
        con.execute("update tickets set level = 7 where rowid = (select min(rowid) from "
                    "tickets where load_id = $id)", {"id": bad_load})
        found = checks.run_all(con, "tickets", bad_load)
    finally:
        con.close()
    assert sorted(probed) == sorted({c.scope for c in scoped})
    assert [f.check.name for f in found] == ["check_tickets_valid_fields"]
    assert found[0].row_count == 1


def test_bad_row_stored_before__a_later_load_is_not_refused_for_it_but_check_finds_it(
    warehouse_copy, tmp_path, capsys
):
    from pipelines.__main__ import main as cli
    from pipelines.loader import load_files
    from tests.factories import ticket_row, write_csv

    settings = Settings(db_path=warehouse_copy, secret=TEST_SECRET,
                        secret_file=tmp_path / "key")
    con = duckdb.connect(str(warehouse_copy))
    try:
        con.execute("update tickets set level = 7 where " + FIRST.format(t="tickets"))
    finally:
        con.close()
    (report,) = load_files(settings, "tickets",
                           [write_csv(tmp_path / "t.csv", [ticket_row()])])
    assert report.inserted == 1
    assert cli(["check", "--db", str(warehouse_copy)]) == 1
    assert "check_tickets_valid_fields (error): 1 row(s)" in capsys.readouterr().out


def test_warning_check_after_a_load__loads_and_is_recorded_for_the_status_page(
    warehouse_copy, tmp_path
):
    from pipelines.loader import load_files
    from pipelines.queries import status
    from tests.factories import vote_row, write_csv

    settings = Settings(db_path=warehouse_copy, secret=TEST_SECRET,
                        secret_file=tmp_path / "key")
    con = duckdb.connect(str(warehouse_copy), read_only=True)
    try:  # the vote with most ballots, declared again with one owner fewer than voted
        *vote, voted, area = con.execute(
            "select v.vote_id, compound, title, matter, opens_at, closes_at, count(*), "
            "eligible_area_m2 from votes v join ballots b using (vote_id) group by all "
            "order by count(*) desc limit 1").fetchall()[0]
    finally:
        con.close()
    row = vote_row(**dict(zip(("vote_id", "compound", "title", "matter", "opens_at",
                               "closes_at"), vote)), eligible_owners=voted - 1,
                   eligible_area_m2=area)
    reports = load_files(settings, "votes", [write_csv(tmp_path / "v.csv", [row])])
    assert reports[0].updated == 1
    assert any("data check check_vote_results_within_eligible (warning)" in w
               for w in reports[0].warnings)
    con = duckdb.connect(str(warehouse_copy), read_only=True)
    try:
        loads = status.recent_loads(con, limit=1)
    finally:
        con.close()
    assert loads["status"][0] == "warning"
    assert "check_vote_results_within_eligible" in loads["message"][0]


def test_check_command__exit_1_on_errors_0_on_warnings_only(warehouse_copy, capsys):
    from pipelines.__main__ import main as cli

    assert cli(["check", "--db", str(warehouse_copy)]) == 0
    assert "12 checks: 0 error(s), 0 warning(s)" in capsys.readouterr().out
    con = duckdb.connect(str(warehouse_copy))
    try:
        con.execute(PLANTS["check_vote_results_within_eligible"])
    finally:
        con.close()
    assert cli(["check", "--db", str(warehouse_copy)]) == 0
    assert "0 error(s), 1 warning(s)" in capsys.readouterr().out
    con = duckdb.connect(str(warehouse_copy))
    try:
        con.execute(PLANTS["check_tickets_unique_id"])
    finally:
        con.close()
    assert cli(["check", "--db", str(warehouse_copy)]) == 1
    out = capsys.readouterr().out
    assert "data check check_tickets_unique_id (error)" in out
    assert "1 error(s), 1 warning(s)" in out
