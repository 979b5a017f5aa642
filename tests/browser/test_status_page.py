"""`python app.py` on an empty data folder: demo warehouse first, then the status page.

Starts the real app in a subprocess (as a user would), then reads the page in headless
Chromium through dash.testing's `dash_br`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser._serve import free_port
from tests.browser._serve import screenshot as _screenshot
from tests.factories import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
FIRST_START_TIMEOUT = 180  # the first start generates and loads the demo warehouse

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served_app(tmp_path_factory, artifacts_dir):
    """`python app.py --port P --db EMPTY/w.duckdb`, running for this module's tests."""
    data = tmp_path_factory.mktemp("empty-data")
    db_path = data / "w.duckdb"
    port = free_port()
    env = {
        **os.environ,
        "WALL_DEMO_DIR": str(data / "demo"),
        "WALL_SECRET": TEST_SECRET,
        "PYTHONUNBUFFERED": "1",
    }
    log_path = artifacts_dir / "status_page_server.log"
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), "--db", str(db_path)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + FIRST_START_TIMEOUT
            while True:
                if proc.poll() is not None:
                    pytest.fail(
                        f"app.py exited with {proc.returncode} before serving:\n"
                        + log_path.read_text(encoding="utf-8")[-4000:]
                    )
                try:
                    with urllib.request.urlopen(url + "/", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"app.py did not serve within {FIRST_START_TIMEOUT} s:\n"
                        + log_path.read_text(encoding="utf-8")[-4000:]
                    )
                time.sleep(0.5)
            yield {"url": url, "db_path": db_path, "log": log_path}
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_app__first_start_on_empty_folder_serves_status_page(
    served_app, dash_br, artifacts_dir
):
    assert served_app["db_path"].exists(), "first start did not create the warehouse"
    dash_br.server_url = served_app["url"]

    dash_br.wait_for_element("#status-tables-table", timeout=30)
    dash_br.wait_for_contains_text("#status-db-path", str(served_app["db_path"]))
    table_rows = dash_br.find_elements("#status-tables-table tbody tr")
    tables = {row.find_element("css selector", "td").text: row for row in table_rows}
    assert {"load_log", "tickets", "dim_calendar", "quarantine"} <= tables.keys()
    ticket_count = tables["tickets"].find_elements("css selector", "td")[1].text
    assert int(ticket_count.replace(",", "")) > 0

    load_rows = dash_br.find_elements("#status-loads-table tbody tr")
    assert load_rows, "load log is empty after the demo load"
    assert "tickets" in dash_br.find_element("#status-loads-table").text
    assert dash_br.find_element("#status-freshness-table").is_displayed()

    nav = dash_br.find_element("#app-nav")
    assert nav.is_displayed() and "状态" in nav.text

    _screenshot(dash_br.driver, artifacts_dir / "status_page.png")
    assert dash_br.get_logs() == []


def test_shell__wall_paths_show_no_nav(served_app, dash_br):
    dash_br.server_url = served_app["url"]
    dash_br.wait_for_element("#status-tables-table", timeout=30)
    dash_br.driver.get(served_app["url"] + "/wall")
    dash_br.wait_for_element("#app-shell.shell--bare", timeout=10)
    assert not dash_br.find_element("#app-nav").is_displayed()


def test_status__its_wall_link_opens_a_running_wall(served_app, dash_br):
    """Only the wall's own page loads wall.js (app.py): the link is a full page load,
    and the wall it opens runs its clientside loop (the clock ticks)."""
    dash_br.driver.get(served_app["url"] + "/")
    dash_br.wait_for_element("#status-wall", timeout=30).click()
    dash_br.wait_for_element("#app-shell.shell--bare", timeout=10)
    clock = dash_br.wait_for_element("#wall-clock", timeout=20)
    first, end = clock.text, time.monotonic() + 10
    while clock.text == first:  # the server drew the first time; wall.js ticks it
        assert time.monotonic() < end, "the wall opened from the status page is not running"
        time.sleep(0.2)


def test_shell__a_page_does_not_jump_when_its_menu_appears(served_app, dash_br):
    """The site menu is there from the first paint: nothing on the page moves down after
    it drew (the shell used to start bare and shift every page 63 px, CLS 0.87). Every
    position of the page's main block is recorded from the first frame on."""
    dash_br.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.__tops = [];
        (function frame() {
            const m = document.querySelector('main.shell-main');
            if (m) {
                const top = Math.round(m.getBoundingClientRect().top);
                if (window.__tops[window.__tops.length - 1] !== top) window.__tops.push(top);
            }
            requestAnimationFrame(frame);
        })();"""})
    dash_br.driver.get(served_app["url"] + "/")
    dash_br.wait_for_element("#status-tables-table", timeout=30)
    time.sleep(1)
    tops = dash_br.driver.execute_script("return window.__tops")
    assert len(tops) == 1, f"the page's main block moved: tops {tops}"


@pytest.mark.parametrize("width", [1366, 1920])
def test_metrics__the_definitions_fit_a_laptop_without_scrolling_sideways(
        served_app, dash_br, width):
    """/metrics is ten columns of prose: on a 1366 px laptop it used to run 18 px past the
    window, so the page scrolled sideways to reach where a figure is shown."""
    driver = dash_br.driver
    driver.set_window_size(width, 900)
    try:
        driver.get(served_app["url"] + "/metrics")
        dash_br.wait_for_element("#metrics-table", timeout=30)
        view, page, rows = driver.execute_script(
            "return [document.documentElement.clientWidth,"
            " document.documentElement.scrollWidth,"
            " document.querySelectorAll('#metrics-table tbody tr').length]")
        assert rows > 10, rows
        assert page <= view, f"the page is {page} px wide in a {view} px window"
    finally:
        driver.set_window_size(1600, 1200)
