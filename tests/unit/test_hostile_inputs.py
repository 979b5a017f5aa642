"""Hostile input files: each gives a clear error naming the file or a clean quarantine.

Never a crash (any exception but LoadError), a hang (every load runs under a time
limit) or a half load (after a LoadError the warehouse is byte-for-byte unchanged; after
a load, the report adds up and the tables hold exactly what it says). The small files
are in tests/data/hostile/ (made by its make_corpus.py); the big ones are made here.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
from pathlib import Path

import duckdb
import pytest

from pipelines.loader import LoadError, LoadReport, load_files
from tests.accounting import assert_accounted
from tests.factories import ticket_row, write_csv

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile"
TIME_LIMIT_S = 120
HEADER = "ticket_id,reported_at,level,category,community,description"


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _count(settings, sql: str) -> int:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def load_guarded(settings, path: Path, **kwargs) -> LoadReport | LoadError:
    """Load `path` under a time limit; return its report or its LoadError.

    Any other exception fails the test (a crash); so does exceeding the limit (a hang).
    After a LoadError the warehouse must be unchanged; after a load, consistent.
    """
    before = _digest(settings.db_path)
    tickets_before = _count(settings, "select count(*) from tickets") if before else 0
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(load_files, settings, "tickets", [path], progress=False, **kwargs)
    try:
        (report,) = future.result(timeout=TIME_LIMIT_S)
    except LoadError as e:
        assert str(path) in str(e), f"the error does not name the file: {e}"
        assert _digest(settings.db_path) == before, "a failed load changed the warehouse"
        return e
    except concurrent.futures.TimeoutError:
        pytest.fail(f"{path.name}: load still running after {TIME_LIMIT_S} s (a hang)")
    finally:
        pool.shutdown(wait=False)
    assert_accounted(settings, [report], [path], kwargs.get("mapping_path"))
    tickets = _count(settings, "select count(*) from tickets")
    assert tickets == tickets_before + report.inserted, "tables disagree with the report"
    assert _count(settings, "select count(*) from quarantine") >= report.quarantined
    return report


def reasons(settings) -> list[str]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return [r for (r,) in con.execute("select reason from quarantine order by line_no")
                .fetchall()]
    finally:
        con.close()


# (file, expected): "error: <text in the message>" or (inserted, quarantined)
EXPECTED = {
    "empty.csv": "error: the file is empty",
    "bom_only.csv": "error: required column(s)",
    "binary_garbage.csv": "error: not a text file",
    "all_nuls.csv": "error: not a text file",
    "control_characters.csv": (2, 3),  # NUL in an id, in a name; an escape in free text
    "header_only.csv": (0, 0),
    "truncated.csv": (4, 1),
    "semicolon.csv": (3, 0),  # DuckDB's sniffer finds the delimiter: a clean load
    "tab.tsv.csv": (3, 0),
    "mixed_encodings.csv": "error: pass --encoding",
    "unbalanced_quotes.csv": (4, 1),
    "three_date_formats.csv": (3, 1),
    "merged_sheets.xlsx": "error: required column(s)",  # first sheet is a cover page
    "formulas.xlsx": (0, 3),  # formula cells without a cached value: level missing
}


def test_corpus__every_file_has_an_expectation():
    files = {p.name for p in CORPUS.iterdir() if p.suffix != ".py"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file__clear_error_or_clean_quarantine(settings, tmp_path, name):
    # A warehouse with data in it already: a failed load must leave that data alone.
    load_files(settings, "tickets", [write_csv(tmp_path / "ok.csv", [ticket_row()])])
    outcome = load_guarded(settings, CORPUS / name)
    expected = EXPECTED[name]
    if isinstance(expected, str):
        assert isinstance(outcome, LoadError), f"{name} loaded: {outcome.summary()}"
        assert expected.removeprefix("error: ") in str(outcome)
    else:
        assert isinstance(outcome, LoadReport), f"{name}: {outcome}"
        assert (outcome.inserted, outcome.quarantined) == expected, outcome.summary()


def test_three_date_formats__the_unknown_one_is_quarantined_with_its_value(settings):
    load_guarded(settings, CORPUS / "three_date_formats.csv")
    assert reasons(settings) == ['reported_at: "23.09.2025 09:00" is not a date and time']


def test_mixed_encodings__utf8_given_keeps_good_rows_quarantines_the_rest(settings):
    report = load_guarded(settings, CORPUS / "mixed_encodings.csv", encoding="utf-8")
    assert isinstance(report, LoadReport)
    assert report.inserted == 3 and report.quarantined == 3
    assert all("encoding" in r for r in reasons(settings))


def test_merged_sheets__named_sheet_loads_merged_cell_as_missing(settings, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('[file]\nsheet = "工单"\n', encoding="utf-8")
    report = load_guarded(settings, CORPUS / "merged_sheets.xlsx", mapping_path=mapping)
    assert (report.inserted, report.quarantined) == (3, 1)
    assert reasons(settings) == ["missing category"]


def test_control_characters__rows_quarantined_with_the_column_named(settings):
    load_guarded(settings, CORPUS / "control_characters.csv")
    assert reasons(settings) == ["ticket_id holds a control character (such as NUL)",
                                 "community holds a control character (such as NUL)",
                                 "description holds a control character (such as NUL)"]
    assert _count(settings, "select count(*) from tickets where regexp_matches("
                            "ticket_id || community || description, '[\\x00-\\x08\\x1b]')") == 0


def test_ten_megabyte_single_field__quarantined_within_the_limit(settings, tmp_path):
    path = tmp_path / "big_field.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        f.write("B1,2025-09-23 09:00:00,1,城市管理,龙塔社区,\"" + "长" * 3_400_000 + "\"\n")
        f.write("B2,2025-09-23 09:00:00,1,城市管理,龙塔社区,ok\n")
        f.write("B3,2025-09-23 09:00:00,1,城市管理,龙塔社区,\"" + "长" * 10_000 + "\"\n")
    assert path.stat().st_size > 10_000_000
    report = load_guarded(settings, path)
    assert (report.inserted, report.quarantined) == (2, 1), report.summary()
    assert reasons(settings) == ["description is longer than 10,000 characters"]
    # the quarantined row keeps the cell's start only, not 10 MB
    assert _count(settings, "select max(strlen(raw_row)) from quarantine") < 40_000


def test_ten_thousand_columns__loads_the_known_ones(settings, tmp_path):
    path = tmp_path / "wide.csv"
    extra = [f"extra{i}" for i in range(10_000 - 6)]
    path.write_text(
        ",".join(HEADER.split(",") + extra) + "\n"
        + ",".join(["W1", "2025-09-23 09:00:00", "1", "城市管理", "龙塔社区", "d"]
                   + ["v"] * len(extra)) + "\n",
        encoding="utf-8",
    )
    report = load_guarded(settings, path)
    assert isinstance(report, LoadReport) and report.inserted == 1
