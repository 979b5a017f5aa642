"""The warnings slide (/wall/warnings) in headless Chromium, on the demo warehouse (whose
loads leave a few active warnings: level-4 events, a surge, a vote, expense spikes).

The slide must list what the `warnings` table holds, counted and ordered by the test's
own SQL, in words, readable at 1920×1080 and 3840×2160, kept to one 16:9 cell when
pinned alone on 5760×1080, and usable in `?screens=` playlists with a community filter.
Screenshots go to test-artifacts/wall_warnings_<w>x<h>.png.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.browser._serve import chrome, demo_warehouse, serve_app
from tests.browser.test_wall import LAYOUT_PROBLEMS_JS
from tests.browser.test_wall_map import open_wall, size
from tests.factories import TEST_SECRET

pytestmark = pytest.mark.browser

RANK = "case severity when 'critical' then 0 when 'high' then 1 else 2 end"
# the palette of docs/kiosk.md: a critical warning is red, high and medium amber
COLOURS = {"critical": "rgb(229, 72, 77)", "high": "rgb(245, 165, 36)",
           "medium": "rgb(245, 165, 36)"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return demo_warehouse(tmp_path_factory.mktemp("wall_warnings"), years=1,
                          tickets_per_year=20_000).db_path


@pytest.fixture(scope="module")
def url(warehouse, artifacts_dir):
    with serve_app(warehouse, artifacts_dir / "wall_warnings_server.log", TEST_SECRET,
                   ready_path="/api/wall/version") as base:
        yield base


@pytest.fixture(scope="module")
def driver():
    with chrome() as d:
        yield d


@pytest.fixture
def con(warehouse):
    c = duckdb.connect(str(warehouse), read_only=True)
    yield c
    c.close()


ROWS_JS = """
return Array.prototype.map.call(
    document.querySelectorAll('.wall-slide[data-on="1"] .wr-row'), function (r) {
        return [r.getAttribute('data-warning'), r.getAttribute('data-severity'),
                getComputedStyle(r.querySelector('.wr-sev')).color,
                r.querySelector('.wr-what').textContent,
                r.querySelector('.wr-ev').textContent];
    });
"""


SPILLS_JS = """
return Array.prototype.filter.call(document.querySelectorAll(
    '.wall-slide[data-on="1"] .wr-row > span'), function (e) {
        return e.scrollWidth > e.clientWidth + 1;
    }).map(function (e) { return [e.className, e.textContent]; });
"""


def _fig(driver, key: str) -> int:
    return int(driver.execute_script(
        "return document.querySelector('.wall-slide[data-on=\"1\"] [data-fig=\"' "
        "+ arguments[0] + '\"]').textContent", key).replace(",", ""))


def test_warnings_slide__lists_the_active_warnings_most_severe_first(url, driver, con):
    expected = con.execute(
        f"select warning_id, severity, rule_id, community, category, observed, usual_low,"
        f" usual_high from warnings where status in ('new', 'ongoing')"
        f" order by {RANK}, first_seen_at desc, warning_id limit 8").fetchall()
    assert len(expected) >= 3, "the demo should leave some warnings active"
    size(driver, 1920, 1080)
    open_wall(driver, f"{url}/wall/warnings")
    rows = driver.execute_script(ROWS_JS)
    assert [r[0] for r in rows] == [e[0] for e in expected]
    for (_, severity, rule, community, category, observed, low, high), row in zip(
            expected, rows):
        assert row[1] == severity and row[2] == COLOURS[severity], row
        if rule == "surge_week":  # the words a duty officer reads
            assert row[3] == f"{category} · {community}"
            assert row[4] == f"近7天 {observed:.0f} 件，通常 {low:.0f}–{high:.0f}"
        if rule == "level4_open":  # how long it has been open, in days from two days
            hours = int(observed)
            since = f"{hours // 24} 天" if hours >= 48 else f"{hours} 小时"
            assert row[4] == f"{category}，已 {since}未办结", row
    counts = dict(con.execute("select severity, count(*) from warnings"
                              " where status <> 'resolved' group by severity").fetchall())
    assert _fig(driver, "warnings_active") == sum(counts.values())
    for severity in ("critical", "high", "medium"):
        assert _fig(driver, f"severity.{severity}") == counts.get(severity, 0)


@pytest.mark.parametrize("w,h", [(1920, 1080), (3840, 2160), (5760, 1080)],
                         ids=["1920x1080", "3840x2160", "5760x1080"])
def test_warnings_slide__readable_at_every_size(url, driver, artifacts_dir, w, h):
    size(driver, w, h)
    for lang in ("zh", "en"):
        open_wall(driver, f"{url}/wall/warnings?lang={lang}")
        driver.save_screenshot(str(artifacts_dir / f"wall_warnings_{lang}_{w}x{h}.png"))
        assert driver.execute_script(LAYOUT_PROBLEMS_JS) == [], lang
        # each part of a line stays in its own column (they do not clip: they would run
        # into the next one)
        assert driver.execute_script(SPILLS_JS) == [], lang
    # alone on an ultra-wide canvas the list keeps one 16:9 cell: no line across seams
    width, height = driver.execute_script(
        "var r = document.querySelector('.wall-slide[data-on=\"1\"]')"
        ".getBoundingClientRect(); return [r.width, r.height];")
    assert abs(width - height * 16 / 9) < 2 if w / h > 3 else width == w


def test_warnings_slide__in_stitched_screens_with_a_community(url, driver, con):
    place = "coalesce(w.community, cc.community)"
    community, n = con.execute(
        f"select {place}, count(*) from warnings as w left join compound_community as cc"
        f" on cc.compound = w.compound where w.status <> 'resolved' and {place} is not null"
        f" group by all order by 2 desc, 1 limit 1").fetchone()
    ids = [r[0] for r in con.execute(
        f"select warning_id from warnings as w left join compound_community as cc"
        f" on cc.compound = w.compound where w.status <> 'resolved' and {place} = $c"
        f" order by {RANK}, first_seen_at desc, warning_id", {"c": community}).fetchall()]
    size(driver, 3840, 1080)
    open_wall(driver, f"{url}/wall?rotate=0&screens=levels,warnings:community={community}")
    shown = driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll("
        "'.wall-slide[data-view=\"warnings\"][data-on=\"1\"]'), function (s) {"
        " return [s.getAttribute('data-screen'), Array.prototype.map.call("
        "  s.querySelectorAll('.wr-row'), function (r) {"
        "   return r.getAttribute('data-warning'); })]; });")
    assert shown == [["1", ids[:8]]] and len(ids) == n
