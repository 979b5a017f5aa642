"""Schema migrations: a new warehouse starts empty; an old one upgraded in place serves the
same answers as one loaded with the new schema."""

from __future__ import annotations

import re

import duckdb

from pipelines import warehouse
from pipelines.loader import load_files
from tests.factories import resident_row, ticket_row, write_csv

# Migrations that add derived tables (filled from loaded data when a warehouse upgrades).
DERIVED = {v: name for v, name, _ in warehouse.migrations() if v in warehouse.BACKFILL}


def _tables_created_by(version: int) -> list[str]:
    sql = next(sql for v, _, sql in warehouse.migrations() if v == version)
    return re.findall(r"create table (\w+)", sql, flags=re.IGNORECASE)


def _derived_tables(db_path) -> list[str]:
    """Tables the backfilled migrations create that the warehouse still has (0018 drops
    wall_population_cells)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        have = {t for (t,) in con.execute(
            "select table_name from information_schema.tables").fetchall()}
    finally:
        con.close()
    created = dict.fromkeys(t for v in DERIVED for t in _tables_created_by(v))
    return [t for t in created if t in have]


def _contents(db_path, tables: list[str]) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {t: sorted(con.execute(f"select * from {t}").fetchall(), key=repr)
                for t in tables}
    finally:
        con.close()


def test_new_warehouse__every_migration_applied_and_no_data(settings):
    with warehouse.writer(settings, bump_version=False):
        pass
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION
        versions = [v for (v,) in con.execute("select version from schema_version")
                    .fetchall()]
        assert sorted(versions) == [v for v, _, _ in warehouse.migrations()]
        derived = _derived_tables(settings.db_path)
        counts = {t: con.execute(f"select count(*) from {t}").fetchall()[0][0]
                  for t in derived}
        assert counts == {t: 0 for t in derived}
    finally:
        con.close()


def test_upgrade__derived_tables_filled_from_the_data_already_loaded(settings, tmp_path):
    tickets = [ticket_row(), ticket_row(level="2", community="枫林社区"),
               ticket_row(closed_at="", updated_at="", reported_at="2025-10-09 08:00:00")]
    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", tickets)])
    load_files(settings, "population",
               [write_csv(tmp_path / "p.csv", [resident_row() for _ in range(12)])])
    derived = _derived_tables(settings.db_path)
    assert derived, "no migration adds derived tables: this test checks nothing"
    loaded = _contents(settings.db_path, derived)
    assert all(loaded[t] for t in ("ticket_dimension_values", "wall_closure_monthly",
                                    "population_counts"))

    # the same warehouse as it was before those migrations
    con = duckdb.connect(str(settings.db_path))
    try:
        for table in derived:
            con.execute(f"drop table if exists {table}")
        con.execute("delete from schema_version where version in "
                    "(select unnest($v))", {"v": list(DERIVED)})
    finally:
        con.close()

    with warehouse.writer(settings, bump_version=False):
        pass  # migrates
    assert _contents(settings.db_path, derived) == loaded


def _schema(db_path) -> tuple[int, int, str]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        (version,), (data_version,), (pct_type,) = (
            [warehouse.schema_version(con)],
            con.execute("select data_version from warehouse_meta").fetchall()[0],
            con.execute("select data_type from information_schema.columns where "
                        "table_name = 'vote_results' and column_name = "
                        "'turnout_owners_pct'").fetchall()[0])
        return version, data_version, pct_type
    finally:
        con.close()


def test_app_start__migrates_a_warehouse_behind_the_code(settings, tmp_path,
                                                          clear_pages_state):
    from app import create_app

    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", [ticket_row()])])
    _, data_version, _ = _schema(settings.db_path)
    # the warehouse as the previous release left it: before migration 0017
    con = duckdb.connect(str(settings.db_path))
    try:
        con.execute("delete from schema_version where version >= 17")
        con.execute("alter table vote_results alter turnout_owners_pct type decimal(6,2)")
    finally:
        con.close()
    assert _schema(settings.db_path)[0] == 16

    client = create_app(settings).server.test_client()
    assert _schema(settings.db_path) == (warehouse.SCHEMA_VERSION, data_version, "DOUBLE")
    body = client.get("/healthz").get_json()
    assert body["status"] != "unavailable" and body["data_version"] == data_version


def test_app_start__a_current_warehouse_is_left_untouched(settings, tmp_path,
                                                         clear_pages_state):
    from app import create_app

    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv", [ticket_row()])])
    before = settings.db_path.stat()
    create_app(settings)
    after = settings.db_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
