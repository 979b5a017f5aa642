"""The wall's "at risk" vote: judged at the time the wall shows it, not at load time.

One vote of 3 owners (300 m²) open for 20 days; one owner (100 m²) voted on day 1 and
nothing has been loaded since. Early in the window one ballot in ten percent of the time
projects to more than 2/3: on track. Near the end the same ballot projects to 37%: at
risk, although no load has happened in between.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from pipelines.loader import load_files
from pipelines.queries import wall as q
from tests.factories import ballot_row, resident_row, vote_row, write_csv

OPENS, CLOSES = datetime(2026, 11, 1, 9), datetime(2026, 11, 21, 9)


@pytest.fixture
def con(make_settings, tmp_path):
    settings = make_settings()
    load_files(settings, "population",
               [write_csv(tmp_path / "p.csv", [resident_row() for _ in range(3)])])
    load_files(settings, "votes", [write_csv(tmp_path / "v.csv", [vote_row(
        vote_id="V1", opens_at=OPENS, closes_at=CLOSES)])])
    load_files(settings, "ballots", [write_csv(tmp_path / "b.csv", [ballot_row(
        vote_id="V1", cast_at=datetime(2026, 11, 2, 10))])])
    c = duckdb.connect(str(settings.db_path), read_only=True)
    yield c
    c.close()


def at_risk(con, now: datetime) -> bool:
    votes = q.wall_view_data(con, "participation", now=now)["votes"]
    assert [v["vote_id"] for v in votes] == ["V1"]
    return votes[0]["is_at_risk"]


def test_at_risk__moves_as_the_window_runs_on_without_a_load(con):
    assert at_risk(con, datetime(2026, 11, 3, 9)) is False  # 10% elapsed: 333% projected
    assert at_risk(con, datetime(2026, 11, 19, 9)) is True  # 90% elapsed: 37% projected
