"""Files that attack the loader (issue 13, items 6-10): each is refused with a clear error
naming the file and the reason, or its bad rows are quarantined with their reason; good
data is never lost and nothing bad is stored."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.loader import LoadError, load_files
from tests.factories import ticket_row, write_csv


def rows_of(settings, sql: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def quarantine_reasons(settings) -> dict[int, str]:
    return dict(rows_of(settings, "select line_no, reason from quarantine order by line_no"))


# --- item 7: whole-number columns never round ---------------------------------------


@pytest.mark.parametrize("level", ["1.5", "0x3", "4.49", "0.6", "1e0", "2,0"])
def test_load_tickets__fractional_or_hex_level_is_quarantined_not_rounded(
        settings, tmp_path, level):
    path = write_csv(tmp_path / "t.csv", [ticket_row(ticket_id="OK"),
                                          ticket_row(ticket_id="BAD", level=level)])
    (report,) = load_files(settings, "tickets", [path])
    assert (report.inserted, report.quarantined) == (1, 1)
    assert quarantine_reasons(settings) == {3: f'level: "{level}" is not a whole number'}
    assert rows_of(settings, "select ticket_id from tickets") == [("OK",)]


@pytest.mark.parametrize("level", ["3", "+3", "3.0", "三级", "Ⅲ"])
def test_load_tickets__whole_levels_and_synonyms_load(settings, tmp_path, level):
    path = write_csv(tmp_path / "t.csv", [ticket_row(level=level)])
    (report,) = load_files(settings, "tickets", [path])
    assert report.inserted == 1, report.summary()
    assert rows_of(settings, "select level from tickets") == [(3,)]


@pytest.mark.parametrize(("source", "column", "row"), [
    ("grids", "grid_workers",
     {"community": "龙塔社区", "grid": "第1网格", "grid_workers": "2.5"}),
    ("grids", "households_served",
     {"community": "龙塔社区", "grid": "第1网格", "households_served": "0x10"}),
    ("votes", "eligible_owners",
     {"vote_id": "V1", "compound": "金桂苑", "matter": "ordinary",
      "opens_at": "2025-09-01 00:00:00", "closes_at": "2025-09-30 00:00:00",
      "eligible_owners": "99.5", "eligible_area_m2": "1000.00"}),
])
def test_load__every_whole_number_column_refuses_fractions(settings, tmp_path, source,
                                                            column, row):
    (report,) = load_files(settings, source, [write_csv(tmp_path / "f.csv", [row])])
    assert report.quarantined == 1, report.summary()
    assert quarantine_reasons(settings) == {2: f'{column}: "{row[column]}" is not a whole '
                                               f'number'}


# --- item 9: a file that changes during the load --------------------------------------


def _file_of(tmp_path, n: int) -> Path:
    return write_csv(tmp_path / "t.csv", [ticket_row(ticket_id=f"C{i:05d}") for i in range(n)])


@pytest.mark.parametrize("change", ["truncate", "append"])
def test_load__file_changed_between_hash_and_read_is_refused(settings, tmp_path, monkeypatch,
                                                             change):
    from pipelines import loader

    path = _file_of(tmp_path, 20_000)
    load_files(settings, "tickets", [write_csv(tmp_path / "ok.csv", [ticket_row()])])
    before = settings.db_path.read_bytes()
    real_stage = loader._stage

    def stage_after_a_writer(con, source, files, *args, **kwargs):
        files[0].sha256  # the hash is complete: the original bytes were hashed
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if change == "truncate"
                         else data + data.replace(b"C", b"D"))
        return real_stage(con, source, files, *args, **kwargs)

    monkeypatch.setattr(loader, "_stage", stage_after_a_writer)
    with pytest.raises(LoadError, match=r"t\.csv: the file changed while it was being loaded"):
        load_files(settings, "tickets", [path])
    assert settings.db_path.read_bytes() == before


def test_load__file_rewritten_in_place_with_its_old_size_and_mtime_is_refused(
        settings, tmp_path, monkeypatch):
    import os

    from pipelines import loader

    path = _file_of(tmp_path, 100)
    real_stage = loader._stage

    def stage_after_a_sneaky_writer(con, source, files, *args, **kwargs):
        files[0].sha256
        st = path.stat()
        path.write_bytes(path.read_bytes().replace(b"C0", b"X0"))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # touch -r: ctime still moves
        return real_stage(con, source, files, *args, **kwargs)

    monkeypatch.setattr(loader, "_stage", stage_after_a_sneaky_writer)
    with pytest.raises(LoadError, match="changed while it was being loaded"):
        load_files(settings, "tickets", [path])
