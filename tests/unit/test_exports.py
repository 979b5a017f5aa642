"""Exports: periods, schedules, due runs under an injected clock, overlapping runs,
killed exports, encodings, formula escaping and the export_log spool."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

from pipelines import exports, warehouse
from pipelines.__main__ import main
from pipelines.loader import load_files
from tests.factories import TEST_SECRET, ticket_row, write_csv

ROOT = Path(__file__).resolve().parents[2]
D = dt.date
T = dt.datetime


# --- periods and cron ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fired", "start", "end", "label"),
    [
        ("previous_month", T(2025, 10, 1, 6), D(2025, 9, 1), D(2025, 9, 30), "2025-09"),
        ("previous_month", T(2026, 1, 1, 0), D(2025, 12, 1), D(2025, 12, 31), "2025-12"),
        ("previous_month", T(2024, 3, 15), D(2024, 2, 1), D(2024, 2, 29), "2024-02"),
        ("previous_week", T(2025, 10, 1, 8), D(2025, 9, 22), D(2025, 9, 28), "2025-W39"),
        ("previous_week", T(2025, 9, 29, 0), D(2025, 9, 22), D(2025, 9, 28), "2025-W39"),
        ("previous_day", T(2025, 10, 1, 0, 5), D(2025, 9, 30), D(2025, 9, 30),
         "2025-09-30"),
        ("previous_quarter", T(2025, 1, 2), D(2024, 10, 1), D(2024, 12, 31), "2024-Q4"),
        ("previous_quarter", T(2025, 8, 2), D(2025, 4, 1), D(2025, 6, 30), "2025-Q2"),
        ("previous_year", T(2025, 1, 1), D(2024, 1, 1), D(2024, 12, 31), "2024"),
        ("month_to_date", T(2025, 9, 17, 8), D(2025, 9, 1), D(2025, 9, 16),
         "2025-09-01_2025-09-16"),
        ("month_to_date", T(2025, 10, 1, 8), D(2025, 9, 1), D(2025, 9, 30),
         "2025-09-01_2025-09-30"),
        ("week_to_date", T(2025, 9, 25, 8), D(2025, 9, 22), D(2025, 9, 24),
         "2025-09-22_2025-09-24"),
        ("year_to_date", T(2025, 3, 1), D(2025, 1, 1), D(2025, 2, 28),
         "2025-01-01_2025-02-28"),
    ],
)
def test_period_for__kinds(kind, fired, start, end, label):
    assert exports.period_for(kind, fired) == exports.Period(start, end, label)


def test_period_for__unknown_kind_names_choices():
    with pytest.raises(ValueError, match="previous_month"):
        exports.period_for("last_fortnight", T(2025, 1, 1))


def test_last_fire_time__exact_minute_counts():
    assert exports.last_fire_time("0 6 1 * *", T(2025, 10, 1, 6, 0)) == T(2025, 10, 1, 6)
    assert exports.last_fire_time("0 6 1 * *", T(2025, 10, 1, 5, 59)) == T(2025, 9, 1, 6)


def test_period_between__labels():
    assert exports.Period.between(D(2025, 9, 1), D(2025, 9, 30)).label == "2025-09"
    assert exports.Period.between(D(2025, 9, 1), D(2025, 9, 3)).label == (
        "2025-09-01_2025-09-03")
    with pytest.raises(ValueError, match="before it starts"):
        exports.Period.between(D(2025, 9, 2), D(2025, 9, 1))


# --- schedules file -----------------------------------------------------------------


def test_load_schedules__example_file_is_valid(settings):
    schedules = exports.load_schedules(ROOT / "exports.example.toml", settings)
    assert len(schedules) >= 4
    assert all(s.out.is_absolute() for s in schedules)
    split = next(s for s in schedules if s.split)
    assert "{community}" in split.file


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('report = "nope"', "unknown report 'nope'"),
        ('period = "fortnight"', "unknown period"),
        ('cron = "every day"', "not a cron expression"),
        ('file = "closure.csv"', r"must contain \{period\}"),
        ('split = "community"\nfile = "{report}_{period}.csv"', r"must contain \{community"),
        ('split = "grid"', "split must be one of"),
        ('filters = { level = "3" }', "unknown filter"),
        ('encoding = "latin-1"', "encoding must be one of"),
        ('colour = "red"', "unknown key"),
        ('file = "{report}_{period}_{year}.csv"', "unknown"),
    ],
)
def test_load_schedules__rejects_with_reason(settings, tmp_path, entry, message):
    base = {"name": '"s1"', "report": '"closure_rates"', "period": '"previous_month"',
            "cron": '"0 6 1 * *"'}
    key = entry.split(" = ")[0]
    base.pop(key, None)
    lines = [f"{k} = {v}" for k, v in base.items()] + [entry]
    path = tmp_path / "s.toml"
    path.write_text("[[schedule]]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(exports.ScheduleError, match=message):
        exports.load_schedules(path, settings)


def test_load_schedules__duplicate_names(settings, tmp_path):
    one = ('[[schedule]]\nname = "a"\nreport = "closure_rates"\nperiod = "previous_month"\n'
           'cron = "0 6 1 * *"\n')
    path = tmp_path / "s.toml"
    path.write_text(one + one, encoding="utf-8")
    with pytest.raises(exports.ScheduleError, match="used twice"):
        exports.load_schedules(path, settings)


# --- due runs: a simulated cron, minute by minute ------------------------------------


def _schedule(name="monthly", period="previous_month", cron="0 6 1 * *", **kw):
    kw.setdefault("out", Path("/nonexistent"))
    return exports.Schedule(name=name, report="closure_rates", period=period, cron=cron,
                            **kw)


def _simulate(schedules, minutes, state=None):
    """Call due_runs at each minute as cron would; mark each run done. Returns the runs."""
    state = state or exports.LogState()
    ran = []
    for now in minutes:
        for run in exports.due_runs(schedules, now, state):
            ran.append((run.schedule.name, run.period.label, now))
            state.add(run.schedule.name, run.period.start, run.period.end, "ok", now)
    return ran, state


def _minutes(start: dt.datetime, end: dt.datetime):
    now = start
    while now < end:
        yield now
        now += dt.timedelta(minutes=1)


def test_due_runs__month_boundary_runs_each_period_once():
    schedules = [_schedule(), _schedule("daily", "previous_day", "30 7 * * *")]
    state = exports.LogState()
    # pretend the months before were exported when the schedules were set up
    state.add("monthly", D(2025, 8, 1), D(2025, 8, 31), "ok", T(2025, 9, 1, 6))
    state.add("daily", D(2025, 9, 28), D(2025, 9, 28), "ok", T(2025, 9, 29, 7, 30))
    ran, _ = _simulate(schedules, _minutes(T(2025, 9, 29, 8), T(2025, 10, 2, 12)), state)
    assert ran == [
        ("daily", "2025-09-29", T(2025, 9, 30, 7, 30)),
        ("monthly", "2025-09", T(2025, 10, 1, 6, 0)),
        ("daily", "2025-09-30", T(2025, 10, 1, 7, 30)),
        ("daily", "2025-10-01", T(2025, 10, 2, 7, 30)),
    ]


def test_due_runs__three_day_outage_catches_up_once():
    schedules = [_schedule(), _schedule("daily", "previous_day", "30 7 * * *")]
    before, state = _simulate(schedules, _minutes(T(2025, 10, 30, 8), T(2025, 10, 31, 5)))
    assert before == [("monthly", "2025-09", T(2025, 10, 30, 8)),
                      ("daily", "2025-10-29", T(2025, 10, 30, 8))]
    # machine down from 2025-10-31 05:00 to 2025-11-03 10:00: the 1st's 06:00 and three
    # daily ticks were missed; cron resumes every minute
    after, _ = _simulate(schedules, _minutes(T(2025, 11, 3, 10), T(2025, 11, 4, 0)), state)
    assert after == [("monthly", "2025-10", T(2025, 11, 3, 10)),
                     ("daily", "2025-11-02", T(2025, 11, 3, 10))]


def test_due_runs__failed_period_retried_after_wait_force_reruns_done():
    s = _schedule(retry_minutes=10)
    state = exports.LogState()
    state.add("monthly", D(2025, 9, 1), D(2025, 9, 30), "failed", T(2025, 10, 1, 6))
    assert exports.due_runs([s], T(2025, 10, 1, 6, 9), state) == []
    assert len(exports.due_runs([s], T(2025, 10, 1, 6, 10), state)) == 1
    state.add("monthly", D(2025, 9, 1), D(2025, 9, 30), "ok", T(2025, 10, 1, 6, 10))
    assert exports.due_runs([s], T(2025, 10, 1, 6, 11), state) == []
    assert len(exports.due_runs([s], T(2025, 10, 1, 6, 11), state, force=True)) == 1


# --- against a real warehouse --------------------------------------------------------


@pytest.fixture
def loaded(make_settings, tmp_path):
    """A warehouse with September and October tickets, loaded by the real loader."""
    settings = make_settings(export_dir=tmp_path / "exports")
    rows = [
        ticket_row(),
        ticket_row(community="龙湖社区", category="占道经营〔𠮷〕", level=2,
                   closed_at="", satisfaction=""),
        ticket_row(community="@cmd|calc", reported_at="2025-10-08 09:00:00",
                   accepted_at="", responded_at="", closed_at="", satisfaction=""),
    ]
    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", rows)], progress=False)
    return settings


def _log(settings) -> list[tuple]:
    con = warehouse.connect_read_only(settings.db_path)
    try:
        return con.cursor().execute(
            "select schedule_name, report, period_from, period_to, status, output_path, "
            "row_count, file_sha256, data_version, message from export_log "
            "order by started_at, output_path").fetchall()
    finally:
        con.close()


def _monthly(tmp_path, **kw):
    return _schedule(out=tmp_path / "exports", file="{report}_{period}.csv", **kw)


def test_run_due__cron_simulation_with_outage_writes_each_file_once(loaded, tmp_path):
    s = _monthly(tmp_path)
    # cron every 5 minutes around the boundary, then down for three days over the next 1st
    ticks = [*_minutes(T(2025, 10, 1, 5, 50), T(2025, 10, 1, 6, 20)),
             *_minutes(T(2025, 11, 3, 9, 0), T(2025, 11, 3, 9, 10))][::5]
    ran = []
    for now in ticks:
        summary = exports.run_due(loaded, [s], now)
        assert summary.logged and not summary.failed
        ran += [(now, r.period_from) for r in summary.ran]
    assert ran == [(T(2025, 10, 1, 5, 50), D(2025, 8, 1)),  # first start: latest period
                   (T(2025, 10, 1, 6, 0), D(2025, 9, 1)),
                   (T(2025, 11, 3, 9, 0), D(2025, 10, 1))]
    files = sorted(p.name for p in (tmp_path / "exports").iterdir())
    assert files == [f"closure_rates_{m}.{ext}" for m in ("2025-08", "2025-09", "2025-10")
                     for ext in ("csv", "manifest.json")]
    log = _log(loaded)
    assert [(r[0], r[2], r[4]) for r in log] == [
        ("monthly", D(2025, 8, 1), "ok"), ("monthly", D(2025, 9, 1), "ok"),
        ("monthly", D(2025, 10, 1), "ok")]


def test_run_due__manifest_matches_file_and_log(loaded, tmp_path):
    [record] = exports.run_due(loaded, [_monthly(tmp_path)], T(2025, 10, 1, 6)).ran
    path = Path(record.output_path)
    manifest = json.loads(exports.manifest_path(path).read_text(encoding="utf-8"))
    data = path.read_bytes()
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest() == record.file_sha256
    assert manifest["row_count"] == record.row_count == len(data.splitlines()) - 1 == 2
    assert manifest["period"] == {"from": "2025-09-01", "to": "2025-09-30",
                                  "label": "2025-09"}
    assert manifest["report"] == "closure_rates" and manifest["schedule"] == "monthly"
    assert manifest["parameters"]["as_of"] == "2025-10-01T06:00:00"
    # the tickets stop at 23 September 09:00 (the October one came later): the file
    # says so rather than pass September off as whole
    assert manifest["window"] == {"zh": "2025-09-01–09-23 09:00（至今）",
                                  "en": "2025-09-01–09-23 09:00 (to date)",
                                  "is_partial": True}
    [logged] = _log(loaded)
    assert logged[7] == record.file_sha256 and logged[8] == manifest["data_version"]


def test_export__a_period_the_tickets_ran_past_is_whole(loaded, tmp_path):
    """September, exported on 1 November when October's tickets are in: complete."""
    record = exports.export_report(loaded, exports.ExportJob(
        report="closure_rates", period=exports.Period.between(D(2025, 9, 1), D(2025, 9, 30)),
        out=tmp_path / "one", file="{report}_{period}.csv"), as_of=T(2025, 11, 1, 9))[0]
    manifest = json.loads(exports.manifest_path(Path(record.output_path)).read_text(
        encoding="utf-8"))
    assert manifest["window"] == {"zh": "2025-09-01–2025-09-30",
                                  "en": "2025-09-01–2025-09-30", "is_partial": False}


def test_run_due__skips_schedule_another_invocation_is_running(loaded, tmp_path):
    lock = exports._schedule_lock(loaded, "monthly")
    with lock:
        summary = exports.run_due(loaded, [_monthly(tmp_path)], T(2025, 10, 1, 6))
    assert summary.busy == ["monthly"] and summary.ran == []
    assert not (tmp_path / "exports").exists()
    assert len(exports.run_due(loaded, [_monthly(tmp_path)], T(2025, 10, 1, 6)).ran) == 1


def test_run_due__rechecks_log_after_taking_the_lock(loaded, tmp_path, monkeypatch):
    """Another invocation finishes the period between our first look and our lock."""
    real = exports._schedule_lock

    def lock_after_other_finished(settings, name):
        other = exports.ExportRecord(
            run_id="other", schedule_name=name, report="closure_rates",
            period_from=D(2025, 9, 1), period_to=D(2025, 9, 30), filters={},
            started_at=T(2025, 10, 1, 6), status="ok", output_path="elsewhere.csv")
        exports.record_runs(settings, [other])
        return real(settings, name)

    monkeypatch.setattr(exports, "_schedule_lock", lock_after_other_finished)
    summary = exports.run_due(loaded, [_monthly(tmp_path)], T(2025, 10, 1, 6))
    assert summary.ran == []
    assert [r[5] for r in _log(loaded)] == ["elsewhere.csv"]


def _write_schedules(tmp_path) -> Path:
    path = tmp_path / "schedules.toml"
    path.write_text(
        '[[schedule]]\nname = "every-minute"\nreport = "incident_levels"\n'
        'period = "previous_month"\ncron = "* * * * *"\nout = "out"\n', encoding="utf-8")
    return path


def test_export_due__overlapping_processes_export_once(loaded, tmp_path):
    schedules = _write_schedules(tmp_path)
    cmd = [sys.executable, "-m", "pipelines", "--db", str(loaded.db_path), "export",
           "--due", "--schedules", str(schedules)]
    env = {**os.environ, "WALL_SECRET": TEST_SECRET}
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    log = _log(loaded)
    assert len(log) == 1 and log[0][4] == "ok"
    assert len(list((tmp_path / "out").glob("*.csv"))) == 1
    # and a later minute in the same month does nothing
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                           check=False)
    assert again.returncode == 0 and again.stdout == ""
    assert len(_log(loaded)) == 1


def test_export_due__force_exports_again(loaded, tmp_path, capsys):
    schedules = _write_schedules(tmp_path)
    args = ["--db", str(loaded.db_path), "export", "--due", "--schedules", str(schedules)]
    assert main(args) == 0
    assert main(args) == 0
    assert main(args + ["--force"]) == 0
    assert [r[4] for r in _log(loaded)] == ["ok", "ok"]


# --- files people can trust ----------------------------------------------------------


def _one_off(settings, tmp_path, **kw):
    job = exports.ExportJob(report="incident_levels",
                            period=exports.Period.between(D(2025, 9, 1), D(2025, 10, 31)),
                            out=tmp_path / "one", file="{report}_{period}.csv", **kw)
    [record] = exports.export_report(settings, job, as_of=T(2025, 11, 1, 9))
    return record


def test_export__default_encoding_is_utf8_with_bom_and_chinese_round_trips(loaded, tmp_path):
    record = _one_off(loaded, tmp_path)
    data = Path(record.output_path).read_bytes()
    assert data.startswith(exports.BOM)
    with open(record.output_path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["category"] for r in rows} == {"城市管理", "占道经营〔𠮷〕"}
    assert "龙湖社区" in {r["community"] for r in rows}


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_export__plain_utf8_and_gb18030_on_request(loaded, tmp_path, encoding):
    record = _one_off(loaded, tmp_path, encoding=encoding)
    data = Path(record.output_path).read_bytes()
    assert not data.startswith(exports.BOM)
    text = data.decode(encoding)
    assert "占道经营〔𠮷〕" in text and "龙湖社区" in text
    if encoding == "gb18030":
        assert "龙湖社区".encode("gb18030") in data  # really GB18030, not UTF-8
    assert hashlib.sha256(data).hexdigest() == record.file_sha256


def test_export__formula_cells_escaped_numbers_not(loaded, tmp_path):
    record = _one_off(loaded, tmp_path)
    text = Path(record.output_path).read_text(encoding="utf-8-sig")
    assert "\n2025-09-01/2025-10-31,'@cmd|calc,城市管理,1,1\n" in text


def test_escaped_select__text_only_negative_numbers_and_money_exact(tmp_path):
    con = duckdb.connect()
    sql = ("select $amount::decimal(18,2) as amount_yuan, -5 as delta_count, "
           "note from (values ('=1+1'), ('+86 138'), ('-3 摊位'), ('@x'), ('\t=x'), "
           "('ok = fine'), ('')) as t(note)")
    wrapped = exports._escaped_select(con, sql, {"amount": Decimal("-373.20")})
    out = tmp_path / "x.csv"
    con.execute(f"copy ({wrapped}) to $p (header)", {"amount": Decimal("-373.20"),
                                                     "p": str(out)})
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["note"] for r in rows] == ["'=1+1", "'+86 138", "'-3 摊位", "'@x", "'\t=x",
                                         "ok = fine", ""]
    assert {r["amount_yuan"] for r in rows} == {"-373.20"}
    assert {r["delta_count"] for r in rows} == {"-5"}


def test_export__exception_before_rename_leaves_nothing(loaded, tmp_path, monkeypatch,
                                                        capsys):
    def boom(tmp, final):
        raise OSError("disk full (injected)")

    monkeypatch.setattr(exports, "_publish", boom)
    out = tmp_path / "one"
    status = main(["--db", str(loaded.db_path), "export", "closure_rates", "--from",
                   "2025-09-01", "--to", "2025-09-30", "--out", str(out)])
    assert status == 1
    assert "disk full (injected)" in capsys.readouterr().err
    assert list(out.iterdir()) == []  # not even a temporary file
    [logged] = _log(loaded)
    assert logged[4] == "failed" and "disk full" in logged[9] and logged[5] is None


_KILLER = """
import os, signal, sys
from pipelines import exports
from pipelines.__main__ import main

def die(tmp, final):
    assert tmp.stat().st_size > 0          # the whole file is written, only not renamed
    os.kill(os.getpid(), signal.SIGKILL)

exports._publish = die
sys.exit(main(sys.argv[1:]))
"""


def test_export__killed_mid_export_leaves_no_file(loaded, tmp_path):
    out = tmp_path / "one"
    args = ["--db", str(loaded.db_path), "export", "closure_rates", "--from",
            "2025-09-01", "--to", "2025-09-30", "--out", str(out)]
    env = {**os.environ, "WALL_SECRET": TEST_SECRET}
    killed = subprocess.run([sys.executable, "-c", _KILLER, *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [p for p in out.iterdir() if not p.name.startswith(".")] == []
    assert _log(loaded) == []
    # the next export cleans the dead process's temporary files and succeeds
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "closure_rates_2025-09.csv", "closure_rates_2025-09.manifest.json"]


def test_export_cli__bad_arguments_exit_2(loaded, capsys):
    db = ["--db", str(loaded.db_path)]
    assert main(db + ["export", "closure_rates", "--from", "2025-09-30", "--to",
                      "2025-09-01"]) == 2
    assert "before it starts" in capsys.readouterr().err
    assert main(db + ["export", "closure_rates"]) == 2
    assert main(db + ["export", "--due", "--schedules", "/nonexistent.toml"]) == 2
    assert "no schedules file" in capsys.readouterr().err


def test_export_cli__one_off_with_community_filter(loaded, tmp_path, capsys):
    out = tmp_path / "one"
    assert main(["--db", str(loaded.db_path), "export", "overdue_tickets", "--from",
                 "2025-09-01", "--to", "2025-09-30", "--community", "龙湖社区",
                 "--out", str(out)]) == 0
    path = out / "overdue_tickets_2025-09_龙湖社区.csv"
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["community"] for r in rows] == ["龙湖社区"]
    assert "1 rows" in capsys.readouterr().out


def _state(db_path: Path) -> tuple:
    """The warehouse file's bytes (hashed), inode and mtime, and its schema version."""
    st = db_path.stat()
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        version = warehouse.schema_version(con)
    finally:
        con.close()
    return hashlib.sha256(db_path.read_bytes()).hexdigest(), st.st_ino, st.st_mtime_ns, \
        version


@pytest.mark.parametrize("command", [
    ["export", "overdue_tickets", "--from", "2025-09-01", "--to", "2025-09-30", "--out",
     "{out}"],
    ["export", "--due", "--schedules", "{schedules}"],
    ["check"],
    ["status"],
])
def test_cli__refused_on_a_warehouse_one_migration_behind_leaves_it_untouched(
        loaded, tmp_path, capsys, command):
    """Only `migrate` and loads upgrade a warehouse; a command that refuses it (an export's
    read needs the current schema) must not upgrade it on the way out, e.g. by writing
    the failed export's log row."""
    db = Path(loaded.db_path)
    con = duckdb.connect(str(db))
    try:
        con.execute("delete from schema_version where version = $v",
                    {"v": warehouse.SCHEMA_VERSION})
    finally:
        con.close()
    before = _state(db)
    assert before[3] == warehouse.SCHEMA_VERSION - 1
    places = {"{schedules}": str(_write_schedules(tmp_path)), "{out}": str(tmp_path / "out")}
    args = [places.get(a, a) for a in command]
    assert main(["--db", str(db), *args]) == 1
    assert "python -m pipelines migrate" in capsys.readouterr().err
    assert _state(db) == before
    assert not (tmp_path / "out").exists()
    # the refused export's record is kept and reaches export_log once migrated
    assert main(["--db", str(db), "migrate"]) == 0
    exports.record_runs(loaded, [])
    assert [r[4] for r in _log(loaded)] == (["failed"] if args[0] == "export" and
                                            "--due" not in args else [])


# --- export_log while a load holds the writer lock -----------------------------------


def test_run_due__log_spooled_while_a_load_writes_then_moved_in(loaded, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(exports, "LOG_LOCK_TIMEOUT", 0.05)
    s = _monthly(tmp_path)
    with FileLock(str(warehouse.lock_path(Path(loaded.db_path)))):
        summary = exports.run_due(loaded, [s], T(2025, 10, 1, 6))
        assert not summary.logged and len(summary.ran) == 1
        assert len(exports.pending_records(loaded)) == 1
        # the spool counts as done: the next minute does not export again
        assert exports.run_due(loaded, [s], T(2025, 10, 1, 6, 1)).ran == []
    assert _log(loaded) == []
    # lock free: the next invocation moves the spooled row into export_log, once
    assert exports.run_due(loaded, [s], T(2025, 10, 1, 6, 2)).ran == []
    assert exports.pending_records(loaded) == []
    assert [(r[0], r[4]) for r in _log(loaded)] == [("monthly", "ok")]
    exports.record_runs(loaded, [])
    assert len(_log(loaded)) == 1


def test_scheduler__runs_due_each_minute_with_injected_clock(loaded, tmp_path):
    schedules = _write_schedules(tmp_path)
    times = iter([T(2025, 10, 1, 0, 0, 5), T(2025, 10, 1, 0, 0, 6),
                  T(2025, 10, 1, 0, 1, 2), T(2025, 10, 1, 0, 1, 3),
                  T(2025, 11, 1, 0, 0, 1)])
    slept = []
    exports.run_scheduler(loaded, schedules, clock=lambda: next(times),
                          sleep=slept.append, cycles=3)
    assert slept == [54.0, 57.0]
    assert [(r[2], r[4]) for r in _log(loaded)] == [(D(2025, 9, 1), "ok"),
                                                    (D(2025, 10, 1), "ok")]
