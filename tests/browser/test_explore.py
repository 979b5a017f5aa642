"""The ticket explorer in headless Chromium against a real app process.

One warehouse (demo generator, 1 year, 20,000 tickets, loaded by the real loader) and one
`python app.py` serve every test here. Views are pinned with `asof=` so that every number
can be checked against the test's own SQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import urllib.request
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.browser._serve import screenshot as _screenshot
from tests.browser._serve import serve_demo

pytestmark = pytest.mark.browser

TODAY = dt.date(2026, 11, 20)
ASOF = "2026-11-20T12:00:00"
BASE = f"/explore/tickets?from=2026-01-01&to=2026-06-30&asof={ASOF}"


@pytest.fixture(scope="module")
def served(tmp_path_factory, artifacts_dir):
    with serve_demo(tmp_path_factory.mktemp("explore-browser"),
                    artifacts_dir / "explore_server.log", "explore-browser", years=1,
                    tickets_per_year=20000, today=TODAY, sources=("tickets",)) as served:
        yield served


def _sql_count(con, where: str = "true", params: dict | None = None) -> int:
    return con.execute(
        "select count(*) from tickets where reported_at >= date '2026-01-01' "
        f"and reported_at < date '2026-07-01' and {where}", params or {}).fetchone()[0]


def _open(br, url: str, charts: tuple[str, ...] | None = None):
    """Open `url` and wait for its summary and `charts` (every chart when None)."""
    br.driver.get(url)
    br.wait_for_element('[data-key="reported_count.current"]', timeout=20)
    if charts is None:
        _wait_charts(br)
        _show_table(br)
    else:
        _wait_view(br, charts)


def _show_table(br):
    """Scroll to the ticket table, which is mounted when it nears the window."""
    br.driver.execute_script(
        "document.querySelector('.explore-table-panel').scrollIntoView({block: 'start'})")
    br.wait_for_element("#explore-table .ag-header-row-column", timeout=20)


# The charts drawn; the first chart not drawn yet is brought into view (a chart below
# the fold is drawn when it nears the window).
_DRAWN_JS = """
const graphs = [...document.querySelectorAll('.explore-graph')];
const drawn = g => { const p = g.querySelector('.js-plotly-plot');
    return p !== null && p.layout !== undefined && p.layout.meta !== 'explore-not-drawn'; };
const next = graphs.find(g => !drawn(g));
if (next) next.scrollIntoView({block: 'center'});
return graphs.filter(drawn).length;
"""


def _wait_charts(br, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        n = br.driver.execute_script(_DRAWN_JS)
        busy = br.driver.execute_script(
            "return document.querySelectorAll('[data-dash-is-loading=true]').length")
        if n >= 10 and not busy:
            time.sleep(0.3)
            return
        time.sleep(0.2)
    raise AssertionError("charts did not render")


# The summary drawn, nothing loading, and the named charts drawn; the first named chart
# not drawn yet is brought into view (a chart below the fold draws when it nears the window).
_VIEW_JS = """
const drawn = name => {
    const p = document.querySelector('#explore-panel-' + name + ' .js-plotly-plot');
    return p !== null && p.layout !== undefined && p.layout.meta !== 'explore-not-drawn'; };
const waiting = arguments[0].filter(name => !drawn(name));
if (waiting.length) {
    document.querySelector('#explore-panel-' + waiting[0]).scrollIntoView({block: 'center'});
}
return waiting.length === 0
    && document.querySelector('[data-key="reported_count.current"]') !== null
    && document.querySelectorAll('[data-dash-is-loading=true]').length === 0;
"""


def _wait_view(br, charts: tuple[str, ...] = (), timeout=20):
    """Wait for what a check reads, and only that: the summary of the view on screen and
    the charts named. Call it once the page shows the new view (its chips changed): a
    new view's summary and charts start empty, so none of them is the last view's."""
    end = time.monotonic() + timeout
    while not br.driver.execute_script(_VIEW_JS, list(charts)):
        if time.monotonic() > end:
            raise AssertionError(f"the summary or the charts {charts} did not render")
        time.sleep(0.2)


def _kpi(br, key: str) -> str:
    return br.find_element(f'[data-key="{key}"]').text


def _query(br) -> dict:
    return parse_qs(urlsplit(br.driver.current_url).query)


def _chart_data(br, chart: str) -> list[dict]:
    return br.driver.execute_script(
        "var g = document.querySelector('#explore-panel-%s .js-plotly-plot');"
        "return g.data.map(t => ({x: t.x, y: t.y, c: t.customdata}));" % chart)


_HOVERED_JS = """
const gd = arguments[0].closest('.js-plotly-plot');
return gd !== null && Array.isArray(gd._hoverdata) && gd._hoverdata.length > 0;
"""


def _click(br, element, timeout=15) -> None:
    """Click where a plotly mark is drawn (plotly's drag layer receives the click).

    Plotly reports a click on the point the pointer hovers, and finds that point after
    the move, in an animation frame: a click sent with the move can come first and is
    then lost. So the pointer moves, plotly's hover data is waited for, then it clicks.
    """
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(br.driver).move_to_element(element).perform()
    end = time.monotonic() + timeout
    while not br.driver.execute_script(_HOVERED_JS, element):
        if time.monotonic() > end:
            raise AssertionError("plotly found no point under the pointer")
        time.sleep(0.1)
    ActionChains(br.driver).click().perform()


def _chips(br) -> list[str]:
    return [c.text for c in br.find_elements("#explore-chips .chip")]


def _chips_now(br) -> list[str]:
    """The chips' text, read in one script: the page may rebuild them while it is read."""
    return br.driver.execute_script(
        "return [...document.querySelectorAll('#explore-chips .chip')].map(c => c.innerText)")


def _ticket_selector(index: int) -> str:
    return (f".ag-pinned-left-cols-container .ag-row[row-index='{index}'] "
            "[col-id='ticket_id']")


def _ticket_at(br, index: int, want: str) -> str | None:
    """The ticket id in table row `index`, once it equals `want` (or after 15 s)."""
    # read through JS: the grid re-renders rows, so element handles go stale
    end, text = time.monotonic() + 15, None
    while time.monotonic() < end:
        text = br.driver.execute_script(
            "var e = document.querySelector(arguments[0]);"
            "return e ? e.textContent.trim() : null;", _ticket_selector(index))
        if text == want:
            break
        time.sleep(0.2)
    return text


def _wait_query(br, check, timeout=15) -> dict:
    """The URL's query once `check(query)` holds; it fails the test after `timeout`."""
    end = time.monotonic() + timeout
    while not check(_query(br)) and time.monotonic() < end:
        time.sleep(0.2)
    query = _query(br)
    assert check(query), query
    return query


def _click_header(br, column: str) -> None:
    """Sort by a column as an analyst does, scrolling its header into view first."""
    br.driver.execute_script(
        "var e = document.querySelector(arguments[0]);"
        "e.scrollIntoView({block: 'center', inline: 'center'}); e.click();",
        f".ag-header-cell[col-id='{column}'] .ag-header-cell-label")


def _header_sort(br, column: str) -> str | None:
    return br.find_element(f".ag-header-cell[col-id='{column}']").get_attribute("aria-sort")


def test_explore__numbers_on_every_chart_equal_sql(served, dash_br, artifacts_dir):
    con = served["con"]
    _open(dash_br, served["url"] + BASE)
    assert int(_kpi(dash_br, "reported_count.current").replace(",", "")) == _sql_count(con)
    # breakdown charts: one bar per value, length = tickets
    for chart, column in (("level", "level"), ("category", "category"),
                          ("community", "community"), ("handler", "handler"),
                          ("source", "source"), ("grid", "grid")):
        trace = _chart_data(dash_br, chart)[0]
        lengths = trace["y"] if chart == "level" else trace["x"]
        got = dict(zip(trace["c"], lengths))
        want = dict(con.execute(
            f"select {column}, count(*) from tickets where reported_at >= '2026-01-01' "
            f"and reported_at < '2026-07-01' group by all").fetchall())
        assert got == want, chart
    trend = _chart_data(dash_br, "trend")[0]
    want = con.execute(
        "select strftime(date_trunc('month', reported_at), '%Y-%m-%d'), count(*) "
        "from tickets where reported_at >= '2026-01-01' and reported_at < '2026-07-01' "
        "group by 1 order by 1").fetchall()
    assert list(zip(trend["x"], trend["y"])) == want
    close = _chart_data(dash_br, "close_time")
    want = con.execute(
        "select level, round(quantile_cont(epoch(closed_at - reported_at) / 3600, 0.5), 1),"
        " round(quantile_cont(epoch(closed_at - reported_at) / 3600, 0.9), 1) "
        "from tickets where reported_at >= '2026-01-01' and reported_at < '2026-07-01' "
        "and closed_at <= $now group by 1 order by 1",
        {"now": dt.datetime.fromisoformat(ASOF)}).fetchall()
    assert close[0]["y"] == [m for _, m, _ in want]
    assert close[1]["y"] == [p for _, _, p in want]
    sat = _chart_data(dash_br, "sat_handler")[0]
    want = dict(con.execute(
        "select handler, round(100.0 * count(*) filter (satisfaction = 'satisfied') / "
        "count(satisfaction), 1) from tickets where reported_at >= '2026-01-01' and "
        "reported_at < '2026-07-01' group by 1").fetchall())
    assert dict(zip(sat["c"], sat["x"])) == want
    _screenshot(dash_br.driver, artifacts_dir / "explore_tickets.png")
    assert dash_br.get_logs() == []


def test_explore__cross_filter_chip_back_and_copied_link(served, dash_br, artifacts_dir):
    """Each step waits for the view it changed to be on screen (its chips), then for the
    summary and the charts it reads: waiting for all ten charts, nine of them drawn one
    by one as they are scrolled to, timed out under load."""
    con = served["con"]
    _open(dash_br, served["url"] + BASE, charts=("category", "level"))
    # cross-filter: click the largest category bar
    bars = dash_br.find_elements("#explore-panel-category .js-plotly-plot .point path")
    target = _chart_data(dash_br, "category")[0]["c"][0]  # largest first, drawn on top
    assert _chart_data(dash_br, "category")[0]["x"][0] == max(
        _chart_data(dash_br, "category")[0]["x"])
    _click(dash_br, bars[0])
    dash_br.wait_for_contains_text("#explore-chips", target, timeout=15)
    _wait_view(dash_br, ("community", "level"))
    assert _query(dash_br)["category"] == [target]
    want = _sql_count(con, "category = $c", {"c": target})
    assert int(_kpi(dash_br, "reported_count.current").replace(",", "")) == want
    # every other chart is filtered: the community bars now add up to the category
    assert sum(_chart_data(dash_br, "community")[0]["x"]) == want

    # a second filter through the URL-driven level chart
    _click(dash_br, dash_br.find_elements(
        "#explore-panel-level .js-plotly-plot .point path")[2])
    dash_br.wait_for_contains_text("#explore-chips", "等级", timeout=15)
    _wait_view(dash_br)
    level = int(_query(dash_br)["level"][0])
    both = _sql_count(con, "category = $c and level = $l", {"c": target, "l": level})
    assert int(_kpi(dash_br, "reported_count.current").replace(",", "")) == both
    chips_before = _chips(dash_br)
    summary_before = dash_br.find_element("#explore-summary-table").text
    _screenshot(dash_br.driver, artifacts_dir / "explore_cross_filtered.png")

    # copied link in a new page: the identical view
    link = dash_br.driver.current_url
    dash_br.driver.switch_to.new_window("tab")
    _open(dash_br, link, charts=())
    assert _chips(dash_br) == chips_before
    assert dash_br.find_element("#explore-summary-table").text == summary_before
    dash_br.driver.close()
    dash_br.driver.switch_to.window(dash_br.driver.window_handles[0])

    # back undoes the level filter
    dash_br.driver.back()
    end = time.monotonic() + 15
    while ("level" in _query(dash_br) or any("等级" in c for c in _chips_now(dash_br))) \
            and time.monotonic() < end:
        time.sleep(0.2)
    _wait_view(dash_br)
    assert "level" not in _query(dash_br)
    assert int(_kpi(dash_br, "reported_count.current").replace(",", "")) == want

    # chip removal: the category chip's x
    chip = [c for c in dash_br.find_elements("#explore-chips .chip") if target in c.text][0]
    chip.click()
    end = time.monotonic() + 15
    while ("category" in _query(dash_br) or any(target in c for c in _chips_now(dash_br))) \
            and time.monotonic() < end:
        time.sleep(0.2)
    _wait_view(dash_br)
    assert not any(target in c for c in _chips(dash_br))
    assert int(_kpi(dash_br, "reported_count.current").replace(",", "")) == _sql_count(con)
    assert dash_br.get_logs() == []


def test_explore__table_paging_sorting_timeline_and_csv(served, dash_br, artifacts_dir):
    con = served["con"]
    _open(dash_br, served["url"] + BASE + "&level=3")
    ids = con.execute(
        "select ticket_id from tickets where reported_at >= '2026-01-01' and "
        "reported_at < '2026-07-01' and level = 3 "
        "order by reported_at desc nulls last, ticket_id").fetchall()
    dash_br.wait_for_element(".ag-row[row-index='0']", timeout=15)
    assert _ticket_at(dash_br, 0, ids[0][0]) == ids[0][0]
    dash_br.find_element(".ag-paging-button[aria-label='Next Page']").click()
    assert _ticket_at(dash_br, 50, ids[50][0]) == ids[50][0]
    # sort by ticket id ascending (header click): the page is rebuilt from the new URL
    dash_br.find_element(".ag-header-cell[col-id='ticket_id'] .ag-header-cell-label").click()
    _wait_query(dash_br, lambda query: query.get("sort") == ["ticket_id:asc"])
    want = min(i for (i,) in ids)
    assert _ticket_at(dash_br, 0, want) == want

    # timeline of the first row
    dash_br.driver.execute_script(
        "var e = document.querySelector(arguments[0]);"
        "e.scrollIntoView({block: 'center'}); e.click();", _ticket_selector(0))
    dash_br.wait_for_text_to_equal("#explore-timeline-id", want, timeout=15)
    deadline = con.execute("select strftime(deadline_at, '%Y-%m-%d %H:%M') from tickets "
                           "where ticket_id = $t", {"t": want}).fetchone()[0]
    assert dash_br.find_element("#explore-timeline-deadline").text == deadline
    assert len(dash_br.find_elements(".timeline .tl-item")) == 5
    _screenshot(dash_br.driver, artifacts_dir / "explore_table_timeline.png")

    # the CSV link of the table: rows equal the test's own SQL, in the header's sort
    href = dash_br.find_element("#explore-csv-tickets").get_attribute("href")
    with urllib.request.urlopen(href, timeout=30) as r:
        body = r.read().decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert [r["编号"] for r in rows] == sorted(i for (i,) in ids)  # Chinese headers
    assert dash_br.get_logs() == []


def test_explore__unknown_community_and_bad_date(served, dash_br, artifacts_dir):
    url = (served["url"] + "/explore/tickets?from=2026-13-45&to=2026-06-30"
           f"&community={quote('<script>alert(1)</script>')}&asof={ASOF}")
    _open(dash_br, url)
    notices = dash_br.find_element("#explore-notices").text
    assert "2026-13-45" in notices and "<script>alert(1)</script>" in notices
    dash_br.wait_for_element("#explore-empty", timeout=10)
    assert _kpi(dash_br, "reported_count.current") == "0"
    _screenshot(dash_br.driver, artifacts_dir / "explore_empty_state.png")
    for page in ("participation", "accounts", "population"):
        dash_br.driver.get(served["url"] + f"/explore/{page}")
        dash_br.wait_for_element(f"#explore-{page}-empty", timeout=10)
    assert dash_br.get_logs() == []


def _sorted_ids(con, order: str) -> list[str]:
    return [i for (i,) in con.execute(
        "select ticket_id from tickets where reported_at >= '2026-01-01' and "
        f"reported_at < '2026-07-01' order by {order} nulls last, ticket_id").fetchall()]


def test_explore__header_sort_and_table_position_survive_a_copied_link(
        served, dash_br, artifacts_dir):
    con = served["con"]
    by_closed = _sorted_ids(con, "closed_at asc")
    _open(dash_br, served["url"] + BASE)
    newest = _sorted_ids(con, "reported_at desc")[0]
    assert _ticket_at(dash_br, 0, newest) == newest  # the default sort: newest first
    history = dash_br.driver.execute_script("return window.history.length")

    # a header click writes the sort: one history entry, like a filter
    _click_header(dash_br, "closed_at")
    _wait_query(dash_br, lambda query: query.get("sort") == ["closed_at:asc"])
    _wait_charts(dash_br)
    assert _ticket_at(dash_br, 0, by_closed[0]) == by_closed[0]
    assert dash_br.driver.execute_script("return window.history.length") == history + 1

    # paging writes the position in place: no history entry per page
    for page in (1, 2):
        dash_br.find_element(".ag-paging-button[aria-label='Next Page']").click()
        want = by_closed[page * 50]
        assert _ticket_at(dash_br, page * 50, want) == want
    _wait_query(dash_br, lambda query: query.get("row") == ["100"])
    assert dash_br.driver.execute_script("return window.history.length") == history + 1

    # the copied link in a fresh page: the same sort, indicator and page
    link = dash_br.driver.current_url
    dash_br.driver.switch_to.new_window("tab")
    _open(dash_br, link)
    assert _ticket_at(dash_br, 100, by_closed[100]) == by_closed[100]
    assert [_ticket_at(dash_br, i, by_closed[i]) for i in range(100, 105)] == \
        by_closed[100:105]
    assert _header_sort(dash_br, "closed_at") == "ascending"
    assert dash_br.find_element(".ag-paging-number").text == "3"
    assert _query(dash_br)["row"] == ["100"]  # restoring it keeps it
    # the closed_at column (and its sort arrow) in view for the picture
    dash_br.driver.execute_script(
        "var s = document.querySelector('.explore-grid .ag-body-horizontal-scroll-viewport');"
        "s.scrollLeft = s.scrollWidth;")
    time.sleep(0.5)
    _screenshot(dash_br.driver, artifacts_dir / "explore_sorted_link.png")
    dash_br.find_element(".explore-table-panel").screenshot(
        str(artifacts_dir / "explore_sorted_link_table.png"))

    # a new sort starts at the top; the third click clears it back to the default
    _click_header(dash_br, "closed_at")
    query = _wait_query(dash_br, lambda query: query.get("sort") == ["closed_at:desc"])
    assert "row" not in query
    want = _sorted_ids(con, "closed_at desc")[0]
    assert _ticket_at(dash_br, 0, want) == want
    _wait_charts(dash_br)
    _click_header(dash_br, "closed_at")
    query = _wait_query(dash_br, lambda query: "sort" not in query)
    assert "row" not in query
    want = _sorted_ids(con, "reported_at desc")[0]
    assert _ticket_at(dash_br, 0, want) == want
    assert _header_sort(dash_br, "reported_at") == "descending"
    assert _header_sort(dash_br, "closed_at") in (None, "none")

    # Back returns to the previous sort
    dash_br.driver.back()
    _wait_query(dash_br, lambda query: query.get("sort") == ["closed_at:desc"])
    want = _sorted_ids(con, "closed_at desc")[0]
    assert _ticket_at(dash_br, 0, want) == want

    # a position past the end: the last page, and the URL says so
    _open(dash_br, link.replace("row=100", "row=999950"))
    last = (len(by_closed) - 1) // 50 * 50
    assert _ticket_at(dash_br, last, by_closed[last]) == by_closed[last]
    _wait_query(dash_br, lambda query: query.get("row") == [str(last)])
    assert dash_br.get_logs() == []
    dash_br.driver.close()
    dash_br.driver.switch_to.window(dash_br.driver.window_handles[0])


def test_explore__p90_hours_to_close_by_category_last_quarter_and_its_files(
        served, dash_br, artifacts_dir):
    """The issue's question on one screen; the table equals SQL and both files equal it."""
    import pandas as pd

    con = served["con"]
    _open(dash_br, served["url"] + "/explore/tickets?from=2026-04-01&to=2026-06-30"
          f"&asof={ASOF}&bm=p90_close_hours&by=category")
    dash_br.wait_for_element("#explore-breakdown-table tbody tr", timeout=20)
    shown = [[c.text for c in tr.find_elements("css selector", "th, td")]
             for tr in dash_br.find_elements("#explore-breakdown-table tr")]
    want = con.execute("""
        select coalesce(category, '合计'),
               round(quantile_cont(epoch(closed_at - reported_at) / 3600.0, 0.9)
                     filter (where closed_at <= $asof), 1) as p90, count(*)
        from tickets where reported_at >= '2026-04-01' and reported_at < '2026-07-01'
        group by grouping sets ((category), ())
        order by grouping(category), p90 desc, 1""", {"asof": ASOF}).fetchall()
    assert shown[0] == ["类别", "办结用时 P90（小时）", "上报（件）"]
    assert shown[1:] == [[c, f"{p:.1f}", f"{n:,}"] for c, p, n in want]
    _screenshot(dash_br.driver, artifacts_dir / "explore_breakdown.png")
    for kind in ("csv", "xlsx"):
        href = dash_br.find_element(f"#explore-{kind}-breakdown").get_attribute("href")
        with urllib.request.urlopen(href, timeout=30) as r:
            data = io.BytesIO(r.read())
        got = (pd.read_csv(data, encoding="utf-8-sig") if kind == "csv"
               else pd.read_excel(data, engine="openpyxl"))
        assert list(got.columns) == shown[0]
        assert [[str(a), f"{b:.1f}", f"{c:,}"] for a, b, c in got.itertuples(index=False)] \
            == shown[1:], kind


def _breakdown_rows(br, header: str) -> dict[str, str]:
    """The breakdown table once it shows `header`: {row name: measure cell}."""
    end = time.monotonic() + 30
    while True:
        # read in one script: the table is redrawn as callbacks answer, and a row found
        # before a redraw is stale after it
        rows = br.driver.execute_script(
            "return [...document.querySelectorAll('#explore-breakdown-table tr')].map("
            "tr => [...tr.querySelectorAll('th, td')].map(c => c.innerText.trim()));")
        if rows and rows[0][1] == header:
            return {r[0]: r[1] for r in rows[1:]}
        assert time.monotonic() < end, rows[:1]
        time.sleep(0.3)


def test_explore__median_and_p90_hours_to_close_per_category_last_quarter_through_the_ui(
        served, dash_br):
    """Picked in the breakdown's measure dropdown (category is its default dimension);
    each cell equals quantile_cont over the quarter's tickets closed by asof."""
    con = served["con"]
    _open(dash_br, served["url"] + f"/explore/tickets?from=2026-07-01&to=2026-09-30&asof={ASOF}")
    from pipelines.queries.explore import BREAKDOWN_MEASURES

    for metric, q in (("median_close_hours", 0.5), ("p90_close_hours", 0.9)):
        m = BREAKDOWN_MEASURES[metric]
        dash_br.select_dcc_dropdown("#explore-bm", value=f"{m.name_zh} {m.name_en}")
        _wait_query(dash_br, lambda query, m=metric: query.get("bm") == [m])
        want = con.execute("""
            select coalesce(category, '合计'),
                   quantile_cont(epoch(closed_at - reported_at) / 3600.0, $q)
            from tickets where reported_at >= '2026-07-01' and reported_at < '2026-10-01'
              and closed_at <= $asof
            group by grouping sets ((category), ())""", {"q": q, "asof": ASOF}).fetchall()
        got = _breakdown_rows(dash_br, f"{m.name_zh}（{m.unit}）")
        assert got == {c: f"{v:.1f}" for c, v in want}, metric
    assert dash_br.get_logs() == []
