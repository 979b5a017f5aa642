"""Page weight: first render and bytes of a first and a repeat visit, in headless Chromium.

    .venv/bin/python -m benchmarks.lightbench --url http://127.0.0.1:8050 [--runs 3]

Against a running app (`python app.py`, any warehouse: say which in the figures). For
each page: a fresh browser profile loads it (first visit), then loads it again in the
same profile (repeat visit: what the HTTP cache saves). "Render" is the time from
navigation until the page has content and Dash has no callback in flight, polled every
50 ms. Bytes are what the browser received over the network (Resource and Navigation
Timing `transferSize`: headers plus the compressed body; 0 for a cache hit). Prints a
markdown table of the medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

PAGES = ("/", "/explore/tickets", "/explore/accounts")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--window-size=1366,768")
_SETTLED = """
const c = document.querySelector('#_pages_content');
return c !== null && c.innerText.trim().length > 0 &&
    document.querySelectorAll('[data-dash-is-loading="true"]').length === 0 &&
    [...document.querySelectorAll('.explore-graph')].every(g =>
        g.querySelector('.js-plotly-plot') !== null ||
        g.getBoundingClientRect().top > window.innerHeight + 300);  // drawn when scrolled to
"""
_BYTES = """
return performance.getEntriesByType('navigation').concat(
    performance.getEntriesByType('resource')).reduce((n, e) => n + e.transferSize, 0);
"""


def _visit(driver, url: str, limit_s: float = 60) -> tuple[float, int]:
    driver.execute_script("performance.clearResourceTimings()")
    start = time.perf_counter()
    driver.get(url)
    while not driver.execute_script(_SETTLED):
        if time.perf_counter() - start > limit_s:
            raise TimeoutError(f"{url} did not settle in {limit_s:g} s")
        time.sleep(0.05)
    return time.perf_counter() - start, int(driver.execute_script(_BYTES))


def fresh_browser():
    """A new headless Debian Chromium (selenium) with an empty profile: no cache."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(options=options)


def measure(base: str, runs: int = 3, pages: tuple[str, ...] = PAGES) -> list[dict]:
    """Median render seconds and bytes (first and repeat visit) of each page."""
    rows = []
    for page in pages:
        first, repeat = [], []
        for _ in range(runs):
            driver = fresh_browser()
            try:
                first.append(_visit(driver, base + page))
                repeat.append(_visit(driver, base + page))
            finally:
                driver.quit()
        rows.append({
            "page": page,
            "first_render_s": statistics.median(t for t, _ in first),
            "first_bytes": statistics.median(b for _, b in first),
            "repeat_render_s": statistics.median(t for t, _ in repeat),
            "repeat_bytes": statistics.median(b for _, b in repeat),
        })
    return rows


def main(argv: list[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8050")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page", action="append",
                        help=f"a page to measure (repeatable; default {', '.join(PAGES)})")
    args = parser.parse_args(argv)
    print("| page | first render s | first visit KB | repeat render s | repeat visit KB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in measure(args.url.rstrip("/"), args.runs, tuple(args.page or PAGES)):
        print(f"| {r['page']} | {r['first_render_s']:.2f} | {r['first_bytes'] / 1024:.0f} "
              f"| {r['repeat_render_s']:.2f} | {r['repeat_bytes'] / 1024:.0f} |")


if __name__ == "__main__":
    main()
