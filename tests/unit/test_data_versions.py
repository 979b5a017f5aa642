"""Data versions: caches follow the data, not the file and not the number alone.

- after a restore from backup, cached results of the discarded data are never served,
  even when loads bring the restored warehouse back to the same version number;
- a write that changes no figure (the export log, a migration) does not make walls
  redraw; a load does.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from dashboards import _data
from pipelines import exports, queries, warehouse
from pipelines.__main__ import main as cli
from pipelines.loader import load_files
from pipelines.warehouse import Reader
from tests.factories import ticket_row, write_csv


def load(settings, tmp_path, name, **row):
    return load_files(settings, "tickets", [write_csv(tmp_path / name, [ticket_row(**row)])])


def version_of(settings) -> tuple[int, object]:
    """(data version number, cache key) of the warehouse file now."""
    con = Reader(settings.db_path).cursor()
    try:
        return warehouse.data_version(con), queries.current_version(con)
    finally:
        con.close()


def test_restored_backup__same_version_number_other_data_other_cache_key(settings, tmp_path):
    load(settings, tmp_path, "a.csv", community="龙塔社区")
    backup = tmp_path / "backup.duckdb"
    shutil.copyfile(settings.db_path, backup)
    load(settings, tmp_path, "b.csv", community="望江社区")
    number, discarded = version_of(settings)
    queries.RESULTS.clear()
    cached = queries.cached("options", discarded, lambda: ["望江社区", "龙塔社区"])

    shutil.copyfile(backup, settings.db_path)  # restore, then load something else
    load(settings, tmp_path, "c.csv", community="东湖社区")
    number_again, restored = version_of(settings)
    assert number_again == number == 2
    assert restored != discarded
    fresh = queries.cached("options", restored, lambda: ["东湖社区", "龙塔社区"])
    assert fresh != cached


@pytest.fixture
def serving(settings):
    """The app's view layer on `settings` (no Dash app needed for the version API)."""
    previous = (_data._settings, _data._reader)
    _data.configure(settings)
    yield settings
    _data._settings, _data._reader = previous


def test_wall_version__bookkeeping_writes_keep_it_a_load_changes_it(serving, tmp_path):
    from dashboards._version_api import version_payload

    settings = serving
    load(settings, tmp_path, "a.csv")
    before = version_payload()
    file_before = settings.db_path.stat().st_ino
    record = exports.ExportRecord(
        run_id="r1", schedule_name=None, report="closure_rates",
        period_from=dt.date(2026, 11, 1), period_to=dt.date(2026, 11, 30), filters={},
        started_at=dt.datetime(2026, 12, 1, 8), status="ok")
    assert exports.record_runs(settings, [record])
    assert cli(["migrate", "--db", str(settings.db_path)]) == 0
    assert settings.db_path.stat().st_ino != file_before  # two new files were swapped in
    assert version_payload()["key"] == before["key"]
    load(settings, tmp_path, "b.csv")
    assert version_payload()["key"] != before["key"]
