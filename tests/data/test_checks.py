"""Data checks: every `pipelines/sql/checks/check_*.sql` returns no row on a loaded warehouse.

The warehouse is built once per session from demo inputs through the real loaders, the same
way `python app.py` builds its first warehouse.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines import bootstrap
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
