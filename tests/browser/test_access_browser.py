"""In headless Chromium: a kiosk opens its wall URL with the token once, the token leaves
the address bar, and the wall draws and polls on the cookie that names the wall.
"""

from __future__ import annotations

import threading

import pytest
from werkzeug.security import generate_password_hash

from dashboards import _access
from pipelines.loader import load_files
from tests.conftest import chrome_options
from tests.factories import ticket_row, write_csv

pytestmark = pytest.mark.browser

TOKEN = "kiosk-token-for-the-browser-test-0123456789"


@pytest.fixture
def protected_app(make_settings, tmp_path, clear_pages_state):
    users = tmp_path / "users.txt"
    users.write_text("li:" + generate_password_hash("correct horse battery") + "\n",
                     encoding="utf-8")
    walls = tmp_path / "walls.txt"
    walls.write_text(f"hall:{_access.token_digest(TOKEN)}\n", encoding="utf-8")
    settings = make_settings(users_file=users, wall_tokens_file=walls,
                             state_dir=tmp_path / "state")
    load_files(settings, "tickets", [write_csv(tmp_path / "t.csv",
                                               [ticket_row() for _ in range(5)])])
    from werkzeug.serving import make_server

    from app import create_app

    server = make_server("127.0.0.1", 0, create_app(settings).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_kiosk__token_url_becomes_a_cookie_and_the_wall_draws(protected_app):
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = webdriver.Chrome(options=chrome_options())
    try:
        driver.get(f"{protected_app}/wall?token={TOKEN}&rotate=0&lang=en")
        WebDriverWait(driver, 30).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#wall .wall-slide"))
        assert TOKEN not in driver.current_url
        assert driver.current_url.endswith("/wall?rotate=0&lang=en")
        assert TOKEN not in driver.page_source
        cookie = driver.get_cookie("wall")
        assert cookie["httpOnly"] and TOKEN not in cookie["value"]
        # The wall's own poll passes on the cookie.
        status = driver.execute_async_script(
            "var done = arguments[0];"
            "fetch('/api/wall/version').then(function (r) { done(r.status); });")
        assert status == 200
    finally:
        driver.quit()
