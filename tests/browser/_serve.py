"""Browser-test fixtures in one place: a demo warehouse loaded by the real loaders, the
real app (`python app.py`) serving it in a subprocess, headless Chromium, screenshots."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import duckdb
import pytest

from pipelines.demo import DEMO_CLOCK, write_demo
from pipelines.settings import Settings, local_now
from tests.factories import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(db_path: Path, log_path: Path, secret: str,
              ready_path: str = "/") -> Iterator[str]:
    """Serve the warehouse at `db_path` until the block ends; yields the base URL.

    The server's output goes to `log_path`; a server that does not answer `ready_path`
    within 60 s fails the test with the end of that log.
    """
    port = free_port()
    env = {**os.environ, "WALL_SECRET": secret, "PYTHONUNBUFFERED": "1"}
    env.pop("WALL_USERS_FILE", None)
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), "--db", str(db_path)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(url + ready_path, timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        pytest.fail(log_path.read_text(encoding="utf-8")[-3000:])
                    time.sleep(0.3)
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)


def demo_warehouse(root: Path, *, years: int, tickets_per_year: int,
                   today: dt.date | None = None,
                   sources: tuple[str, ...] | None = None) -> Settings:
    """Demo inputs written under `root`/demo and loaded by the real loaders into
    `root`/w.duckdb (only `sources` when given); the settings that name it."""
    from pipelines.bootstrap import load_demo_inputs

    settings = Settings(db_path=root / "w.duckdb", demo_dir=root / "demo",
                        secret=TEST_SECRET, secret_file=root / "k", calendar_file=None)
    # The demo's data stops at 09:00 of `today`. By default, the latest such day that is
    # not ahead of the app's clock, in its zone: the machine's date (UTC here) put it
    # up to an hour in the app's future (00:00-01:00 UTC, 08:00-09:00 in Shanghai), and
    # the wall rightly left those tickets out of figures the tests count at the cut-off.
    if today is None:
        now = local_now(settings)
        today = now.date() - dt.timedelta(days=1 if now.time() < DEMO_CLOCK else 0)
    files = write_demo(root / "demo", years=years, tickets_per_year=tickets_per_year,
                       today=today, clock=DEMO_CLOCK)
    load_demo_inputs(settings, {k: files[k] for k in sources} if sources else files)
    return settings


@contextlib.contextmanager
def serve_demo(root: Path, log_path: Path, secret: str, ready_path: str = "/explore",
               **demo) -> Iterator[dict]:
    """A demo warehouse (`demo_warehouse(root, **demo)`) served until the block ends;
    yields {"url", "con": a read-only connection for the test's own SQL, "settings"}."""
    settings = demo_warehouse(root, **demo)
    with serve_app(settings.db_path, log_path, secret, ready_path=ready_path) as url:
        con = duckdb.connect(str(settings.db_path), read_only=True)
        try:
            yield {"url": url, "con": con, "settings": settings}
        finally:
            con.close()


@contextlib.contextmanager
def chrome(*flags: str) -> Iterator:
    """Headless Chromium (tests.conftest.chrome_options, plus `flags`) until the block ends."""
    from selenium import webdriver

    from tests.conftest import chrome_options

    options = chrome_options()
    for flag in flags:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, path: Path) -> None:
    """The whole page: grow the window until its viewport holds the document."""
    for _ in range(3):
        inner, outer, full = driver.execute_script(
            "return [window.innerHeight, window.outerHeight,"
            " document.documentElement.scrollHeight]"
        )
        if full <= inner:
            break
        driver.set_window_size(1600, min(full + (outer - inner) + 8, 8000))
    driver.save_screenshot(str(path))
