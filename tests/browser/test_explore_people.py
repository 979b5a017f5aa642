"""The participation, accounts and population explorers in headless Chromium against a
real app process (same server approach as tests/browser/test_explore.py): numbers on
screen equal the test's own SQL, the entries drill-down works, filters go to the URL."""

from __future__ import annotations

import datetime as dt
import time
import urllib.request
from decimal import Decimal
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.browser._serve import screenshot as _screenshot
from tests.browser._serve import serve_demo

pytestmark = pytest.mark.browser

TODAY = dt.date(2026, 11, 23)
ASOF = "2026-11-23T12:00:00"
PERIOD = f"from=2026-01-01&to=2026-11-23&asof={ASOF}"


@pytest.fixture(scope="module")
def served(tmp_path_factory, artifacts_dir):
    with serve_demo(tmp_path_factory.mktemp("explore-people-browser"),
                    artifacts_dir / "explore_people_server.log", "explore-people", years=1,
                    tickets_per_year=5000, today=TODAY) as served:
        yield served


def _text(br, key: str) -> str:
    return br.find_element(f'[data-key="{key}"]').text


def _yuan(d: Decimal) -> str:
    return f"{'-' if d < 0 else ''}¥{abs(d):,.2f}"


def _csv(url: str) -> str:
    with urllib.request.urlopen(url, timeout=20) as r:
        body = r.read()
    assert body.startswith("\ufeff".encode())
    return body.decode("utf-8-sig")


def test_explore_participation__votes_and_silent_compounds_equal_sql(
        served, dash_br, artifacts_dir):
    con = served["con"]
    dash_br.driver.get(served["url"] + f"/explore/participation?{PERIOD}")
    dash_br.wait_for_element("#xp-participation-votes", timeout=20)
    votes = con.execute(
        "select vote_id, voted_owners, eligible_owners, closes_at, meets_turnout, "
        "meets_approval from vote_results where opens_at < date '2026-11-24' "
        "and closes_at >= date '2026-01-01'").fetchall()
    rows = dash_br.find_elements("#xp-participation-votes tbody tr")
    assert len(rows) == len(votes)
    now = dt.datetime.fromisoformat(ASOF)
    for vote_id, voted, eligible, closes_at, turnout, approval in votes:
        assert _text(dash_br, f"{vote_id}.turnout_owners").startswith(
            f"{round(100 * voted / eligible, 1):.1f}%")
        state = "open" if closes_at > now else ("passed" if turnout and approval
                                                  else "failed")
        assert _text(dash_br, f"{vote_id}.state").split()[-1] == state
    _screenshot(dash_br.driver, artifacts_dir / "explore_participation.png")
    # an early period: every compound is silent; the list equals SQL
    dash_br.driver.set_window_size(1600, 1200)
    dash_br.driver.get(served["url"] + "/explore/participation?from=2026-01-01"
                       f"&to=2026-02-28&community=龙塔社区&asof={ASOF}")
    dash_br.wait_for_element("#xp-participation-silent-list", timeout=20)
    compounds = {c for (c,) in con.execute(
        "select compound from residents where community = '龙塔社区' and compound "
        "is not null group by compound").fetchall()}
    acts = {c for (c,) in con.execute(
        "select distinct compound from engagement where occurred_at < date '2026-03-01'"
        " and occurred_at >= date '2026-01-01'").fetchall()}
    items = [li.text.split("（")[0] for li in
             dash_br.find_elements("#xp-participation-silent-list li")]
    assert set(items) == compounds - acts
    # a filter through the dropdown writes the URL (matter=major)
    dash_br.select_dcc_dropdown("#xp-participation-f-matter", index=1)
    end = time.monotonic() + 15
    while "matter" not in parse_qs(urlsplit(dash_br.driver.current_url).query):
        assert time.monotonic() < end
        time.sleep(0.2)
    # CSV of the votes under the URL's filters
    body = _csv(served["url"] + f"/download/explore/votes.csv?{PERIOD}&matter=major")
    n_major = sum(1 for v in con.execute(
        "select 1 from votes where matter = 'major' and opens_at < date '2026-11-24' "
        "and closes_at >= date '2026-01-01'").fetchall())
    assert len(body.strip().splitlines()) == n_major + 1
    # unknown compound: a clear empty state
    dash_br.driver.get(served["url"] + f"/explore/participation?compound=不存在&{PERIOD}")
    dash_br.wait_for_element("#xp-participation-nomatch", timeout=20)
    assert dash_br.get_logs() == []


def test_explore_accounts__statement_and_entries_drilldown(served, dash_br,
                                                           artifacts_dir):
    con = served["con"]
    compound = "金桂苑"
    dash_br.driver.get(served["url"] + f"/explore/accounts?{PERIOD}&compound={compound}")
    dash_br.wait_for_element("#xp-accounts-statements .ag-row", timeout=20)
    want = con.execute(
        "select month, income_yuan, expense_yuan, closing_yuan from ledger_monthly "
        "where compound = ? and month between date '2026-01-01' and date '2026-11-23' "
        "order by month", [compound]).fetchall()
    cells = dash_br.driver.execute_script(
        "return Array.from(document.querySelectorAll('#xp-accounts-statements "
        ".ag-center-cols-container .ag-row')).map(r => [r.getAttribute('row-id'),"
        " r.querySelector('[col-id=income]').innerText,"
        " r.querySelector('[col-id=closing]').innerText]);")
    got = {rid: (inc, clo) for rid, inc, clo in cells}
    for month, income, _expense, closing in want:
        key = f"{compound}|{month:%Y-%m}"
        if key in got:
            assert got[key] == (_yuan(income), _yuan(closing))
    assert len(got) >= min(len(want), 5)
    # the pinned total row: the compound's statement over the period, from SQL
    total = dash_br.driver.execute_script(
        "return ['income', 'expense', 'closing'].map(c => document.querySelector("
        "'#xp-accounts-statements .ag-floating-bottom [col-id=' + c + ']').innerText);")
    assert total == [_yuan(sum(w[1] for w in want)), _yuan(sum(w[2] for w in want)),
                     _yuan(want[-1][3])]
    # click March's row: its entries appear and add up to the statement
    dash_br.driver.execute_script(
        "document.querySelector(\"#xp-accounts-statements .ag-center-cols-container "
        "[row-id='%s|2026-03'] [col-id=income]\").click();" % compound)
    dash_br.wait_for_text_to_equal("#xp-accounts-entries-title", f"{compound} · 2026-03",
                                   timeout=15)
    entries = con.execute(
        "select entry_id, direction, amount_yuan from ledger_entries where compound = ? "
        "and booked_on >= date '2026-03-01' and booked_on < date '2026-04-01'",
        [compound]).fetchall()
    assert len(dash_br.find_elements("#xp-accounts-entry-table tbody tr")) == len(entries)
    for entry_id, direction, amount in entries:
        assert _text(dash_br, f"{entry_id}.{direction}") == _yuan(amount)
    march = [w for w in want if w[0] == dt.date(2026, 3, 1)][0]
    assert dash_br.find_element("#xp-accounts-entries-income").text == _yuan(march[1])
    # clicking a bar (last month) drills down as well, once scrolled to and drawn
    dash_br.driver.execute_script(
        "document.querySelector('#explore-panel-bars').scrollIntoView({block: 'start'})")
    dash_br.wait_for_element("#xp-accounts-bars .js-plotly-plot .point path", timeout=20)
    bar = dash_br.find_elements("#xp-accounts-bars .js-plotly-plot .point path")[0]
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(dash_br.driver).move_to_element(bar).click().perform()
    dash_br.wait_for_text_to_equal("#xp-accounts-entries-title", f"{compound} · 2026-11",
                                   timeout=15)
    _screenshot(dash_br.driver, artifacts_dir / "explore_accounts.png")
    body = _csv(served["url"] + f"/download/explore/ledger_statement.csv?{PERIOD}"
                f"&compound={quote(compound)}")
    assert f"{want[0][1]:.2f}" in body.splitlines()[1]
    assert dash_br.get_logs() == []


_ACCOUNTS = """
const box = s => { const e = document.querySelector(s);
                   if (!e) return null;
                   const r = e.getBoundingClientRect();
                   return [Math.round(r.top + window.scrollY), Math.round(r.height)]; };
const grid = document.querySelector('#xp-accounts-statements .ag-body-viewport');
return {plotly: typeof window.Plotly !== 'undefined',
        graphs: document.querySelectorAll('.js-plotly-plot').length,
        bars: box('#xp-accounts-bars-slot'), room: box('#explore-panel-bars'),
        drawn: document.querySelector('#xp-accounts-bars .ytick text') !== null &&
               document.querySelector('#xp-accounts-categories .ytick text') !== null,
        gridInnerScroll: grid ? grid.scrollHeight - grid.clientHeight : null};
"""


def _until(br, check, timeout: float = 30) -> dict:
    """_ACCOUNTS's result once `check(result)` holds; fails the test after `timeout`."""
    end = time.monotonic() + timeout
    while not check(value := br.driver.execute_script(_ACCOUNTS)):
        assert time.monotonic() < end, value
        time.sleep(0.2)
    return value


def test_accounts_charts_are_drawn_when_scrolled_to_in_room_kept_for_them(served,
                                                                          dash_br):
    """The statements fill the first screen, a whole page of them with no scrolling
    inside the grid; the two charts below are drawn, and plotly loaded, only when they
    near the window (a page load spent a third of its main thread on them), in the room
    kept for them, so nothing moves when they arrive."""
    driver = dash_br.driver
    driver.set_window_size(1366, 768)
    driver.get(served["url"] + f"/explore/accounts?{PERIOD}")
    _until(dash_br, lambda v: v["gridInnerScroll"] is not None)
    time.sleep(1)  # what a load would mount has had its time
    before = _until(dash_br, lambda v: v["gridInnerScroll"] is not None)
    assert before["gridInnerScroll"] == 0, before
    assert (before["plotly"], before["graphs"]) == (False, 0), before
    driver.execute_script(
        "document.querySelector('#explore-panel-bars').scrollIntoView({block: 'start'})")
    after = _until(dash_br, lambda v: v["drawn"])
    assert after["plotly"] and after["graphs"] == 2, after
    # the chart's place did not move and its panel kept the height it was given
    assert (after["bars"][0], after["room"]) == (before["bars"][0], before["room"])
    assert dash_br.get_logs() == []


def test_explore_population__suppressed_portrait(served, dash_br, artifacts_dir):
    con = served["con"]
    dash_br.driver.get(served["url"] + f"/explore/population?{PERIOD}")
    dash_br.wait_for_element("#xp-population-table", timeout=20)
    residents = con.execute("select community, count(*) from residents group by 1"
                            ).fetchall()
    for community, n in residents:
        assert _text(dash_br, f"{community}.residents") == str(n)
    assert _text(dash_br, "合计.residents") == str(sum(n for _, n in residents))
    small = dash_br.find_elements("#xp-population-table td.xp-hidden")
    assert any(td.text == "<5" for td in small)
    tekun = dict(con.execute(
        "select community || '/' || grid, count(*) from residents where "
        "list_contains(key_groups, 'tekun') group by 1").fetchall())
    for key, n in tekun.items():
        if 1 <= n < 5:
            assert _text(dash_br, f"{key}.kg:tekun") == "<5"
    body = _csv(served["url"] + f"/download/explore/population.csv?{PERIOD}")
    assert "<5" in body
    _screenshot(dash_br.driver, artifacts_dir / "explore_population.png")
    assert dash_br.get_logs() == []


_LABEL_BOXES = """
const plot = document.querySelector(arguments[0] + ' .js-plotly-plot');
const box = plot.getBoundingClientRect();
return [...plot.querySelectorAll(arguments[1])].map(t => {
  const r = t.getBoundingClientRect();
  return {text: t.textContent, top: r.top, bottom: r.bottom, left: r.left,
          right: r.right, plotLeft: box.left, plotTop: box.top};
});
"""


def _readable(boxes: list[dict]) -> None:
    """Every label whole inside its chart and no two overlapping (tops ascending)."""
    for b in boxes:
        assert b["left"] >= b["plotLeft"] and b["top"] >= b["plotTop"], b
        assert "…" not in b["text"] and "..." not in b["text"], b
    for a, b in zip(boxes, boxes[1:]):
        assert a["bottom"] <= b["top"] + 0.5, (a, b)


def test_compound_axes_are_readable_at_30_compounds_worst_first(served, dash_br):
    con = served["con"]
    dash_br.driver.set_window_size(1366, 900)
    # the accounts' last month: one horizontal row per compound, worst balance on top
    dash_br.driver.get(served["url"] + f"/explore/accounts?{PERIOD}")
    dash_br.wait_for_element("#xp-accounts-statements .ag-row", timeout=20)
    dash_br.driver.execute_script(
        "document.querySelector('#explore-panel-bars').scrollIntoView({block: 'start'})")
    dash_br.wait_for_element("#xp-accounts-bars .ytick text", timeout=20)
    want = [c for c, in con.execute(
        "select compound from ledger_monthly where month = date '2026-11-01' "
        "order by income_yuan - expense_yuan, compound").fetchall()]
    assert len(want) == 30
    boxes = dash_br.driver.execute_script(_LABEL_BOXES, "#xp-accounts-bars", ".ytick text")
    boxes.sort(key=lambda b: b["top"])
    assert [b["text"] for b in boxes] == want
    _readable(boxes)
    # participation by compound and month: 30 rows, the running month marked to date
    dash_br.driver.get(served["url"] + f"/explore/participation?{PERIOD}")
    graph = "#explore-panel-heatmap"
    dash_br.wait_for_element(graph + " .ytick text", timeout=20)
    rows = dash_br.driver.execute_script(_LABEL_BOXES, graph, ".ytick text")
    assert len(rows) == 30
    _readable(sorted(rows, key=lambda b: b["top"]))
    months = [b["text"] for b in dash_br.driver.execute_script(
        _LABEL_BOXES, graph, ".xtick text")]
    assert months[-1] == "2026-11（至今）" and all("至今" not in m for m in months[:-1])
    assert dash_br.get_logs() == []
