"""In headless Chromium: pages work under the Content-Security-Policy, and text from the
data that looks like HTML stays text (no alert, no injected element).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipelines.loader import load_files
from tests.conftest import chrome_options
from tests.factories import ticket_row, write_csv

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture
def hostile_app(settings, tmp_path, clear_pages_state):
    now = datetime.now(ZoneInfo(settings.timezone)).replace(tzinfo=None, microsecond=0)
    t = lambda h: (now - timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    rows = [
        ticket_row(reported_at=t(2), accepted_at=t(2), responded_at=t(1.5), closed_at="",
                   updated_at=t(1), level=level, community=community, description=text)
        for level, community, text in [
            ("3", IMG, SCRIPT), ("4", SCRIPT, IMG), ("1", IMG, IMG), ("2", SCRIPT, SCRIPT),
            (SCRIPT, "龙塔社区", "bad level"),  # quarantined: the reason quotes the value
        ]
    ]
    path = write_csv(tmp_path / f"{IMG}.csv", rows)  # the file name is shown too
    load_files(settings, "tickets", [path])

    from werkzeug.serving import make_server

    from app import create_app

    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser():
    from selenium import webdriver

    options = chrome_options()
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options)
    yield driver
    driver.quit()


def _settle(driver, selector: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.execute_script(f"return document.querySelector('{selector}') !== null"):
            time.sleep(1.5)  # let the remaining callbacks finish
            return
        time.sleep(0.2)
    pytest.fail(f"{selector} never appeared")


def _assert_inert(driver, path: str, artifacts_dir) -> str:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        alert = driver.switch_to.alert
        pytest.fail(f"{path}: an alert ran: {alert.text}")
    except NoAlertPresentException:
        pass
    injected = driver.execute_script(
        "return document.querySelectorAll('img[src=\"x\"], img[onerror]').length + "
        "Array.from(document.scripts).filter(s => s.text.includes('alert(1)')).length"
    )
    assert injected == 0, f"{path}: injected elements in the page"
    logs = driver.get_log("browser")
    csp = [e["message"] for e in logs if "Content Security Policy" in e["message"]]
    assert csp == [], f"{path}: CSP blocked something: {csp}"
    severe = [e["message"] for e in logs if e["level"] == "SEVERE"]
    assert severe == [], f"{path}: console errors: {severe}"
    driver.save_screenshot(str(artifacts_dir / f"serving{path.replace('/', '_')}.png"))
    return driver.find_element("tag name", "body").text


def test_status_page__hostile_text_shown_as_text_under_csp(hostile_app, browser, artifacts_dir):
    browser.get(hostile_app + "/")
    _settle(browser, "#status-loads-table")
    text = _assert_inert(browser, "/status", artifacts_dir)
    assert IMG in text  # the file name, in the loads table
    assert SCRIPT in text  # the quarantined level, in its reason


def test_wall__hostile_text_shown_as_text_under_csp(hostile_app, browser, artifacts_dir):
    browser.get(hostile_app + "/wall")
    _settle(browser, "[id^=wall-]")
    time.sleep(3)
    text = _assert_inert(browser, "/wall", artifacts_dir)
    assert IMG in text or SCRIPT in text, "the wall shows no hostile community or text"
