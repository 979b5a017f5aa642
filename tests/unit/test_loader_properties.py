"""Property tests of the loader's accounting (hypothesis).

For any generated ticket file, loaded on top of any earlier one:
- rows_read = inserted + updated + unchanged + duplicates + quarantined;
- the table grows by `inserted` and the quarantine by `quarantined`;
- loading the same file again changes no data: nothing inserted or updated.

Rows come from small pools (a few ticket ids, valid and broken values), so duplicates,
updates, stale versions and quarantine reasons all occur in small examples.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, example, given, settings as hsettings, strategies as st

from pipelines.loader import load_files
from pipelines.settings import Settings
from tests.accounting import assert_accounted
from tests.factories import TEST_SECRET, write_csv

IDS = ["T1", "T2", "T3", "T4"]
TIMES = ["2025-09-23 09:00:00", "2025-09-23 12:00:00", "2025/09/24 08:30", "2025-09-22",
         "", "not a time", "2025-13-40 25:00"]

ticket = st.fixed_dictionaries({
    "ticket_id": st.sampled_from(IDS + [""]),
    "reported_at": st.sampled_from(TIMES),
    "level": st.sampled_from(["1", "2", "3", "4", "二级", "0", "x", ""]),
    "category": st.sampled_from(["城市管理", "物业维修", ""]),
    "community": st.sampled_from(["龙塔社区", "望江社区", "<script>alert(1)</script>", ""]),
    "closed_at": st.sampled_from(TIMES),
    "description": st.text(max_size=12),
    "updated_at": st.sampled_from(TIMES),
})
files = st.lists(ticket, min_size=0, max_size=8)


def _state(db: Path) -> tuple[list[tuple], int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("select * exclude (load_id) from tickets order by ticket_id")
        return rows.fetchall(), con.execute("select count(*) from quarantine").fetchall()[0][0]
    finally:
        con.close()


@hsettings(max_examples=15, deadline=None,
           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(first=files, second=files)
# Found by this test on 2026-12-04 (seed 64059456751469045795622881139540056664; no
# database keeps it): two descriptions that are a lone apostrophe made DuckDB's sniffer
# take "'" for the quote, and two rows became one, in silence.
@example(first=[{"ticket_id": f"T{i}", "reported_at": "2025-09-23 09:00:00",
                 "level": "1", "category": "城市管理", "community": "龙塔社区",
                 "closed_at": "", "description": "'" if i > 2 else "漏水",
                 "updated_at": ""} for i in range(1, 5)], second=[])
def test_load__every_row_in_one_bucket_and_reloading_changes_nothing(first, second):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config = Settings(db_path=tmp / "w.duckdb", demo_dir=tmp / "demo",
                          secret=TEST_SECRET, secret_file=tmp / "k",
                          calendar_file=None)
        seed = [dict(ticket_id="T1", reported_at="2025-09-23 09:00:00", level="1",
                     category="城市管理", community="龙塔社区")]
        load_files(config, "tickets", [write_csv(tmp / "seed.csv", seed)], progress=False)
        for name, rows in (("first.csv", first), ("second.csv", second)):
            if not rows:
                continue
            path = write_csv(tmp / name, rows)
            (tickets_before, quarantine_before) = _state(config.db_path)
            (report,) = load_files(config, "tickets", [path], progress=False)
            assert report.rows_read == len(rows)
            assert_accounted(config, [report], [path])
            tickets, quarantined = _state(config.db_path)
            assert len(tickets) == len(tickets_before) + report.inserted
            assert quarantined == quarantine_before + report.quarantined
            # The same file again: no data changes; rows land in the same buckets or
            # in `unchanged`.
            (again,) = load_files(config, "tickets", [path], progress=False)
            assert_accounted(config, [again], [path])
            assert (again.inserted, again.updated) == (0, 0), again.summary()
            assert again.quarantined == report.quarantined
            assert again.duplicates == report.duplicates
            assert _state(config.db_path)[0] == tickets
