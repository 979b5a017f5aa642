"""The page: first full render of the wall (and explorer) in headless Chromium.

Runs only when the page modules exist (`dashboards/wall.py`, `dashboards/explore.py`)
and Chromium, chromedriver and selenium are installed. Serves the app on a free port
against the benchmark warehouse (`python app.py --db ... --port ...`), opens each page,
and waits until Dash has no callback in flight and the page container has content.
Reports the time from navigation to that moment and the bytes the browser received
(Resource Timing `transferSize`). Then, with the page polling every second, the bytes
of `watch_s` seconds without a data change (the wall's version polls), and the bytes
of the redraw after a real write (`warehouse.writer` swaps in a new file, the data
version goes up): what each refresh costs with and without a data change.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
# page -> (module, element whose children mean "rendered", query string for polling)
PAGES = {
    "/wall": (ROOT / "dashboards" / "wall.py", "#wall-slides", "?poll=1"),
    "/explore/tickets": (
        ROOT / "dashboards" / "explore_tickets.py",
        "#_pages_content",
        "",
    ),
}
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1920,1080",
)

_SETTLED_JS = """
const pending = document.querySelectorAll('[data-dash-is-loading="true"]').length;
const content = document.querySelector(arguments[0]);
return pending === 0 && content !== null && content.innerText.trim().length > 0;
"""
_BYTES_JS = """
return performance.getEntriesByType('resource').map(
    e => [e.name, e.transferSize || e.encodedBodySize || 0]);
"""


def available_pages() -> list[str]:
    """The pages whose modules exist."""
    return [path for path, (module, _, _) in PAGES.items() if module.is_file()]


def missing_tools() -> str | None:
    """Why a browser cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (requirements-dev.txt)"
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return "chromium / chromedriver not installed (scripts/test installs them)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settle(driver, selector: str, limit_s: float) -> None:
    end = time.monotonic() + limit_s
    while not driver.execute_script(_SETTLED_JS, selector):
        if time.monotonic() > end:
            raise TimeoutError(f"{selector} did not render within {limit_s:.0f} s")
        time.sleep(0.02)


def _bump_data_version(db: Path) -> None:
    """A real write: the product's writer swaps in a copy with data_version + 1."""
    from pipelines import warehouse
    from pipelines.settings import Settings

    with warehouse.writer(Settings(db_path=db, calendar_file=None)):
        pass


def measure_pages(
    db: Path, pages: list[str], settle_s: float = 60, watch_s: float = 10
) -> dict:
    """First render time and bytes of each page, served from warehouse `db`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "app.py", "--db", str(db), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    results = {}
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(
                        "the app did not start: " + server.stderr.read().decode()[-500:]
                    ) from None
                time.sleep(0.3)
        options = Options()
        options.binary_location = shutil.which("chromium")
        for flag in FLAGS:
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options)
        try:
            for page in pages:
                _, selector, query = PAGES[page]
                driver.get("about:blank")
                t0 = time.perf_counter()
                driver.get(base + page + query)
                _settle(driver, selector, settle_s)
                render_s = time.perf_counter() - t0
                first = driver.execute_script(_BYTES_JS)
                time.sleep(watch_s)  # polls only: the data did not change
                idle = driver.execute_script(_BYTES_JS)[len(first) :]
                _bump_data_version(db)
                # the next poll sees the change and the page redraws (a page that does
                # not poll never does: give up after settle_s)
                seen = len(first) + len(idle)
                end = time.monotonic() + settle_s
                while True:
                    changed = driver.execute_script(_BYTES_JS)[seen:]
                    redraws = [b for n, b in changed if "_dash-update-component" in n]
                    if redraws or time.monotonic() > end or "wall" not in page:
                        break
                    time.sleep(0.5)
                if "wall" not in page:
                    time.sleep(min(watch_s, 5))
                    changed = driver.execute_script(_BYTES_JS)[seen:]
                    redraws = [b for n, b in changed if "_dash-update-component" in n]
                results[page] = {
                    "render_s": render_s,
                    "first_bytes": sum(b for _, b in first),
                    "first_requests": len(first),
                    "watch_s": watch_s,
                    "idle_requests": len(idle),
                    "idle_bytes": sum(b for _, b in idle),
                    "redraw_requests": len(redraws),
                    "redraw_bytes": sum(redraws),
                    "after_change_bytes": sum(b for _, b in changed),
                }
        finally:
            driver.quit()
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    return results


if __name__ == "__main__":  # pragma: no cover - manual use
    print(json.dumps(measure_pages(Path(sys.argv[1]), available_pages()), indent=1))
