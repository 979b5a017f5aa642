"""Export file names: one file per split value, never one overwriting another, and never a
file outside the export folder (issue 13, item 10)."""

from __future__ import annotations

import pytest

from pipelines import exports
from pipelines.__main__ import main
from pipelines.loader import load_files
from tests.factories import ticket_row, write_csv

COMMUNITIES = ["东区/一社区", "东区:一社区", "东区_一社区"]


@pytest.fixture
def loaded(make_settings, tmp_path):
    """Tickets of three communities whose names differ only in characters a file name
    cannot hold."""
    settings = make_settings(export_dir=tmp_path / "exports")
    rows = [ticket_row(community=c) for c in COMMUNITIES]
    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", rows)], progress=False)
    return settings


def _export(settings, *args: str) -> int:
    return main(["--db", str(settings.db_path), "export", "incident_levels", "--from",
                 "2025-09-01", "--to", "2025-09-30", *args])


def test_split_export__names_that_sanitise_alike_get_their_own_files(loaded, tmp_path):
    out = tmp_path / "split"
    assert _export(loaded, "--split", "community", "--out", str(out)) == 0
    files = sorted(p.name for p in out.glob("*.csv"))
    assert len(files) == 3, files
    assert "incident_levels_2025-09_东区_一社区.csv" in files  # the clean name is kept
    for path in out.glob("*.csv"):  # each file holds its own community only
        text = path.read_text(encoding="utf-8-sig")
        assert sum(c in text for c in COMMUNITIES) == 1, (path.name, text)


def test_split_export__pattern_without_the_split_value_never_overwrites(loaded, tmp_path,
                                                                         capsys):
    out = tmp_path / "same"
    assert _export(loaded, "--split", "community", "--out", str(out),
                   "--file", "all_{period}.csv") == 1
    assert "was already written for" in capsys.readouterr().err
    assert [p.name for p in out.glob("*.csv")] == ["all_2025-09.csv"]


@pytest.mark.parametrize("pattern", ["x/../../..", "../{report}_{period}.csv",
                                     "ABSOLUTE", "..\\\\{period}.csv"])
def test_export_cli__file_pattern_escaping_the_folder_is_refused(loaded, tmp_path, capsys,
                                                                 pattern):
    out = tmp_path / "a" / "b" / "exports"
    if pattern == "ABSOLUTE":
        pattern = f"{tmp_path}/{{period}}.csv"
    before = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert _export(loaded, "--out", str(out), "--file", pattern) == 2
    assert "must be a file name, not a path" in capsys.readouterr().err
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == before


def test_load_schedules__file_pattern_with_a_path_is_refused(loaded, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[[schedule]]\nname = "m"\nreport = "closure_rates"\n'
                    'period = "previous_month"\ncron = "0 6 1 * *"\n'
                    'file = "../../{period}.csv"\n', encoding="utf-8")
    with pytest.raises(exports.ScheduleError, match="must be a file name, not a path"):
        exports.load_schedules(path, loaded)
