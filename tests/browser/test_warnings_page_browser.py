"""/explore/warnings in headless Chromium against a real app process: the rows equal the
warnings table for the URL's filters, a dropdown writes the URL, and a warning's link
opens the ticket explorer filtered to what lies behind it."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboards._explore_state import preset_label, preset_window
from pipelines.queries.warnings import MAX_ROWS
from pipelines.settings import local_now
from tests.browser._serve import screenshot as _screenshot
from tests.browser._serve import serve_demo

pytestmark = pytest.mark.browser

TODAY = dt.date(2026, 11, 23)
PERIOD = "from=2026-01-01&to=2026-12-31"


@pytest.fixture(scope="module")
def served(tmp_path_factory, artifacts_dir):
    with serve_demo(tmp_path_factory.mktemp("explore-warnings-browser"),
                    artifacts_dir / "explore_warnings_server.log", "explore-warnings",
                    years=1, tickets_per_year=20000, today=TODAY) as served:
        yield served


def _wait_for_query(br, key: str) -> dict:
    end = time.monotonic() + 15
    while key not in parse_qs(urlsplit(br.driver.current_url).query):
        assert time.monotonic() < end, br.driver.current_url
        time.sleep(0.2)
    return parse_qs(urlsplit(br.driver.current_url).query)


def test_explore_warnings__rows_equal_the_table_and_filters_live_in_the_url(
        served, dash_br, artifacts_dir):
    con = served["con"]
    (total,), = con.execute("select count(*) from warnings").fetchall()
    assert total > 0, "the demo shows no warning: this test checks nothing"
    dash_br.driver.get(served["url"] + f"/explore/warnings?{PERIOD}&status=all")
    dash_br.wait_for_element("#warnings-table", timeout=20)
    assert len(dash_br.find_elements("#warnings-table tbody tr")) == total
    _screenshot(dash_br.driver, artifacts_dir / "explore_warnings.png")

    # the URL alone reproduces a filtered view
    (critical,), = con.execute("select count(*) from warnings where severity = 'critical' "
                               "and status <> 'resolved'").fetchall()
    dash_br.driver.get(served["url"] + f"/explore/warnings?{PERIOD}&severity=critical")
    dash_br.wait_for_element("#warnings-meta", timeout=20)
    rows = dash_br.find_elements("#warnings-table tbody tr") if critical else []
    assert len(rows) == critical
    assert all(r.find_element("css selector", "td").text.startswith("紧急") for r in rows)

    # a dropdown writes the URL (one more filter)
    dash_br.select_dcc_dropdown("#warnings-f-kind", index=0)
    assert _wait_for_query(dash_br, "kind")["kind"] == ["rule"]


def test_explore_warnings__a_level4_warning_opens_its_tickets(served, dash_br):
    con = served["con"]
    found = con.execute("select subject, community from warnings "
                        "where rule_id = 'level4_open' limit 1").fetchall()
    if not found:
        pytest.skip("no open level-4 ticket in this demo")
    dash_br.driver.get(served["url"] + f"/explore/warnings?{PERIOD}&status=all"
                       "&severity=critical&kind=rule")
    dash_br.wait_for_element("#warnings-table", timeout=20)
    dash_br.find_element("#warnings-table tbody tr .warn-drill").click()
    query = _wait_for_query(dash_br, "level")
    assert urlsplit(dash_br.driver.current_url).path == "/explore/tickets"
    assert query["level"] == ["4"] and query["status"] == ["open"]


def _active(con, start: dt.date, end: dt.date) -> int:
    """Warnings active at some moment of [start, end]: first seen by its last day and
    not resolved before its first (the page's 口径)."""
    return con.execute(
        "select count(*) from warnings where first_seen_at < $to + interval 1 day "
        "and (resolved_at is null or resolved_at >= $from)",
        {"from": start, "to": end}).fetchone()[0]


def _shown(br) -> int:
    """Rows on the page (0 under the empty-state line), read in one script."""
    return br.driver.execute_script(
        "return document.querySelectorAll('#warnings-table tbody tr').length;")


def test_explore_warnings__a_time_preset_sets_the_period_and_lives_in_the_url(
        served, dash_br):
    """本月 and 上月, two of the explorer's ten presets: the rows are the warnings active
    in that period (SQL), the URL says `preset=...` instead of dates, and that link
    opens the same view."""
    con = served["con"]
    # the app's clock: the demo ends on TODAY, but the page judges the presets now
    cutoff = dt.datetime.combine(local_now(served["settings"]).date(), dt.time(23, 59, 59))
    periods = {p: preset_window(p, cutoff) for p in ("this_month", "last_month")}
    want = {p: _active(con, w.start.date(), w.end.date()) for p, w in periods.items()}
    assert want["this_month"] != want["last_month"], "the presets' dates change nothing"

    def shown_dates():
        # read in one script: the page is rebuilt (its inputs replaced) after a choice
        return dash_br.driver.execute_script(
            "var f = document.querySelector('#warnings-from'),"
            " t = document.querySelector('#warnings-to');"
            "return f && t ? [f.value, t.value] : null;")

    dash_br.driver.get(served["url"] + "/explore/warnings?status=all")
    dash_br.wait_for_element("#warnings-meta", timeout=20)
    for preset, window in periods.items():
        dash_br.select_dcc_dropdown("#warnings-preset", value=preset_label(preset))
        end_wait = time.monotonic() + 20
        while (parse_qs(urlsplit(dash_br.driver.current_url).query).get("preset")
               != [preset] or shown_dates() != [str(window.start.date()),
                                                str(window.end.date())]):
            assert time.monotonic() < end_wait, f"{preset}: {dash_br.driver.current_url}"
            time.sleep(0.2)
        assert "from=" not in dash_br.driver.current_url
        while _shown(dash_br) != min(want[preset], MAX_ROWS):
            assert time.monotonic() < end_wait, f"{preset}: {_shown(dash_br)} rows"
            time.sleep(0.2)

    copied = dash_br.driver.current_url
    dash_br.driver.get("about:blank")
    dash_br.driver.get(copied)
    dash_br.wait_for_element("#warnings-meta", timeout=20)
    assert _shown(dash_br) == min(want["last_month"], MAX_ROWS)
    assert "上月" in dash_br.find_element("#warnings-preset").text


def test_explore_warnings__times_and_rule_names_read_whole_on_a_laptop(served, dash_br):
    """At 1366 px a time is never split as "2026-12-" over "05 14:08", a rule's name is
    one line, and an empty filter says it means all."""
    driver = dash_br.driver
    driver.set_window_size(1366, 768)
    try:
        driver.get(served["url"] + f"/explore/warnings?{PERIOD}&status=all")
        dash_br.wait_for_element("#warnings-table", timeout=20)
        lines = driver.execute_script(
            "var out = {};"
            "for (var sel of ['.warn-time', '.warn-rule']) {"
            "  out[sel] = Array.from(document.querySelectorAll('#warnings-table ' + sel))"
            "    .filter(td => td.innerText.trim() !== '—').map(td => {"
            "      var r = document.createRange(); r.selectNodeContents(td);"
            "      return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top)))"
            "        .size; });"
            "} return out;")
        assert lines[".warn-time"] and set(lines[".warn-time"]) == {1}, lines
        assert lines[".warn-rule"] and set(lines[".warn-rule"]) == {1}, lines
        assert dash_br.find_element("#warnings-f-severity").text.startswith("全部")
    finally:
        driver.set_window_size(1600, 1200)
