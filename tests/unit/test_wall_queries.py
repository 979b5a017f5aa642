"""Wall query layer and page helpers without a browser: figures against independent SQL
at a pinned clock, small-count suppression, "no data yet", playlist parsing, catalogue.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.queries import wall as q
from pipelines.settings import Settings
from tests.factories import TEST_SECRET

NOW = datetime(2026, 11, 23, 10, 30)
K = 5


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """The demo sub-district (small), loaded by the real loaders, clock at 10:00."""
    from pipelines.bootstrap import load_demo_inputs
    from pipelines.demo import write_demo

    tmp = tmp_path_factory.mktemp("wallq")
    settings = Settings(db_path=tmp / "w.duckdb", demo_dir=tmp / "demo",
                        secret=TEST_SECRET, secret_file=tmp / "key", calendar_file=None)
    files = write_demo(tmp / "demo", years=1, tickets_per_year=20_000,
                       today=NOW.date(), clock=NOW.time().replace(minute=0))
    load_demo_inputs(settings, files)
    return settings.db_path


@pytest.fixture
def con(warehouse):
    c = duckdb.connect(str(warehouse), read_only=True)
    yield c
    c.close()


def _one(con, sql, **params):
    return con.execute(sql, params).fetchone()


def _cutoff(con):
    """The data cut-off: the newest ticket at NOW (the demo's last report is before it)."""
    return _one(con, "select max(reported_at) from tickets where reported_at <= $n", n=NOW)[0]


def test_wall_view_data__levels_equal_independent_sql(con):
    """Figures run to the data cut-off, and last year to the same time of day (issue 14:
    today counted to 08:59 was compared with last year to the wall clock's 15:43)."""
    d = q.wall_view_data(con, "levels", now=NOW)
    cut = _cutoff(con)
    assert cut < NOW and d["cutoff"] == cut
    for row in d["levels"]:
        today, month, open_now = _one(
            con,
            "select count(*) filter (where reported_at::date = $now::date),"
            " count(*) filter (where year(reported_at) = year($now)"
            "   and month(reported_at) = month($now)),"
            " count(*) filter (where closed_at is null or closed_at > $now)"
            " from tickets where level = $lv and reported_at <= $now",
            now=cut, lv=row["level"],
        )
        assert (row["today_count"], row["month_count"], row["open_count"]) == (
            today, month, open_now)
    ly = cut.replace(year=2025)
    assert sum(r["ly_today_count"] for r in d["levels"]) == _one(
        con, "select count(*) from tickets where reported_at::date = $d"
        " and reported_at <= $ly", d=ly.date(), ly=ly)[0]
    assert d["serious_count"] == _one(
        con, "select count(*) from tickets where level in (3, 4) and reported_at <= $n"
        " and (closed_at is null or closed_at > $n)", n=cut)[0]
    assert f"{cut:%H:%M}" in d["windows"]["today"]["zh"]
    # "最新在前": the open level-3/4 list is newest report first, whatever the level
    shown = [r["ticket_id"] for r in d["serious"]]
    assert shown == [r[0] for r in con.execute(
        "select ticket_id from tickets where level >= 3 and reported_at <= $n"
        " and (closed_at is null or closed_at > $n)"
        " order by reported_at desc, level desc, ticket_id limit 8", {"n": cut}).fetchall()]


def test_wall_view_data__closure_equal_independent_sql(con):
    d = q.wall_view_data(con, "closure", now=NOW, settings=Settings(response_hours=6))
    cut = _cutoff(con)
    on_time, closed, overdue, reported = _one(
        con,
        "select sum((closed_at <= $n and closed_at <= deadline_at)::int),"
        " sum((closed_at <= $n)::int),"
        " sum((coalesce(closed_at > $n, true) and deadline_at < $n)::int), count(*)"
        " from tickets where reported_at >= date_trunc('month', $n::timestamp)"
        " and reported_at <= $n", n=cut)
    assert d["total"]["on_time_pct"] == pytest.approx(
        round(100 * on_time / (closed + overdue), 1))
    assert d["total"]["closure_pct"] == pytest.approx(round(100 * closed / reported, 1))
    assert d["overdue_total"] == _one(
        con, "select count(*) from tickets where reported_at <= $n and deadline_at < $n"
        " and (closed_at is null or closed_at > $n)", n=cut)[0]
    # one meaning of 超期: the level table's overdue adds up to the headline
    assert sum(r["overdue_open_count"] for r in d["by_level"]) == d["overdue_total"]
    # "最近超期在前": what became overdue most recently is on top, not the oldest
    assert [r["ticket_id"] for r in d["overdue"]] == [r[0] for r in con.execute(
        "select ticket_id from tickets where reported_at <= $n and deadline_at < $n"
        " and (closed_at is null or closed_at > $n)"
        " order by deadline_at desc, level desc, ticket_id limit 10", {"n": cut}).fetchall()]
    assert d["trend"][-1]["is_partial"] and not any(r["is_partial"] for r in d["trend"][:-1])
    minutes = [r["overdue_minutes"] for r in d["overdue"]]
    assert minutes == sorted(minutes)
    assert len(d["trend"]) == 12


def _verdict(value, good, amber, red):
    """The palette's rule, written out here: at or beyond red is red, at or beyond amber
    is amber, else within target (ok)."""
    if value is None:
        return ""
    worse = (lambda a, b: a <= b) if good == "up" else (lambda a, b: a >= b)
    return "red" if worse(value, red) else "amber" if worse(value, amber) else "ok"


def test_alarm_data__figures_and_colours_equal_independent_sql(con):
    """Each strip figure at the data cut-off, coloured by its metric's declared
    thresholds; the ticker is the newest reports of the last week, newest first."""
    from pipelines.metrics import BY_ID

    d = q.alarm_data(con, q.Clock.at(NOW), settings=Settings(response_hours=6),
                     tables=q.existing_tables(con))
    cut = _cutoff(con)
    assert d["cutoff"] == cut
    serious, overdue = _one(
        con, "select count(*) filter (where level >= 3), count(*) filter (where"
        " deadline_at < $n) from tickets where reported_at <= $n"
        " and (closed_at is null or closed_at > $n)", n=cut)
    today = _one(con, "select count(*) from tickets where reported_at::date = $n::date"
                 " and reported_at <= $n", n=cut)[0]
    late, reported = _one(
        con, "select count(*) filter (where (responded_at <= $n and responded_at >"
        " reported_at + interval 6 hour) or ((responded_at is null or responded_at > $n)"
        " and $n > reported_at + interval 6 hour)), count(*) from tickets"
        " where reported_at >= date_trunc('month', $n::timestamp) and reported_at <= $n",
        n=cut)
    active = _one(con, "select count(*) from warnings where resolved_at is null")[0]
    expected = {"serious_open": serious, "overdue_open": overdue, "reported": today,
                "response_timeout_pct": round(100 * late / reported, 1),
                "warnings_active": active}
    items = {a["id"]: a for a in d["items"]}
    assert list(items) == list(q.ALARMS)
    for key, value in expected.items():
        assert items[key]["value"] == pytest.approx(value), key
        m = BY_ID[key]
        want = _verdict(value, m.good, m.amber, m.red) if m.amber is not None else ""
        assert items[key]["verdict"] == want, key
    # amber and red both occur on the demo, so a verdict stuck on one colour fails
    assert {"amber", "red"} <= {a["verdict"] for a in d["items"]}
    times = [r["reported_at"] for r in d["ticker"]]
    assert times == sorted(times, reverse=True) and all(t <= cut for t in times)
    assert times and times[-1] >= cut - timedelta(days=q.TICKER_DAYS)


def test_alarm_data__a_red_crossing_in_the_last_hour_pulses_once_it_is_old_it_does_not(
        con):
    """Overdue open crosses red (50 by default) only when it is new: with red at the
    current count it pulses if an hour earlier the count was lower; with a count that
    was red an hour ago too, it stays still."""
    from dataclasses import replace

    from pipelines.metrics import BY_ID

    tables = q.existing_tables(con)
    base = q.alarm_data(con, q.Clock.at(NOW), settings=Settings(), tables=tables)
    cut = base["cutoff"]
    now_n, before_n = _one(
        con, "select count(*) filter (where reported_at <= $n and deadline_at < $n"
        " and (closed_at is null or closed_at > $n)), count(*) filter (where reported_at"
        " <= $b and deadline_at < $b and (closed_at is null or closed_at > $b))"
        " from tickets", n=cut, b=cut - timedelta(hours=1))
    metrics = dict(BY_ID)
    metrics["overdue_open"] = replace(BY_ID["overdue_open"], amber=1, red=before_n + 0.5)
    item = next(a for a in q.alarm_data(con, q.Clock.at(NOW), settings=Settings(),
                                        tables=tables, metrics=metrics)["items"]
                if a["id"] == "overdue_open")
    assert item["verdict"] == ("red" if now_n > before_n else "amber")
    assert item["pulse"] is (now_n > before_n)
    metrics["overdue_open"] = replace(BY_ID["overdue_open"], amber=1, red=1)
    item = next(a for a in q.alarm_data(con, q.Clock.at(NOW), settings=Settings(),
                                        tables=tables, metrics=metrics)["items"]
                if a["id"] == "overdue_open")
    assert (item["verdict"], item["pulse"]) == ("red", False)


def test_wall_view_data__today_pins_the_clock(con):
    """`today` alone computes the view at the end of that day."""
    d = q.wall_view_data(con, "levels", today=NOW.date() - timedelta(days=1))
    assert d["now"] == datetime.combine(NOW.date() - timedelta(days=1),
                                        datetime.max.time().replace(microsecond=0))


def test_wall_view_data__community_filter(con):
    d = q.wall_view_data(con, "levels", now=NOW, filters={"community": "龙塔社区",
                                                           "evil": "x"})
    assert d["filters"] == {"community": "龙塔社区"}
    assert {r["community"] for r in d["communities"]} == {"龙塔社区"}


def test_population__suppresses_small_counts_and_their_complements(con):
    d = q.wall_view_data(con, "population", now=NOW, settings=Settings(small_count=K))
    raw = {
        (c, g): n
        for c, g, n in con.execute(
            "select community, g, count(*) from (select community,"
            " unnest(key_groups) as g from residents) group by all").fetchall()
    }
    smalls = 0
    for row in d["communities"]:
        hidden = 0
        for group in d["groups"]:
            cell = row["kg:" + group]
            n = raw.get((row["community"], group), 0)
            if 1 <= n < K:
                assert cell == {"value": None, "suppressed": "small"}
                smalls += 1
            elif cell["suppressed"] is None:
                assert cell["value"] == n
        for measure in ("residents", "households", "registered", "non_registered"):
            cell = row[measure]
            assert cell["value"] is None or not 1 <= cell["value"] < K
    assert smalls > 0
    for group in d["groups"]:
        hidden = sum(r["kg:" + group]["suppressed"] is not None for r in d["communities"])
        assert hidden != 1, group  # one hidden cell = total minus the visible ones


def test_population__single_community_total_is_suppressed_too(con):
    d = q.wall_view_data(con, "population", now=NOW, filters={"community": "龙塔社区"},
                         settings=Settings(small_count=K))
    for measure, cell in d["totals"].items():
        assert cell["value"] is None or not 1 <= cell["value"] < K, measure


def test_views__missing_tables_mean_no_data_yet(con):
    for view in q.VIEWS:
        d = q.wall_view_data(con, view, now=NOW, tables=set())
        assert d["available"] is False and d["missing"]


def test_wall_view_data__unknown_view_raises(con):
    with pytest.raises(ValueError):
        q.wall_view_data(con, "nope", now=NOW)


def test_status_from__states_by_age_of_the_data():
    from pipelines import freshness

    rows = [{"source": "tickets", "newest_load_at": NOW,
             "newest_record_at": NOW - timedelta(hours=30)},
            {"source": "ledger", "newest_load_at": NOW - timedelta(days=80),
             "newest_record_at": None}]
    verdicts = freshness.judge(rows, {}, Settings(), NOW)
    s = q.status_from(verdicts, [2027])
    states = {b["source"]: b["state"] for b in s["badges"]}
    assert states == {"tickets": "late", "population": "none",
                      "participation": "none", "ledger": "missed"}
    assert s["is_stale"] and s["fallback_years"] == [2027]


def test_status_from__a_first_load_still_running_is_no_error():
    """A source whose first load is running has no data and is not failing: the top bar
    raised ValueError (its state "none" was not in the badge order) until it finished."""
    from pipelines import freshness, journal

    running = journal.Attempt("ballots", NOW, None, "running")
    attempts = {"ballots": journal.SourceAttempts("ballots", running, None, 0, None)}
    rows = [{"source": "votes", "newest_load_at": NOW, "newest_record_at": NOW}]
    s = q.status_from(freshness.judge(rows, attempts, Settings(), NOW), [])
    badge = {b["source"]: b for b in s["badges"]}["participation"]
    assert (badge["state"], badge["as_of"]) == ("ok", NOW)  # the loaded sibling's time


def test_parse_playlist__entries_filters_and_defaults():
    from dashboards._wall_playlist import parse_playlist

    assert parse_playlist("levels:community=龙塔社区,closure,bogus") == [
        {"view": "levels", "filters": {"community": "龙塔社区"}},
        {"view": "closure", "filters": {}},
    ]
    assert parse_playlist("closure:drop=table;community=x") == [
        {"view": "closure", "filters": {"community": "x"}}]
    assert [e["view"] for e in parse_playlist(None)] == list(q.VIEWS)


def test_i18n__every_key_used_exists_in_both_languages():
    from dashboards import _i18n

    root = Path(__file__).resolve().parents[2] / "dashboards"
    used = set()
    for name in ("wall.py", "_wall_views.py"):
        used |= set(re.findall(r't\(\s*"([a-z_]+\.[a-z_]+)"', (root / name).read_text()))
        used |= {f"view.{v}" for v in q.VIEWS} | {f"source.{s}" for s in q.SOURCE_GROUPS}
    missing = used - _i18n.MESSAGES.keys()
    assert not missing
    for zh, en in _i18n.MESSAGES.values():
        assert zh and (en or zh in ("件", "人", "户"))


def test_sql__every_wall_query_uses_named_parameters_only():
    sql_dir = Path(q.__file__).resolve().parents[1] / "sql" / "queries"
    paths = sorted(sql_dir.glob("wall__*.sql"))
    assert len(paths) >= 10, "the wall's queries are not where this test looks"
    for path in paths:
        # comments may say anything; the statement itself binds $name parameters only
        text = re.sub(r"--[^\n]*", "", path.read_text())
        assert "?" not in text, path.name  # positional parameter
        # Python-formatted placeholders: {name}, %s, %(name)s
        assert not re.search(r"\{\w*\}|%s|%\(\w+\)s", text), path.name


def test_participation__running_month_stands_apart_from_whole_months(con):
    """Issue 14: on the 3rd, '本月参与率 6.5%' beside '2026-04 为 17.9%' read as a
    collapse. The headline and each compound's first → latest are whole months."""
    d = q.wall_view_data(con, "participation", now=NOW)
    this_month = NOW.date().replace(day=1)
    assert d["running"]["month"] == this_month and d["running"]["is_partial"]
    assert d["latest"]["month"] < this_month and not d["latest"]["is_partial"]
    assert d["first"]["month"] < d["latest"]["month"]
    assert "本月至今 23 天" in d["window"]["zh"]
    assert [r["is_partial"] for r in d["trend"]].count(True) == 1


def test_accounts__no_closing_balance_for_a_running_month(con):
    """Issue 14: '期末结余合计' was shown for a month still running and unpublished."""
    for now in (NOW, datetime(2026, 11, 30, 23, 59)):
        d = q.wall_view_data(con, "accounts", now=now)
        assert d["month"] == NOW.date().replace(day=1) and not d["is_final"]
        assert d["net_yuan"] == d["income_yuan"] - d["expense_yuan"]
    from dashboards._wall_views import accounts_view

    text = str(accounts_view(d, "zh"))
    assert "期末结余合计" not in text and "收支差（未公布）" in text


def test_accounts_chart__values_in_wan_running_month_marked_so_far_year_on_axis(con):
    """Issue 17: the 12-month money chart prints every month's income and expense in 万元
    (half up from the exact sum, against SQL here), marks the month still running 至今
    and draws it apart, and names the year on its month axis."""
    from decimal import ROUND_HALF_UP, Decimal

    from dashboards._wall_views import accounts_view

    d = q.wall_view_data(con, "accounts", now=NOW)
    chart = next(p for p in _walk(accounts_view(d, "zh")) if "pair-chart" in _cls(p))
    cols = [c for c in chart.children if "cc-col" in _cls(c)]
    assert len(cols) == 12
    sums = dict(((m, kind), v) for m, kind, v in con.execute(
        "select month, 'income', sum(income_yuan) from ledger_monthly group by month union all"
        " select month, 'expense', sum(expense_yuan) from ledger_monthly group by month"
    ).fetchall())
    for col in cols:
        values = {getattr(p, "data-fig"): p.children for p in _walk(col)
                  if "pp-v" in _cls(p).split()}
        assert len(values) == 2
        for key, text in values.items():
            month, kind = key.split(".")[1], key.split(".")[2]
            exact = sums[(datetime.strptime(month, "%Y-%m").date(), kind)]
            wan = (exact / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            assert text == f"{wan:,.2f}", key
    partial = [c for c in cols if getattr(c, "data-partial") == "true"]
    assert len(partial) == 1 and partial[0] is cols[-1] and "pp-partial" in _cls(cols[-1])
    labels = [p.children for c in cols for p in _walk(c) if "cc-label" in _cls(p)]
    assert labels[-1] == f"{NOW.month}月 至今"
    assert any(re.fullmatch(r"\d\d年\d+月", x) for x in labels)  # the year on the axis


def _walk(node):
    """Every Dash component under `node` (a component or a list of them), itself first."""
    if isinstance(node, list):
        for k in node:
            yield from _walk(k)
        return
    if node is None or isinstance(node, (str, int, float)):
        return
    yield node
    yield from _walk(getattr(node, "children", None))


def _cls(node) -> str:
    return getattr(node, "className", None) or ""


def test_parse_screens__each_screen_its_playlist_and_the_caps_hold():
    from dashboards._wall_playlist import MAX_SCREENS, bounded_config, parse_screens

    entries = parse_screens("levels|closure,nonsense,map:metric=overdue_open|accounts")
    assert [(e["view"], e["screen"]) for e in entries] == [
        ("levels", 0), ("closure", 0), ("map", 1), ("accounts", 1)]
    assert entries[2]["filters"] == {"metric": "overdue_open"}
    many = parse_screens(",".join(["levels|closure"] * 30))
    assert max(e["screen"] for e in many) == MAX_SCREENS - 1 and len(many) == 2 * MAX_SCREENS
    # a browser sending back screens outside the caps gets them dropped
    config, cut = bounded_config({"lang": "zh", "playlist": [
        {"view": "levels", "filters": {}, "screen": 0},
        {"view": "map", "filters": {}, "screen": 99}]})
    assert [e.get("screen") for e in config["playlist"]] == [None, None]
    assert any("screen" in c for c in cut)


def _verdicts(node, found: dict) -> dict:
    """data-fig -> data-verdict of every judged figure in a rendered view."""
    if isinstance(node, list | tuple):
        for child in node:
            _verdicts(child, found)
        return found
    if not hasattr(node, "to_plotly_json"):
        return found
    props = node.to_plotly_json()["props"]
    children = props.get("children")
    if "data-verdict" in props:
        for child in children if isinstance(children, list) else [children]:
            key = child.to_plotly_json()["props"].get("data-fig") if hasattr(
                child, "to_plotly_json") else None
            if key:
                found[key] = props["data-verdict"]
    return _verdicts(children if isinstance(children, list) else [children], found)


def test_closure_view__a_running_month_s_closure_is_not_coloured(con):
    from dashboards._wall_views import closure_view

    d = q.wall_view_data(con, "closure", now=NOW, settings=Settings(response_hours=6))
    assert d["running"]  # 23 November: the month runs
    shown = _verdicts(closure_view(d, "zh"), {})
    closure_keys = [k for k in shown if k.endswith("closure_pct")]
    assert len(closure_keys) == 5  # the month and its four levels
    assert all(shown[k] == "info" for k in closure_keys)
    assert shown["on_time_pct"] in ("ok", "amber", "red")  # still judged
    # the same figures of a complete month are judged
    done = _verdicts(closure_view({**d, "running": False}, "zh"), {})
    judged = [done[k] for k in closure_keys if k == "closure_pct" or d["by_level"][
        int(k.split(".")[1]) - 1]["closure_pct"] is not None]
    assert judged and all(v in ("ok", "amber", "red") for v in judged)


def _texts(node) -> list[str]:
    """Every text of a rendered view, in order."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list | tuple):
        return [t for child in node for t in _texts(child)]
    if not hasattr(node, "to_plotly_json"):
        return []
    return _texts(node.to_plotly_json()["props"].get("children"))


def test_participation_view__the_change_names_the_month_it_is_measured_against(con):
    """'59.7% ＝0.0个百分点' said neither against what nor which months; the change now
    reads '较10月' beside the newest whole month's rate (the headline names its month)."""
    from dashboards._wall_views import participation_view

    d = q.wall_view_data(con, "participation", now=NOW, settings=Settings())
    whole = [r for r in d["trend"] if not r.get("is_partial")]
    newest, before = whole[-1], whole[-2]
    texts = _texts(participation_view(d, "zh"))
    at = texts.index(f"较{before['month'].month}月")
    points = newest["participation_pct"] - before["participation_pct"]
    assert texts[at + 1:at + 3] == [
        "▲" if points > 0 else "▼" if points < 0 else "＝", f"{abs(points):.1f}个百分点"]
