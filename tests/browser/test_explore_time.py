"""The explorer's time and drill-downs in headless Chromium against a real app process:
presets and like-for-like comparisons answered through the UI, a ticket found by ID
outside the window, drill-downs in the URL (a copied link, Back and Forward).

One warehouse (demo generator, 2 years, every source, loaded by the real loader) and one
`python app.py`; views are pinned with `asof=` and each figure is checked against the
test's own SQL.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.keys import Keys

from tests.browser._serve import screenshot as _screenshot
from tests.browser._serve import serve_demo
from tests.conftest import chrome_options

pytestmark = pytest.mark.browser

TODAY = dt.date(2026, 11, 20)
ASOF = "2026-11-20T12:00:00"
WINDOW = f"from=2026-01-01&to=2026-06-30&asof={ASOF}"


@pytest.fixture(scope="module")
def served(tmp_path_factory, artifacts_dir):
    with serve_demo(tmp_path_factory.mktemp("explore-time-browser"),
                    artifacts_dir / "explore_time_server.log", "explore-time", years=2,
                    tickets_per_year=8000, today=TODAY) as served:
        yield served


def _query(driver) -> dict:
    return parse_qs(urlsplit(driver.current_url).query)


def _wait(check, what: str, timeout: float = 40):
    """check()'s value once truthy; fails the test after `timeout`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = check()
        except WebDriverException:  # an element replaced while the page rebuilds
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _text(driver, selector: str) -> str | None:
    return driver.execute_script(
        "var e = document.querySelector(arguments[0]);"
        "return e ? e.innerText.trim() : null;", selector)


def _kpi(driver, key: str) -> int:
    return int(_wait(lambda: _text(driver, f'[data-key="{key}"]'), key).replace(",", ""))


def _summary_settled(driver):
    return _wait(lambda: _text(driver, '[data-key="reported_count.current"]') and not
                 driver.execute_script("return document.querySelectorAll("
                                       "'[data-dash-is-loading=true]').length"),
                 "the summary", timeout=90)


def _find(driver, ticket_id: str) -> None:
    box = _wait(lambda: driver.find_element("css selector", "input[name=ticket]"),
                "the search box")
    box.clear()
    box.send_keys(ticket_id, Keys.ENTER)


def _click_ticket(driver, ticket_id: str) -> None:
    """Click the ticket's row in the table as an analyst does."""
    _wait(lambda: driver.execute_script(
        "var e = document.querySelector(\"#explore-table .ag-center-cols-container "
        ".ag-row[row-id='\" + arguments[0] + \"'] [col-id=category]\");"
        "if (!e) return false; e.click(); return true;", ticket_id),
        f"row {ticket_id}")


def _table_ids(driver) -> list[str]:
    # the table is mounted when scrolled to
    return driver.execute_script(
        "var p = document.querySelector('.explore-table-panel');"
        "if (p && !document.querySelector('#explore-table')) p.scrollIntoView();"
        "return Array.from(document.querySelectorAll('#explore-table "
        ".ag-center-cols-container .ag-row')).map(r => r.getAttribute('row-id'))"
        ".filter(Boolean);") or []


def test_ticket_found_by_id_outside_the_window(served, dash_br, artifacts_dir):
    con, driver = served["con"], dash_br.driver
    ticket_id, reported = con.execute(
        "select ticket_id, reported_at from tickets where reported_at >= date '2026-09-01'"
        " and reported_at < date '2026-10-01' order by ticket_id limit 1").fetchone()
    driver.get(served["url"] + f"/explore/accounts?{WINDOW}")
    _find(driver, ticket_id)  # from another explorer page
    _wait(lambda: _text(driver, "#explore-timeline-id") == ticket_id, "the timeline")
    query = _query(driver)
    assert urlsplit(driver.current_url).path == "/explore/tickets"
    assert query["ticket"] == [ticket_id] and query["from"] == ["2026-01-01"]
    assert _text(driver, '#explore-timeline [data-key="reported_at"]') == \
        f"{reported:%Y-%m-%d %H:%M}"
    assert "不在当前时段" in _text(driver, "#explore-find-result")
    _screenshot(driver, artifacts_dir / "explore_ticket_outside_window.png")

    # the note's link moves the window to the ticket's month; the ticket stays open
    driver.find_element("css selector", "#explore-ticket-window").click()
    _wait(lambda: _query(driver).get("from") == ["2026-09-01"], "the September window")
    _summary_settled(driver)
    assert _query(driver)["ticket"] == [ticket_id]
    assert _text(driver, "#explore-timeline-id") == ticket_id
    assert _kpi(driver, "reported_count.current") == con.execute(
        "select count(*) from tickets where reported_at >= date '2026-09-01' "
        "and reported_at < date '2026-10-01'").fetchone()[0]

    # an unknown ID says so, not "0 of 0"; the dates in view stay
    _find(driver, "NO-SUCH-TICKET")
    _wait(lambda: "未找到" in (_text(driver, "#explore-find-result") or ""), "未找到")
    assert "NO-SUCH-TICKET" in _text(driver, "#explore-find-result")
    assert _query(driver)["from"] == ["2026-09-01"]
    assert dash_br.get_logs() == []


def test_ledger_drilldown_restored_from_a_copied_url(served, dash_br):
    con, driver = served["con"], dash_br.driver
    compound, month = con.execute(
        "select compound, month from ledger_monthly where month = date '2026-03-01' "
        "and entry_count > 0 order by compound limit 1").fetchone()
    driver.get(served["url"] + f"/explore/accounts?{WINDOW}&compound={quote(compound)}")
    row = f"{compound}|{month:%Y-%m}"
    click = ("var e = document.querySelector(\"#xp-accounts-statements "
             ".ag-center-cols-container [row-id='\" + arguments[0] + \"'] [col-id=income]\");"
             "if (!e) return false; e.click(); return true;")

    def clicked_and_routed() -> bool:
        # a click on a cell the grid redraws at that instant is lost (its first render on
        # a busy machine); clicking the open month again changes nothing, so click again
        if _query(driver).get("entry_month") == [f"{month:%Y-%m}"]:
            return True
        if driver.execute_script(click, row):
            time.sleep(1)
        return False

    _wait(clicked_and_routed, "the March statement row, clicked, in the URL")
    link = driver.current_url

    fresh = webdriver.Chrome(options=chrome_options())  # a new browser session
    try:
        fresh.get(link)
        _wait(lambda: _text(fresh, "#xp-accounts-entries-title")
              == f"{compound} · {month:%Y-%m}", "the restored drill-down")
        income, expense = con.execute(
            "select income_yuan, expense_yuan from ledger_monthly where compound = ? "
            "and month = ?", [compound, month]).fetchone()
        assert _text(fresh, "#xp-accounts-entries-income") == _yuan(income)
        assert _text(fresh, "#xp-accounts-entries-expense") == _yuan(expense)
        lines = con.execute(
            "select count(*) from ledger_entries where compound = ? and booked_on >= ? "
            "and booked_on < ? + interval 1 month", [compound, month, month]).fetchone()[0]
        assert fresh.execute_script(
            "return document.querySelectorAll('#xp-accounts-entry-table tbody tr')"
            ".length") >= lines > 0
    finally:
        fresh.quit()


def _yuan(d: Decimal) -> str:
    return f"{'-' if d < 0 else ''}¥{abs(d):,.2f}"


def test_overdue_level_3_last_month_against_last_year_like_for_like(served, dash_br):
    con, driver = served["con"], dash_br.driver
    # 2 April: last month is March; a level-3 ticket of March 2025 was still open past
    # its deadline on 2 April 2025, and closed long before 2 April 2026
    asof = dt.datetime(2026, 4, 2, 12)
    driver.get(served["url"] + f"/explore/tickets?asof={asof:%Y-%m-%dT%H:%M:%S}")
    _summary_settled(driver)
    dash_br.select_dcc_dropdown("#explore-preset", value="上月")
    _wait(lambda: _query(driver).get("preset") == ["last_month"], "preset=last_month")
    _summary_settled(driver)
    driver.find_element("css selector", "#explore-drawer > summary").click()  # 更多筛选
    dash_br.select_dcc_dropdown("#explore-f-level", value="3级 L3")
    _wait(lambda: _query(driver).get("level") == ["3"], "level=3")
    _summary_settled(driver)
    assert _query(driver)["preset"] == ["last_month"] and "from" not in _query(driver)

    def overdue(start: str, as_of: dt.datetime) -> int:
        return con.execute(
            "select count(*) from tickets where level = 3 "
            "and reported_at >= cast($s as date) "
            "and reported_at < cast($s as date) + interval 1 month "
            "and (closed_at is null or closed_at > $a) and $a > deadline_at",
            {"s": start, "a": as_of}).fetchone()[0]

    # like for like: March 2025 judged as long after its end as March 2026 is at asof
    shifted = dt.datetime(2025, 4, 1) + (asof - dt.datetime(2026, 4, 1))
    this_year, last_year = overdue("2026-03-01", asof), overdue("2025-03-01", shifted)
    assert last_year > overdue("2025-03-01", asof)  # the shift matters in this data
    assert _kpi(driver, "overdue_count.current") == this_year
    assert _kpi(driver, "overdue_count.last_year") == last_year


def test_back_and_forward_over_two_drilldowns(served, dash_br):
    driver = dash_br.driver
    driver.get(served["url"] + f"/explore/tickets?{WINDOW}")
    _summary_settled(driver)
    first, second = _wait(lambda: _table_ids(driver)[:2] if len(_table_ids(driver)) > 1
                          else None, "two table rows")
    for ticket_id in (first, second):
        _click_ticket(driver, ticket_id)
        _wait(lambda: _text(driver, "#explore-timeline-id") == ticket_id, ticket_id)
        assert _query(driver)["ticket"] == [ticket_id]
    driver.back()
    _wait(lambda: _text(driver, "#explore-timeline-id") == first, "back to the first")
    assert _query(driver)["ticket"] == [first]
    driver.back()
    _wait(lambda: "ticket" not in _query(driver) and "点击表格中的事件" in (
        _text(driver, "#explore-timeline") or ""), "back to no ticket")
    driver.forward()
    _wait(lambda: _text(driver, "#explore-timeline-id") == first, "forward to the first")
    driver.forward()
    _wait(lambda: _text(driver, "#explore-timeline-id") == second, "forward to the second")
    assert _query(driver)["ticket"] == [second]
    assert dash_br.get_logs() == []


_HEATMAP = """
var p = document.querySelector('#explore-breakdown-heatmap .js-plotly-plot');
return p && p.data && p.data.length ? p.data[0].z : null;
"""


def _cells(z) -> list[int]:
    """The heatmap's counts, sorted; an empty pair (0) is not a row of the SQL."""
    return sorted(int(v) for row in z for v in row if v)


def test_heatmap_choice_kept_in_the_url_back_forward_and_a_copied_link(served, dash_br):
    """Category × level drawn as a heatmap is a view of its own: `bview=heatmap` in the
    URL, so Back shows the pivot table again, Forward the heatmap, and a copied link
    opens on the heatmap; its cells are the tickets per category and level (SQL)."""
    con, driver = served["con"], dash_br.driver
    cells = sorted(n for _, _, n in con.execute(
        "select category, level, count(*) from tickets where reported_at >= "
        "date '2026-01-01' and reported_at < date '2026-07-01' group by all").fetchall())
    pivot = f"/explore/tickets?{WINDOW}&by=category&by2=level"
    driver.get(served["url"] + pivot)
    _summary_settled(driver)
    _wait(lambda: driver.find_elements("css selector", "#explore-breakdown-table"),
          "the pivot table")
    assert "bview" not in _query(driver)
    _wait(lambda: driver.execute_script(
        "var r = document.querySelector('#explore-bview input[value=heatmap]');"
        "if (!r) return false; r.scrollIntoView({block: 'center'}); r.click();"
        "return true;"), "the heatmap choice")
    _wait(lambda: _query(driver).get("bview") == ["heatmap"], "bview=heatmap")
    z = _wait(lambda: driver.execute_script(_HEATMAP), "the heatmap")
    assert _cells(z) == cells
    copied = driver.current_url

    driver.back()
    _wait(lambda: "bview" not in _query(driver) and driver.find_elements(
        "css selector", "#explore-breakdown-table"), "back to the pivot table")
    assert not driver.find_elements("css selector", "#explore-breakdown-heatmap")
    driver.forward()
    _wait(lambda: _query(driver).get("bview") == ["heatmap"]
          and driver.execute_script(_HEATMAP), "forward to the heatmap")

    driver.get("about:blank")
    driver.get(copied)
    z = _wait(lambda: driver.execute_script(_HEATMAP), "the heatmap from a copied link")
    assert _cells(z) == cells
    assert driver.find_element(
        "css selector", "#explore-bview input[value=heatmap]").is_selected()
    assert dash_br.get_logs() == []


def _box(driver, selector: str) -> dict:
    return driver.execute_script(
        "var e = document.querySelector(arguments[0]); if (!e) return null;"
        "var r = e.getBoundingClientRect();"
        "return {top: r.top, width: r.width, height: r.height,"
        " clipped: e.scrollWidth > e.clientWidth + 1};", selector)


@pytest.mark.parametrize("width", [1366, 1920])
def test_search_and_as_of_fields_show_what_they_hold(served, dash_br, artifacts_dir, width):
    """On a laptop and a desk screen: the ticket search sits on the title line with its
    label on one line and room for an ID, and the people pages' as-of field shows its
    whole value (Dash's inputs grow from nothing unless given room), and the votes
    table shows its result column without scrolling."""
    driver = dash_br.driver
    driver.set_window_size(width, 900)
    try:
        for page in ("tickets", "participation"):
            driver.get(served["url"] + f"/explore/{page}?{WINDOW}")
            find = _wait(lambda: _box(driver, "input[name=ticket]"), "the search box")
            tabs, label = _box(driver, ".explore-tabs"), _box(driver, ".explore-search "
                                                                     ".filter-label")
            assert find["width"] >= (100 if width < 1600 else 200), (page, find)
            assert label["height"] < 30, (page, label)  # one line, not three
            assert abs(find["top"] - tabs["top"]) < 30, (page, find, tabs)  # one row
        asof = _box(driver, "#xp-participation-asof-input")
        assert asof is not None and not asof["clipped"], asof
        # the votes table's last column, the result, in view without scrolling its panel
        votes = _wait(lambda: driver.execute_script(
            "var t = document.querySelector('#xp-participation-votes');"
            "return t && [t.parentElement.scrollWidth, t.parentElement.clientWidth];"),
            "the votes table")
        assert votes[0] <= votes[1], votes
        # the viewport at this width (the full-page helper would resize it to 1600)
        driver.save_screenshot(str(artifacts_dir / f"explore_search_{width}.png"))
    finally:
        driver.set_window_size(1600, 1200)
