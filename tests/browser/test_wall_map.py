"""The map slide (/wall/map) in headless Chromium, on the demo warehouse with its map.

One small demo warehouse (20,000 tickets a year, its fictional GeoJSON loaded by
`load_geo`) and one `python app.py` serve the module. Screenshots go to
test-artifacts/wall_map_<w>x<h>.png.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import duckdb
import pytest

from tests.browser._serve import chrome, demo_warehouse, serve_app
from tests.factories import TEST_SECRET

pytestmark = pytest.mark.browser

SIZES = [(1920, 1080), (5760, 1080), (7680, 2160)]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    from pipelines.loader import load_files

    tmp = tmp_path_factory.mktemp("wall_map")
    settings = demo_warehouse(tmp, years=1, tickets_per_year=20_000)
    # an open level-3 and level-4 event at every compound, so markers crowd the names
    with open(tmp / "demo" / "tickets.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    newest = max(r["reported_at"] for r in rows)
    places = sorted({(r["community"], r["grid"], r["compound"]) for r in rows if r["compound"]})
    extra = tmp / "serious.csv"
    with open(extra, "w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        for i, (community, grid, compound) in enumerate(places):
            for level in (3, 4):
                out.writerow({**rows[0], "ticket_id": f"TMAP{i:03d}{level}",
                              "reported_at": newest, "accepted_at": newest,
                              "responded_at": "", "escalated_at": "", "closed_at": "",
                              "level": level, "community": community, "grid": grid,
                              "compound": compound, "satisfaction": "",
                              "updated_at": newest})
    load_files(settings, "tickets", [extra])
    return settings.db_path


@pytest.fixture(scope="module")
def url(warehouse, artifacts_dir):
    with serve_app(warehouse, artifacts_dir / "wall_map_server.log", TEST_SECRET,
                   ready_path="/api/wall/version") as base:
        yield base


@pytest.fixture(scope="module")
def driver():
    with chrome() as d:
        yield d


def size(driver, w: int, h: int) -> None:
    """Emulate a canvas of w×h CSS pixels."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": w, "height": h, "deviceScaleFactor": 1,
                            "mobile": False})


def open_wall(driver, url: str) -> None:
    """Load a wall page and wait until wall.js placed its slides and fonts are in."""
    driver.get(url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if driver.execute_script(
                "var b = document.getElementById('wall-slides');"
                "return !!b && b.getAttribute('data-js') === '1'"
                " && document.fonts.status === 'loaded';"):
            time.sleep(0.5)  # the cross-fade
            return
        time.sleep(0.1)
    raise AssertionError(f"wall did not render: {url}")


SHAPES_JS = """
var out = {}, H = innerHeight;
document.querySelectorAll('.wall-slide[data-on="1"] .mp-label').forEach(function (l) {
    var c = l.getAttribute('data-community');
    var area = document.querySelector('.wall-slide[data-on="1"] .mp-area[data-community="'
                                      + c + '"]');
    var r = area ? area.getBoundingClientRect() : {width: 0, height: 0};
    var name = l.querySelector('.mp-name');
    out[c] = {
        name: name ? name.textContent : '',
        clip: area ? getComputedStyle(area).clipPath : 'none',
        shape: r.width > 0 && r.height > 0,
        font_vh: 100 * parseFloat(getComputedStyle(name).fontSize) / H,
        inside: (function () { var b = l.getBoundingClientRect();
                               return b.left >= 0 && b.right <= innerWidth
                                   && b.top >= 0 && b.bottom <= H; })()
    };
});
return out;
"""

# every community name and figure, every event marker: boxes that cover each other
COVERED_JS = """
function box(e) { var r = e.getBoundingClientRect();
                  return {l: r.left, r: r.right, t: r.top, b: r.bottom}; }
var on = '.wall-slide[data-on="1"] ';
var texts = [], points = [], out = [];
document.querySelectorAll(on + '.mp-name, ' + on + '.mp-value').forEach(function (e) {
    texts.push([e.textContent, box(e)]); });
document.querySelectorAll(on + '.mp-point').forEach(function (e) {
    points.push([e.getAttribute('data-compound'), box(e)]); });
function hit(a, b) { return a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b; }
points.forEach(function (p, i) {
    texts.forEach(function (t) { if (hit(p[1], t[1])) { out.push([p[0], t[0]]); } });
    points.slice(i + 1).forEach(function (q) { if (hit(p[1], q[1])) { out.push([p[0], q[0]]); } });
});
return {covered: out, points: points.length};
"""


@pytest.mark.parametrize("canvas", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_wall_map__every_community_drawn_and_named(url, driver, warehouse, artifacts_dir,
                                                    canvas):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        communities = {r[0] for r in con.execute("select community from grids").fetchall()}
    finally:
        con.close()
    size(driver, *canvas)
    open_wall(driver, url + "/wall/map")
    driver.save_screenshot(str(artifacts_dir / f"wall_map_{canvas[0]}x{canvas[1]}.png"))
    shapes = driver.execute_script(SHAPES_JS)
    assert set(shapes) == communities
    for community, s in shapes.items():
        assert s["name"] == community
        assert s["shape"] and s["clip"].startswith("polygon("), community
        assert s["font_vh"] >= 1.8 and s["inside"], (community, s)
    # an event marker never hides a community's name or figure, nor another marker
    layout = driver.execute_script(COVERED_JS)
    assert layout["points"] > 0 and layout["covered"] == []
    assert [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"] == []


WATCH_JS = """
window.__longtasks = [];
window.__frames = 0;
window.__blank = 0;
window.__clockGap = 0;
new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (e) { window.__longtasks.push(Math.round(e.duration)); });
}).observe({type: 'longtask'});
// what a long frame spent its time on, for the failure message (Chromium's LoAF)
window.__frames_long = [];
new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (e) {
        if (e.duration <= 200) { return; }
        window.__frames_long.push([Math.round(e.duration),
            Math.round(e.renderStart ? e.startTime + e.duration - e.renderStart : 0),
            e.scripts.map(function (x) { return [x.invoker, x.sourceFunctionName,
                                                 Math.round(x.duration)]; })]);
    });
}).observe({type: 'long-animation-frame'});
var lastClock = document.getElementById('wall-clock').textContent, lastChange = performance.now();
(function frame() {
    var on = document.querySelectorAll('.wall-slide[data-on="1"]');
    var seen = on.length === 0;
    on.forEach(function (s) { if (parseFloat(getComputedStyle(s).opacity) === 0) { seen = true; } });
    window.__blank += seen ? 1 : 0;
    window.__frames += 1;
    var c = document.getElementById('wall-clock').textContent, t = performance.now();
    if (c !== lastClock) { window.__clockGap = Math.max(window.__clockGap, t - lastChange);
                           lastClock = c; lastChange = t; }
    requestAnimationFrame(frame);
})();
"""


def test_wall_update__in_place_without_long_tasks_or_blank_slides(url, driver, warehouse,
                                                                 tmp_path):
    """A data change on a 5760×1080 canvas: new figures replace old ones in place."""
    from datetime import date

    from pipelines.loader import load_files
    from pipelines.settings import Settings
    from tests.factories import ticket_row, write_csv

    size(driver, 5760, 1080)
    open_wall(driver, url + "/wall?rotate=0&poll=3600")
    before = driver.execute_script("return wallDebug.state.filled")
    today = date.today().isoformat()
    new = [ticket_row(reported_at=f"{today} 08:{m:02d}:00", level=4, community="和平社区",
                      grid="和平社区第1网格", compound=None, accepted_at=None,
                      responded_at=None, closed_at=None, updated_at=None)
           for m in range(10, 20)]
    load_files(Settings(db_path=warehouse, secret=TEST_SECRET, calendar_file=None),
               "tickets", [write_csv(tmp_path / "new.csv", new)], progress=False)
    # watch from here: the load above shares the test machine's cores with Chromium
    driver.execute_script(WATCH_JS)
    time.sleep(1)
    driver.execute_script("wallDebug.state.nextPoll = 0;")  # poll now
    deadline = time.monotonic() + 30
    while driver.execute_script("return wallDebug.state.filled") == before:
        assert time.monotonic() < deadline, "the wall did not redraw after the load"
        time.sleep(0.2)
    time.sleep(2)  # the rest of the staggered fill, and its paint
    seen = driver.execute_script(
        "return [window.__longtasks, window.__frames, window.__blank, window.__clockGap,"
        " window.__frames_long];")
    longtasks, frames, blank, clock_gap, long_frames = seen
    assert frames > 30
    assert blank == 0, f"{blank} of {frames} frames showed a fully transparent slide"
    # long frames: [ms, ms of style/layout/paint, scripts] say where the time went
    assert max(longtasks, default=0) <= 200, (longtasks, long_frames)
    assert clock_gap < 1500  # the clock ticks every second; no tick was skipped


SCREENS_JS = """
var out = [];
document.querySelectorAll('.wall-slide[data-on="1"]').forEach(function (s) {
    var r = s.getBoundingClientRect();
    out.push([s.getAttribute('data-screen'), s.getAttribute('data-view'),
              Math.floor((r.left + r.width / 2) / (innerWidth / 3))]);
});
return out;
"""


def test_wall_screens__each_screen_shows_only_its_own_views(url, driver, artifacts_dir):
    """?screens= on 5760×1080: over full rotations no view moves to another screen."""
    size(driver, 5760, 1080)
    open_wall(driver, url + "/wall?screens=levels|closure,map|participation,accounts"
                            "&rotate=0.4")
    own = {"0": {"levels", "closure"}, "1": {"map", "participation"}, "2": {"accounts"}}
    deadline = time.monotonic() + 10  # the first fill puts in one slide per frame
    while driver.execute_script("return wallDebug.state.filled") < 5:
        assert time.monotonic() < deadline, "the five slides were not filled"
        time.sleep(0.1)
    seen = {k: set() for k in own}
    deadline = time.monotonic() + 4  # 10 turns: every playlist round several times
    while time.monotonic() < deadline:
        on = driver.execute_script(SCREENS_JS)
        assert sorted(s for s, _, _ in on) == ["0", "1", "2"], on
        for screen, view, third in on:
            assert view in own[screen] and third == int(screen), on
            seen[screen].add(view)
        time.sleep(0.05)
    assert seen == own
    driver.save_screenshot(str(artifacts_dir / "wall_screens_5760x1080.png"))
    size(driver, 7680, 2160)
    open_wall(driver, url + "/wall?screens=levels|closure,map|participation,accounts"
                            "&rotate=0")
    driver.save_screenshot(str(artifacts_dir / "wall_screens_7680x2160.png"))
