"""Anomaly warnings on a hand-made series: a known surge fires, a holiday dip does not
(nor does the normal week after it), and a make-up working Saturday is judged as the
working day it is, not as a weekend.

One cell (龙塔社区, 物业维修) reports 9 or 11 tickets on working days, 1 or 3 on weekends
and 1 on public holidays; a second cell (城市管理) reports half as many and never surges.
Days follow the official 2025 calendar (National Day: 10-01..10-08 off, Sunday 09-28
and Saturday 10-11 worked).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines import warehouse, workdays
from pipelines import warnings_engine as we
from pipelines.warnings_rules import load_config

CELL = ("龙塔社区", "物业维修")
OTHER = ("龙塔社区", "城市管理")


@pytest.fixture
def con(settings):
    c = duckdb.connect()
    warehouse.migrate(c)
    workdays.refresh_calendar(c, settings, 2025, 2025)
    yield c
    c.close()


def usual(con, day: dt.date) -> int:
    """The series' count for a day: 9/11 on working days, 1/3 on weekends, 1 on holidays."""
    ((is_workday, note),) = con.execute(
        "select is_workday, coalesce(note, '') from dim_calendar where day = $d",
        {"d": day}).fetchall()
    odd = day.toordinal() % 2
    if is_workday:
        return 9 + 2 * odd
    return 1 if note else 1 + 2 * odd


def add_series(con, cell, last: dt.date, days: int = 70, surge: float = 1.0,
               surge_from: dt.date | None = None, scale: float = 1.0) -> None:
    """Tickets of `cell` for `days` days up to `last`, spread evenly over each day (full
    days: the last at 23:59)."""
    rows = []
    for back in range(days):
        day = last - dt.timedelta(days=back)
        n = usual(con, day) * scale
        if surge_from and day >= surge_from:
            n *= surge
        for i in range(round(n)):
            step = dt.timedelta(minutes=1440 // max(round(n), 1))
            at = dt.datetime.combine(day, dt.time(23, 59)) - i * step
            rows.append((f"{cell[1]}-{day:%Y%m%d}-{i}", at, cell[0], cell[1]))
    con.executemany(
        "insert into tickets (ticket_id, reported_at, level, category, community, grid, "
        "row_hash, load_id) values ($1, $2, 1, $4, $3, '龙塔社区第1网格', 0, 0)", rows)


def anomalies(con, settings) -> list[tuple]:
    found = we.anomaly_warnings(con, load_config(settings.warnings_file))
    return sorted((w["rule_id"], w["category"], w["grid"]) for w in found)


def test_anomaly__a_quadrupled_week_is_one_warning_for_its_cell_only(con, settings):
    last = dt.date(2025, 11, 19)  # a Wednesday, baseline clear of National Day
    add_series(con, CELL, last, surge=4.0, surge_from=last - dt.timedelta(days=6))
    add_series(con, OTHER, last, scale=0.5)
    found = we.anomaly_warnings(con, load_config(settings.warnings_file))
    cells = {(w["rule_id"], w["category"], w["grid"]) for w in found}
    # today is quadrupled too, but the week holds it: one surge, one warning per cell
    assert {c for c in cells if c[2] is None} == {("surge_week", "物业维修", None)}
    assert len({w["warning_key"] for w in found}) == len(found)
    assert not [c for c in cells if c[1] == "城市管理"]
    week = next(w for w in found if w["rule_id"] == "surge_week" and w["grid"] is None)
    assert week["observed"] > week["threshold"] >= week["usual_high"] > week["expected"]
    assert week["severity"] == "critical"  # at least three times what was expected
    assert "近7天" in week["title"] and "通常" in week["title"]


def test_anomaly__the_same_series_without_a_surge_fires_nothing(con, settings):
    last = dt.date(2025, 11, 19)
    add_series(con, CELL, last)
    add_series(con, OTHER, last, scale=0.5)
    assert anomalies(con, settings) == []


@pytest.mark.parametrize("last", [dt.date(2025, 10, 5), dt.date(2025, 10, 15)])
def test_anomaly__a_holiday_dip_and_the_week_after_it_do_not_fire(con, settings, last):
    add_series(con, CELL, last)
    add_series(con, OTHER, last, scale=0.5)
    assert anomalies(con, settings) == []


def test_anomaly__a_make_up_saturday_is_a_working_day(con, settings):
    # 2025-10-11 is a Saturday worked in exchange for National Day: 9 or 11 reports is
    # an ordinary working day, although a weekend usually sees 1 to 3.
    last = dt.date(2025, 10, 11)
    add_series(con, CELL, last)
    assert usual(con, last) >= 9
    assert anomalies(con, settings) == []


@pytest.mark.parametrize(("by_noon", "fires"), [(5, False), (16, True)])
def test_anomaly__a_partial_cut_off_day_is_judged_on_the_hours_it_has_seen(
        con, settings, by_noon, fires):
    # The cut-off is at noon, when a working day has usually seen half its 10 reports:
    # 5 is ordinary; 16 (more than a whole day's) is a surge. The half day's 99.98%
    # quantile is 14 (13 before the rate's error was counted as a trimmed mean's); a
    # whole day's is far above 16.
    last = dt.date(2025, 11, 19)
    add_series(con, CELL, last - dt.timedelta(days=1), days=69)
    for i in range(by_noon):
        con.execute("insert into tickets (ticket_id, reported_at, level, category, "
                    "community, row_hash, load_id) values ($1, $2, 1, '物业维修', "
                    "'龙塔社区', 0, 0)", [f"N{i}", dt.datetime(2025, 11, 19, 12, 0)])
    found = anomalies(con, settings)
    assert ([r for r, *_ in found if r == "surge_day"] == ["surge_day"]) == fires


# The detector's statistics without importing scipy.stats (about 1 s of CPU on every
# load): the same quantiles and trimmed means, value for value, over counts from none
# to tens of thousands and vanishing to large over-dispersion.
@pytest.mark.parametrize("q", [0.0001, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999])
def test_anomaly__quantiles_equal_scipy_stats(q):
    import numpy as np
    from scipy import stats

    from pipelines import warnings_anomalies as wa

    rng = np.random.default_rng(20261203)
    expected = np.concatenate([[0, 1e-12, 1e-6, 0.01, 0.5, 1, 2, 3, 10, 100, 1e3, 4e4],
                               rng.gamma(0.5, 50, 4000), 10.0 ** rng.uniform(-15, 5, 4000)])
    variance = expected * np.concatenate([[1, 1e12, 1, 1e6, 1, 2, 1, 5, 1, 30, 1, 2],
                                          rng.uniform(1, 20, 8000)])
    extra = variance - expected
    over = extra > 1e-9 * np.maximum(expected, 1)
    r = np.where(over, expected**2 / np.where(over, extra, 1), 1.0)
    p = np.where(over, expected / np.where(variance > 0, variance, 1), 0.5)
    scipy_says = np.where(over, stats.nbinom.ppf(q, r, p), stats.poisson.ppf(q, expected))
    np.testing.assert_array_equal(wa.quantiles(expected, variance, q), scipy_says)
    np.testing.assert_array_equal(wa._nbinom_ppf(q, r, p), stats.nbinom.ppf(q, r, p))
    np.testing.assert_array_equal(wa._poisson_ppf(q, expected),
                                  stats.poisson.ppf(q, expected))


@pytest.mark.parametrize("days", [1, 4, 9, 10, 28, 57])
def test_anomaly__trimmed_means_equal_scipy_stats(days):
    import numpy as np
    from scipy import stats

    from pipelines import warnings_anomalies as wa

    rows = np.random.default_rng(days).poisson(7, (50, days)).astype(float)
    np.testing.assert_array_equal(wa._trim_mean(rows, wa.TRIM),
                                  stats.trim_mean(rows, wa.TRIM, axis=1))


def test_anomaly__a_cell_with_no_reports_at_all_is_judged_without_numpy_warnings():
    import warnings

    import numpy as np

    from pipelines import warnings_anomalies as wa

    # a cell never seen in the window: mean and variance both 0 (was 0/0 in np.where)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low = wa.quantiles(np.array([0.0, 2.0]), np.array([0.0, 3.0]), 0.1)
        high = wa.quantiles(np.array([0.0, 2.0]), np.array([0.0, 3.0]), 0.999)
    assert low[0] == high[0] == 0
    assert high[1] > low[1]


def test_anomaly__the_expectation_follows_the_season_of_the_whole_sub_district():
    import numpy as np

    from pipelines import warnings_anomalies as wa

    # every cell's reports rise 1% a day (spring): the window's 7 days are expected at
    # their own level, not at the 8 weeks' average, which lags a month behind
    day = np.arange(63)
    rates = np.array([5.0, 20.0, 80.0])[:, None] * np.exp(0.01 * day)[None, :]
    classes = np.full(63, wa.WORKDAY)
    w = wa.windows(np.round(rates), classes, 1.0, 8)
    np.testing.assert_allclose(w.week_expected, rates[:, -7:].sum(axis=1), rtol=0.03)
    # and a flat season leaves the baseline's level as it is
    flat = wa.windows(np.full((3, 63), 12.0), classes, 1.0, 8)
    np.testing.assert_allclose(flat.week_expected, 7 * 12.0)


def test_anomaly__a_burst_today_that_goes_on_into_the_week_stays_one_warning(con, settings):
    # Wednesday's reports are quadrupled: today's warning (the week, without its busiest
    # day, is ordinary). Thursday's too: now the week's. Both loads see one surge of the
    # cell, so the table holds one warning, ongoing, with the week's evidence.
    config = load_config(settings.warnings_file)
    wed = dt.date(2025, 11, 19)
    add_series(con, CELL, wed, surge=4.0, surge_from=wed)
    t1, t2 = dt.datetime(2025, 11, 20, 0, 5), dt.datetime(2025, 11, 21, 0, 5)
    first = [w for w in we.anomaly_warnings(con, config) if w["grid"] is None]
    assert [w["rule_id"] for w in first] == ["surge_day"]
    we.store(con, first, t1, None)
    add_series(con, CELL, wed + dt.timedelta(days=1), days=1, surge=4.0, surge_from=wed)
    second = [w for w in we.anomaly_warnings(con, config) if w["grid"] is None]
    assert [w["rule_id"] for w in second] == ["surge_week"]
    we.store(con, second, t2, None)
    assert con.execute(
        "select rule_id, status, first_seen_at, last_seen_at from warnings"
        " where grid is null").fetchall() == [("surge_week", "ongoing", t1, t2)]


def test_anomaly__an_open_surge_stays_one_warning_while_its_week_is_above_usual(
        con, settings):
    # Tuesday's and Wednesday's reports are quadrupled: a warning at Wednesday's load.
    # The next Tuesday's week still holds Wednesday (80 reports): no longer unusual
    # enough to open a warning, but above the usual range it states, so the open one
    # stays (one surge, not one that flaps out and in again). Wednesday's week is
    # ordinary: resolved.
    config = load_config(settings.warnings_file)
    wed = dt.date(2025, 11, 19)
    add_series(con, CELL, wed, surge=4.0, surge_from=wed - dt.timedelta(days=1))
    loads = [dt.datetime(2025, 11, d, 0, 5) for d in (20, 26, 27)]

    def load(at: dt.datetime) -> list[dict]:
        found = [w for w in we.anomaly_warnings(con, config) if w["grid"] is None]
        we.store(con, found, at, None)
        return found

    assert [w["rule_id"] for w in load(loads[0])] == ["surge_week"]
    for back in range(6, 0, -1):
        add_series(con, CELL, loads[1].date() - dt.timedelta(days=back), days=1)
    # not a fresh surge: without the open warning, the same data opens none
    con.execute("begin")
    con.execute("delete from warnings")
    assert [w for w in we.anomaly_warnings(con, config) if w["grid"] is None] == []
    con.execute("rollback")
    (held,) = load(loads[1])
    assert held["observed"] == 80 and held["threshold"] == held["usual_high"] < 80
    assert con.execute("select status, first_seen_at, last_seen_at from warnings "
                       "where grid is null").fetchall() == [("ongoing", loads[0], loads[1])]
    add_series(con, CELL, loads[2].date() - dt.timedelta(days=1), days=1)
    assert load(loads[2]) == []
    assert con.execute("select status, resolved_at from warnings where grid is null"
                       ).fetchall() == [("resolved", loads[2])]


def test_anomaly__an_open_warning_is_kept_above_the_top_of_the_usual_range_only():
    import numpy as np

    from pipelines import warnings_anomalies as wa
    from pipelines.warnings_rules import ANOMALY_DEFAULTS

    # three cells expecting 20 a week; cells 0 and 1 have an open warning, cell 2 not
    expected, variance = np.full(3, 20.0), np.full(3, 30.0)
    top = wa.quantiles(expected, variance, ANOMALY_DEFAULTS["keep_quantile"])[0]
    opening = wa.quantiles(expected, variance, 1 - ANOMALY_DEFAULTS["alpha"])[0]
    observed = np.array([top + 1, top, top + 1])
    assert top + 1 < opening  # none of them is a surge that would open a warning
    zero = np.zeros(3)
    w = wa.Windows(zero, zero + 3, zero + 3, observed, expected, variance,
                   observed, expected, variance)
    day, week = wa.surges(w, ANOMALY_DEFAULTS, np.array([True, True, False]))
    assert week.tolist() == [True, False, False]
    assert not day.any()


def _surges_judging_every_cell(w, a, is_open):
    """The detector's rule (module docstring) with every quantile computed for every
    cell: what `surges` must decide, whichever cells it computes quantiles for."""
    from pipelines import warnings_anomalies as wa

    def above(observed, expected, variance, q):
        return observed > wa.quantiles(expected, variance, q)

    week = (above(w.week_observed, w.week_expected, w.week_variance, 1 - a["alpha"])
            & (w.week_observed >= a["min_ratio"] * w.week_expected)
            & (w.week_observed >= a["min_week"])
            & above(w.rest_observed, w.rest_expected, w.rest_variance, 1 - a["rest_alpha"]))
    week |= is_open & above(w.week_observed, w.week_expected, w.week_variance,
                            a["keep_quantile"])
    day = (above(w.day_observed, w.day_expected, w.day_variance, 1 - a["alpha_day"])
           & (w.day_observed >= a["min_ratio"] * w.day_expected)
           & (w.day_observed >= a["min_day"]))
    return day & ~week, week


def test_anomaly__surges_are_decided_as_if_every_cell_had_its_quantiles():
    import numpy as np

    from pipelines import warnings_anomalies as wa
    from pipelines.warnings_rules import ANOMALY_DEFAULTS

    # cells from quiet to busy, counts from a dip to a surge of five times, a third of
    # them with a warning open: each branch of the rule is met by some cells only
    rng = np.random.default_rng(18)
    n = 3000
    day_exp = rng.uniform(0.2, 30.0, n)
    week_exp = day_exp * 7
    rest_exp = day_exp * 6
    spread = rng.uniform(1.0, 2.5, n)
    day_obs = rng.poisson(day_exp * rng.uniform(0.5, 5.0, n)).astype(float)
    rest_obs = rng.poisson(rest_exp * rng.uniform(0.5, 4.0, n)).astype(float)
    w = wa.Windows(day_obs, day_exp, day_exp * spread, day_obs + rest_obs, week_exp,
                   week_exp * spread, rest_obs, rest_exp, rest_exp * spread)
    is_open = rng.uniform(size=n) < 0.3
    day, week = wa.surges(w, ANOMALY_DEFAULTS, is_open)
    want_day, want_week = _surges_judging_every_cell(w, ANOMALY_DEFAULTS, is_open)
    assert day.any() and week.any() and (week & is_open).any() and not week.all()
    np.testing.assert_array_equal(week, want_week)
    np.testing.assert_array_equal(day, want_day)


_NO_CANDIDATE = """
import sys
import numpy as np
from pipelines import warnings_anomalies as wa
from pipelines.warnings_rules import ANOMALY_DEFAULTS
usual = np.full(4, 20.0)
w = wa.Windows(usual / 7, usual / 7, usual / 7, usual, usual, usual * 1.5,
               usual * 6 / 7, usual * 6 / 7, usual * 1.5)
day, week = wa.surges(w, ANOMALY_DEFAULTS, np.zeros(4, dtype=bool))
print(int(day.any() or week.any()), int("scipy.special" in sys.modules))
"""


def test_anomaly__a_load_with_no_surge_candidate_does_not_import_scipy():
    # importing scipy.special costs every load ~0.3 s of CPU: only a cell at least
    # min_ratio times its expectation, or with a warning open, needs a quantile
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _NO_CANDIDATE], cwd=root,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0", "0"]  # nothing fired, no scipy imported


def _holiday_baseline(n_cells: int, holiday: bool):
    """Counts and classes of 63 days (Monday first; the window is the last 7): cells of
    10 reports a working day and 5 a weekend day; with `holiday`, days 19-27 of the
    baseline are a long holiday (4 a day: the sub-district at 0.8 of a weekend) and its
    working days within a week are quiet (7: at 0.7), as around the Spring Festival."""
    import numpy as np

    from pipelines import warnings_anomalies as wa

    day = np.arange(63)
    is_workday = day % 7 < 5
    is_holiday = np.zeros(63, dtype=bool)
    if holiday:
        is_holiday[21:26] = True
        is_workday[21:26] = False
    classes = wa.day_classes(is_workday, is_holiday)
    per_class = {wa.WORKDAY: 10.0, wa.WEEKEND: 5.0, wa.HOLIDAY: 4.0,
                 wa.NEAR_LONG_HOLIDAY: 7.0}
    row = np.array([per_class[c] for c in classes])
    return np.tile(row, (n_cells, 1)), classes


def test_anomaly__a_long_holiday_in_the_baseline_counts_at_the_sub_districts_level():
    import numpy as np

    from pipelines import warnings_anomalies as wa

    # Twelve cells: the holiday fortnight's days are read at the sub-district's level
    # that day, so the weeks after it are expected at the usual rate, and the usual
    # range is as narrow as the baseline's days allow: narrower than for a lone cell,
    # whose sub-district is too small to measure its level, so its days are dropped.
    counts, classes = _holiday_baseline(12, holiday=True)
    assert (classes[:56] == wa.NEAR_LONG_HOLIDAY).sum() >= 5  # the quiet days exist
    plain = wa.windows(*_holiday_baseline(12, holiday=False), 1.0, 8)
    read = wa.windows(counts, classes, 1.0, 8)
    lone = wa.windows(counts[:1], classes, 1.0, 8)
    np.testing.assert_allclose(read.week_expected, plain.week_expected, rtol=1e-3)
    np.testing.assert_allclose(lone.week_expected, plain.week_expected[:1], rtol=1e-3)
    assert (read.week_variance < lone.week_variance[0]).all()


def test_anomaly__a_small_cell_warns_one_report_above_its_threshold_not_at_it():
    import numpy as np

    from pipelines import warnings_anomalies as wa
    from pipelines.warnings_rules import ANOMALY_DEFAULTS

    # two cells expecting 6 a week, no warning open: one a report over the week's
    # (1 - alpha) quantile, one exactly at it; both clear the 2x and 10-report floors
    expected, variance = np.full(2, 6.0), np.full(2, 9.0)
    opening = wa.quantiles(expected, variance, 1 - ANOMALY_DEFAULTS["alpha"])[0]
    observed = np.array([opening + 1, opening])
    assert opening >= max(ANOMALY_DEFAULTS["min_ratio"] * 6, ANOMALY_DEFAULTS["min_week"])
    zero = np.zeros(2)
    w = wa.Windows(zero, zero + 3, zero + 3, observed, expected, variance,
                   observed, expected, variance)
    day, week = wa.surges(w, ANOMALY_DEFAULTS, np.array([False, False]))
    assert week.tolist() == [True, False]
    assert not day.any()



def test_anomaly__community_cells_are_their_grid_rows_summed_tickets_without_a_grid_too():
    import numpy as np
    import pyarrow as pa

    # rows as warnings__daily_counts returns them: per community x grid x category, in
    # name order (a null grid, tickets without one, last)
    daily = pa.table({
        "community": ["乙社区", "甲社区", "甲社区", "甲社区"],
        "grid": [None, "甲社区第1网格", "甲社区第2网格", None],
        "category": ["城市管理", "物业维修", "物业维修", "物业维修"],
        "days": [[{"day_index": 2, "reported": 1}], [{"day_index": 0, "reported": 3}],
                 [{"day_index": 0, "reported": 2}], [{"day_index": 1, "reported": 4}]],
    })
    cells, counts, is_grid = we._cells(daily, 3)
    assert [(c["community"], c["grid"], c["category"]) for c in cells] == [
        ("乙社区", "", "城市管理"), ("甲社区", "", "物业维修"),
        ("甲社区", "甲社区第1网格", "物业维修"), ("甲社区", "甲社区第2网格", "物业维修")]
    np.testing.assert_array_equal(counts, [[0, 0, 1], [5, 4, 0], [3, 0, 0], [2, 0, 0]])
    assert is_grid.tolist() == [False, False, True, True]
