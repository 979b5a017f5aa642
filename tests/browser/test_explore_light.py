"""Light pages in headless Chromium: accessible, one column on a phone, a chart in view.

axe-core comes from npm (package.json, installed by `scripts/setup --dev`) and is read
from node_modules and injected into the page, so the check needs no network.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from tests.browser._serve import serve_demo

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TODAY = dt.date(2026, 11, 20)
ASOF = "2026-11-20T12:00:00"
PAGES = ("/", f"/explore/tickets?asof={ASOF}", f"/explore/accounts?asof={ASOF}")


@pytest.fixture(scope="module")
def served(tmp_path_factory, artifacts_dir):
    with serve_demo(tmp_path_factory.mktemp("explore-light-browser"),
                    artifacts_dir / "explore_light_server.log", "explore-light", years=1,
                    tickets_per_year=3000, today=TODAY) as served:
        yield served["url"]


def _settle(br, timeout: float = 30) -> None:
    """Wait until the page has content, no Dash callback is in flight and every grid
    has drawn its header cells (AG Grid draws a header row first, its cells after)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = br.driver.execute_script(
            "const c = document.querySelector('#_pages_content');"
            "return c !== null && c.innerText.trim().length > 0 &&"
            " document.querySelectorAll('[data-dash-is-loading=\"true\"]').length === 0 &&"
            " [...document.querySelectorAll('.ag-header-row-column')].every("
            "   r => r.querySelector('[role=columnheader]') !== null);")
        if done:
            time.sleep(0.5)  # plotly draws after the callback answers
            return
        time.sleep(0.2)
    raise AssertionError("page did not settle")


def _axe(br) -> list[dict]:
    """Serious and critical axe-core violations on the current page."""
    if not AXE.exists():
        pytest.fail("axe-core missing: run scripts/setup --dev (npm ci)")
    br.driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = br.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(JSON.stringify(r.violations)));")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"][:5]]}
        for v in json.loads(result) if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("page", PAGES)
def test_no_serious_or_critical_accessibility_violation(served, dash_br, page):
    dash_br.driver.set_window_size(1366, 768)
    dash_br.driver.get(served + page)
    _settle(dash_br)
    assert _axe(dash_br) == []


@pytest.mark.parametrize("page", PAGES)
def test_a_phone_390_px_wide_gets_one_column_and_no_sideways_scroll(served, dash_br, page):
    dash_br.driver.set_window_size(390, 844)
    dash_br.driver.get(served + page)
    _settle(dash_br)
    inner = dash_br.driver.execute_script("return window.innerWidth")
    wide = dash_br.driver.execute_script(
        "return document.documentElement.scrollWidth")
    assert wide <= inner, f"{page}: page is {wide} px wide in a {inner} px window"


def test_the_first_ticket_chart_is_above_the_fold_at_1366x768(served, dash_br, artifacts_dir):
    dash_br.driver.set_window_size(1366, 768)
    dash_br.driver.get(served + PAGES[1])
    _settle(dash_br)
    # the page's first chart (in layout order) once plotly has drawn it: plotly draws
    # the charts in any order, and a lower one drawn first is not the first chart
    box, end = None, time.monotonic() + 30
    while box is None and time.monotonic() < end:
        box = dash_br.driver.execute_script(
            "const g = document.querySelector('.explore-graph');"
            "if (!g || !g.querySelector('.js-plotly-plot .main-svg')) return null;"
            "const r = g.getBoundingClientRect();"
            "return {top: r.top, bottom: r.bottom, fold: window.innerHeight};")
        if box is None:
            time.sleep(0.2)
    dash_br.driver.save_screenshot(str(artifacts_dir / "explore_tickets_1366x768.png"))
    assert box is not None, "no chart drawn"
    assert box["bottom"] <= box["fold"], f"first chart ends at {box['bottom']:.0f} px, " \
                                         f"the window at {box['fold']} px"


# Every layout shift from the first paint on, with what moved (Layout Instability API).
_SHIFTS = """
window.__shifts = [];
new PerformanceObserver(list => {
    for (const e of list.getEntries()) {
        if (e.hadRecentInput) continue;
        window.__shifts.push({value: e.value, moved: e.sources.map(s => s.node ?
            s.node.nodeName + '.' + s.node.className + '#' + s.node.id : '?')});
    }
}).observe({type: 'layout-shift', buffered: true});
"""


@pytest.mark.parametrize("page", PAGES)
def test_nothing_on_screen_moves_while_a_page_loads(served, dash_br, page):
    """Cumulative layout shift under 0.1 (Lighthouse's "good") in Lighthouse's desktop
    window, 1350x940: the page grows a scrollbar, its dropdowns, charts and grid draw
    after the first paint and callbacks fill the summary; none of it may move what is
    already on screen (it was 0.87: the scrollbar narrowed the window, the menu wrapped
    to a second line and the whole page moved down 27 px)."""
    driver = dash_br.driver
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1350, "height": 940, "deviceScaleFactor": 1, "mobile": False})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _SHIFTS})
    driver.get(served + page)
    _settle(dash_br)
    time.sleep(1)  # the last chart's draw
    shifts = driver.execute_script("return window.__shifts")
    total = sum(s["value"] for s in shifts)
    assert total < 0.1, f"{page}: layout shift {total:.3f}: {shifts}"


_DRAWN = """
return [...document.querySelectorAll('.explore-graph')].map(g => {
    const p = g.querySelector('.js-plotly-plot');
    return {top: g.getBoundingClientRect().top + window.scrollY,
            drawn: p !== null && p.layout !== undefined &&
                   p.layout.meta !== 'explore-not-drawn'};
});
"""


def test_ticket_charts_below_the_fold_are_drawn_when_scrolled_to(served, dash_br):
    """A page load draws the charts on screen only (Total Blocking Time: drawing all ten
    was a third of the page's CPU); the others draw as they come into view."""
    driver = dash_br.driver
    driver.set_window_size(1366, 768)
    driver.get(served + PAGES[1])
    _settle(dash_br)
    time.sleep(1)
    fold = driver.execute_script("return window.innerHeight") + 300
    charts = driver.execute_script(_DRAWN)
    assert charts[0]["drawn"], "the first chart is not drawn"
    assert [c for c in charts if c["top"] > fold and c["drawn"]] == [], charts
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    end = time.monotonic() + 30
    while not all(c["drawn"] for c in driver.execute_script(_DRAWN)):
        assert time.monotonic() < end, driver.execute_script(_DRAWN)
        driver.execute_script("window.scrollBy(0, -400)")
        time.sleep(0.3)


_SLOT = """
const s = document.querySelector('#explore-table-slot');
const r = s.getBoundingClientRect();
return {top: r.top + window.scrollY, height: r.height,
        grid: document.querySelector('#explore-table .ag-root') !== null,
        rows: document.querySelectorAll('#explore-table .ag-center-cols-container .ag-row')
              .length};
"""


def _wait(br, script: str, check, timeout: float = 30):
    """`script`'s result once `check(result)` holds; fails the test after `timeout`."""
    end = time.monotonic() + timeout
    while not check(value := br.driver.execute_script(script)):
        assert time.monotonic() < end, value
        time.sleep(0.2)
    return value


def test_the_ticket_table_is_mounted_when_scrolled_to_in_room_kept_for_it(served, dash_br):
    """AG Grid's mounting (theme set-up, measuring) was 0.7 s of a load's main thread
    for a table below the fold: it now waits until the table nears the window, and
    takes the room kept for it without moving anything."""
    driver = dash_br.driver
    driver.set_window_size(1366, 768)
    driver.get(served + PAGES[1])
    _settle(dash_br)
    time.sleep(1)
    before = driver.execute_script(_SLOT)
    assert not before["grid"], "the table was mounted with the page"
    driver.execute_script("document.querySelector('.explore-table-panel')"
                          ".scrollIntoView({block: 'start'})")
    after = _wait(dash_br, _SLOT, lambda s: s["rows"] > 0)
    assert (after["top"], after["height"]) == (before["top"], before["height"])


def test_the_ticket_page_runs_ag_grid_when_a_grid_needs_it_not_at_load(served, dash_br):
    """AG Grid's bundle (57-75 ms of a load's main thread) is not run by a ticket page
    load, whose table waits below the fold; a tab to the accounts page, which renders
    its grid with its layout, still shows that grid, and back on the ticket page the
    table mounts when scrolled to."""
    driver = dash_br.driver
    driver.set_window_size(1366, 768)
    driver.get(served + PAGES[1])
    _settle(dash_br)
    time.sleep(1)
    assert driver.execute_script("return typeof window.dash_ag_grid") == "undefined"
    driver.find_element("css selector", "a.explore-tab[href^='/explore/accounts']").click()
    rows = "return document.querySelectorAll('.ag-center-cols-container .ag-row').length"
    assert _wait(dash_br, rows, lambda n: n > 0)
    assert driver.execute_script("return window.location.pathname") == "/explore/accounts"
    driver.back()
    _wait(dash_br, "return document.querySelector('#explore-table-slot') !== null", bool)
    driver.execute_script("document.querySelector('.explore-table-panel')"
                          ".scrollIntoView({block: 'start'})")
    assert _wait(dash_br, _SLOT, lambda s: s["rows"] > 0)["grid"]


def test_an_open_ticket_in_the_url_opens_with_its_table(served, dash_br):
    """A drill-down link (ticket= in the URL) opens the ticket's timeline, and the table
    is there at once, on the page it was opened from."""
    driver = dash_br.driver
    driver.set_window_size(1366, 768)
    driver.get(served + PAGES[1])
    _settle(dash_br)
    driver.execute_script("document.querySelector('.explore-table-panel')"
                          ".scrollIntoView({block: 'start'})")
    ticket = _wait(dash_br, "const e = document.querySelector(\"#explore-table "
                   ".ag-pinned-left-cols-container .ag-row[row-index='0'] "
                   "[col-id=ticket_id]\"); return e ? e.textContent.trim() : null;",
                   lambda t: t)
    driver.get(served + PAGES[1] + f"&ticket={ticket}")
    dash_br.wait_for_text_to_equal("#explore-timeline-id", ticket, timeout=30)
    assert driver.execute_script("return window.scrollY") == 0
    assert _wait(dash_br, _SLOT, lambda s: s["rows"] > 0)["grid"]


def test_tab_from_the_table_download_link_reaches_the_table(served, dash_br):
    """A keyboard user tabbing down the page gets the table before reaching it: focus
    entering its panel mounts it, and the next Tab lands in the grid."""
    from selenium.webdriver.common.keys import Keys

    driver = dash_br.driver
    driver.set_window_size(1366, 768)
    driver.get(served + PAGES[1])
    _settle(dash_br)
    driver.execute_script("document.querySelector('#explore-csv-tickets').focus()")
    _wait(dash_br, _SLOT, lambda s: s["rows"] > 0)
    inside = "return document.activeElement.closest('#explore-table') !== null"
    for _ in range(5):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if driver.execute_script(inside):
            break
    assert driver.execute_script(inside), driver.execute_script(
        "return document.activeElement.outerHTML.slice(0, 200)")


def test_charts_are_drawn_by_the_partial_plotly_bundle(served, dash_br):
    """The charts' plotly.js is the vendored bundle of their traces (a fifth of the
    full one's code), and it draws the page's first chart."""
    from dashboards._plotly_bundle import trace_types

    dash_br.driver.set_window_size(1366, 768)
    dash_br.driver.get(served + PAGES[1])
    _settle(dash_br)
    _wait(dash_br, "return document.querySelector('.explore-graph .main-svg') !== null",
          bool)
    served_types = dash_br.driver.execute_script(
        "return Object.keys(Plotly.PlotSchema.get().traces)")
    assert set(served_types) == trace_types()


_CALLS = """
window.__outputs = [];
const fetch0 = window.fetch;
window.fetch = function (url, init) {
    if (String(url).includes('_dash-update-component') && init && init.body) {
        window.__outputs.push(JSON.parse(init.body).output);
    }
    return fetch0.apply(this, arguments);
};
"""


def test_a_page_load_asks_the_server_for_the_page_and_other_charts_on_screen(served,
                                                                             dash_br):
    """The first chart, the summary and the breakdown come with the page: no request
    after it (they were three, each answer more work for the browser). A chart below
    the fold costs a load no request either (it was one call per chart, refused, nine
    of the page's thirteen); another chart on screen asks for itself."""
    driver = dash_br.driver
    driver.set_window_size(1366, 768)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _CALLS})
    driver.get(served + PAGES[1])
    _settle(dash_br)
    time.sleep(1)
    outputs = driver.execute_script("return window.__outputs")
    chart_calls = [o for o in outputs if "explore-chart" in o]
    drawn = [c for c in driver.execute_script(_DRAWN) if c["drawn"]]
    assert drawn and drawn[0] == driver.execute_script(_DRAWN)[0], "first chart not drawn"
    assert len(chart_calls) == len(drawn) - 1, chart_calls
    assert [o for o in outputs if "explore-summary" in o or "explore-breakdown" in o] == []


def test_the_filter_drawer_gets_its_fields_when_opened_by_keyboard(served, dash_br):
    """The drawer's eight dropdowns are not built at load (React's work for a drawer
    mostly left closed); opening it, here with Enter on its summary, brings them."""
    from selenium.webdriver.common.keys import Keys

    driver = dash_br.driver
    driver.set_window_size(1366, 768)
    driver.get(served + PAGES[1])
    _settle(dash_br)
    assert driver.execute_script("return document.querySelector('#explore-f-level')") \
        is None, "the drawer's fields were built at load"
    driver.execute_script("document.querySelector('#explore-drawer > summary').focus()")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    dash_br.wait_for_element("#explore-f-level", timeout=30)
    dash_br.wait_for_element("#explore-asof-input", timeout=5)
