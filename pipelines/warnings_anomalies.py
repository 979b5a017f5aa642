"""Early warnings: the anomaly detector's statistics (issue 15; docs/warnings.md).

For each cell (community x category, or grid x category) the detector compares the
reports of the evaluated window with what comparable days of the weeks before it lead
one to expect:

- Days fall in classes from the working-day calendar (dim_calendar): working days
  (make-up working Saturdays included), weekends, public holidays, and the working days
  within a week of a long holiday (Spring Festival, National Day), which are quieter.
  A holiday is compared with weekends (days off), never with working days; a working
  day near a long holiday with ordinary working days, both at the sub-district's level
  that day (`_off_day_level`), so a Spring Festival dip neither fires nor lowers the
  weeks after it.
- Per cell one rate, in reports per working day: the 10%-trimmed mean over the last
  `baseline_weeks` weeks' days, each divided by its kind's factor, the category's
  weekend/working-day ratio across the sub-district (`_day_factors`), and on holidays
  and the days near long ones by the sub-district's level (days whose level cannot
  be measured are left out). The season moves the rate on to the window's days:
  the trend of the whole sub-district's reports over the baseline (a log-linear fit;
  `_season`), since an 8-week average lags a rising or falling season by a month.
- Each day's count is negative binomial (variance m + a m^2; `a` at least the
  sub-district's, `_dispersion`), summed over the window's days, with the
  uncertainty of the rate added (a trimmed mean's: fewer days, wider).
- `surges`: the week fires above the model's (1 - alpha) quantile, at least
  `min_ratio` times the expectation and a minimum count, and still above its
  (1 - rest_alpha) quantile without its busiest day; today fires at `alpha_day`
  where the week does not: one warning per cell. A cell whose warning is open stays
  warned while its week is above the `keep_quantile` quantile (the top of the usual
  range the warning states), so a surge hovering at its threshold is one warning.

Arrays in, arrays out, so the benchmark (benchmarks/warnings_quality.py) runs the same
code on synthetic series as the pipeline runs on the warehouse's daily counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORKDAY, WEEKEND, HOLIDAY, NEAR_LONG_HOLIDAY = 0, 1, 2, 3
LONG_HOLIDAY_DAYS = 5  # a run of this many days off holding a holiday is a long holiday
NEAR_DAYS = 7  # working days this close to a long holiday are "near" it
TRIM = 0.1  # share trimmed (mean) or winsorised (variance) at each end
MIN_BASELINE_DAYS = 4  # a class seen fewer times falls back to all ordinary days
MIN_POOL_MEAN = 1.0  # cells pooled into the sub-district's spread: reports a day
MIN_LEVEL_REPORTS = 50.0  # a day's expected reports that measure its level


@dataclass(frozen=True)
class Windows:
    """Expectations and observations of the day window (the cut-off day) and the week
    window (its last 7 days), one entry per cell."""

    day_observed: np.ndarray
    day_expected: np.ndarray
    day_variance: np.ndarray
    week_observed: np.ndarray
    week_expected: np.ndarray
    week_variance: np.ndarray
    rest_observed: np.ndarray
    rest_expected: np.ndarray
    rest_variance: np.ndarray


def day_classes(is_workday: np.ndarray, is_holiday: np.ndarray) -> np.ndarray:
    """WORKDAY / WEEKEND / HOLIDAY / NEAR_LONG_HOLIDAY per day from the calendar's two
    flags (pass a week more on each side than needed: a long holiday at the edge of the
    days given is only seen in part)."""
    is_workday = np.asarray(is_workday, dtype=bool)
    classes = np.where(is_workday, WORKDAY, np.where(is_holiday, HOLIDAY, WEEKEND))
    near = np.zeros(len(classes), dtype=bool)
    start = None
    for i, off in enumerate(np.append(~is_workday, False)):
        if off and start is None:
            start = i
        elif not off and start is not None:
            if i - start >= LONG_HOLIDAY_DAYS and np.asarray(is_holiday)[start:i].any():
                near[max(0, start - NEAR_DAYS):i + NEAR_DAYS] = True
            start = None
    return np.where(near & is_workday, NEAR_LONG_HOLIDAY, classes)


def _trim_mean(rows: np.ndarray, share: float) -> np.ndarray:
    """Mean of each row without its `share` lowest and highest values
    (scipy.stats.trim_mean(rows, share, axis=1), step for step)."""
    n = rows.shape[1]
    cut = int(share * n)
    parted = np.partition(rows, (cut, n - cut - 1), axis=1)
    return np.mean(parted[:, cut:n - cut], axis=1)


def _poisson_ppf(q, mu: np.ndarray) -> np.ndarray:
    """scipy.stats.poisson.ppf(q, mu) for 0 < q < 1: the least k with cdf(k) >= q."""
    from scipy import special  # here, not above: a load with no candidate cell needs none

    valid = mu >= 0
    mu = np.where(valid, mu, 0.0)
    with np.errstate(all="ignore"):
        k = np.ceil(special.pdtrik(q, mu))
        below = np.maximum(k - 1, 0)
        k = np.where(special.pdtr(below, mu) >= q, below, k)
    return np.where(valid, k, np.nan)


def _nbinom_ppf(q, r: np.ndarray, p: np.ndarray) -> np.ndarray:
    """scipy.stats.nbinom.ppf(q, r, p) for 0 < q < 1 (cdf(k) = I_p(r, k + 1))."""
    from scipy import special  # not scipy.stats, which costs ~1 s of CPU to import

    valid = (r > 0) & (p > 0) & (p <= 1)
    r, p = np.where(valid, r, 1.0), np.where(valid, p, 0.5)
    with np.errstate(all="ignore"):
        k = np.ceil(special.nbdtrik(q, r, p))
        below = np.maximum(k - 1, 0)
        k = np.where(special.betainc(r, below + 1, p) >= q, below, k)
        # the inverse fails (1e100) for a vanishing r; cdf(0) = p**r answers those
        k = np.where(p**r >= q, 0.0, k)
    return np.where(valid, k, np.nan)


def _class_moments(base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trimmed mean and winsorised variance of each row of `base` (cells x days)."""
    mean = _trim_mean(base, TRIM)
    low, high = np.quantile(base, [TRIM, 1 - TRIM], axis=1)
    clipped = np.clip(base, low[:, None], high[:, None])
    var = clipped.var(axis=1, ddof=1) if base.shape[1] > 1 else mean.copy()
    return mean, var


def _season(base: np.ndarray, base_classes: np.ndarray, n_base: int) -> np.ndarray:
    """How much busier each day of the week window is expected to be than the baseline's
    average day, from the sub-district's trend (the season) over the baseline.

    All cells together: the day's total reports over its class's average total, on the
    ordinary days (working days and weekends), fitted by least squares as log(ratio) =
    a + b * day. The baseline mean stands for its middle day; the window's days lie
    b per day beyond it. One trend for every cell: the season (weather, school terms)
    moves a whole sub-district, and a single cell's counts are too few to see it.
    """
    ordinary = (base_classes == WORKDAY) | (base_classes == WEEKEND)
    total = base.sum(axis=0)
    ratio = np.zeros(len(total))
    for c in (WORKDAY, WEEKEND):
        in_class = base_classes == c
        if in_class.any() and total[in_class].mean() > 0:
            ratio[in_class] = total[in_class] / total[in_class].mean()
    use = ordinary & (ratio > 0)
    if use.sum() < 2 * MIN_BASELINE_DAYS:
        return np.ones(7)
    day = np.flatnonzero(use)
    slope = np.polyfit(day, np.log(ratio[use]), 1)[0]
    return np.exp(slope * (np.arange(n_base, n_base + 7) - day.mean()))


def _day_factors(base: np.ndarray, base_classes: np.ndarray, groups: np.ndarray
                 ) -> np.ndarray:
    """Reports on each kind of day per working day's, per group of cells (a category):
    groups x classes, from the group's totals over the baseline.

    A cell's own weekends (16 days in 8 weeks) give its weekend rate only roughly; the
    category's across the sub-district knows its rhythm (markets at weekends, offices
    on working days) from many more reports. Holidays take the weekend's factor, the
    working days near a long holiday the working day's (then `_off_day_level`).
    Half a report is added to each side, so a group silent at weekends keeps a rate.
    """
    factors = np.ones((int(groups.max()) + 1 if len(groups) else 1, 4))
    workday, weekend = base_classes == WORKDAY, base_classes == WEEKEND
    if workday.sum() < MIN_BASELINE_DAYS or weekend.sum() < MIN_BASELINE_DAYS:
        return factors
    for g in range(factors.shape[0]):
        total = base[groups == g].sum(axis=0)
        factors[g, WEEKEND] = ((total[weekend].sum() + 0.5) / weekend.sum()
                               / ((total[workday].sum() + 0.5) / workday.sum()))
    factors[:, HOLIDAY] = factors[:, WEEKEND]
    return factors


def _dispersion(norm: np.ndarray, inverse_factor: np.ndarray, rate: np.ndarray,
                rate_var: np.ndarray) -> np.ndarray:
    """Extra-Poisson spread `a` per cell (negative binomial: a day's variance is
    m + a m^2): the larger of the cell's own (from its winsorised variance) and the
    sub-district's, the median over the cells with at least MIN_POOL_MEAN reports a
    working day.

    Eight weeks give a cell's spread only roughly (a winsorised variance from 56 days
    is often half the true one), and a cell whose spread is underestimated cries wolf;
    busy and quiet days come from causes most cells share (weather, events), so the
    sub-district's median is the floor. The median, not the mean: a cell whose baseline
    held a surge does not raise everyone's threshold. `norm` holds the counts in working
    day units (count / day factor), whose variance is rate / factor + a rate^2.
    """
    poisson = rate * inverse_factor
    own = np.maximum(rate_var - poisson, 0) / rate**2
    big = rate >= MIN_POOL_MEAN
    if not big.any() or norm.shape[1] < 2:
        return own
    plain = norm[big].mean(axis=1)
    spread = (norm[big].var(axis=1, ddof=1) - plain * inverse_factor[big]) / plain**2
    return np.maximum(own, max(float(np.median(spread)), 0.0))


def _off_day_level(counts: np.ndarray, day_mean: np.ndarray, classes: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(level, measured) per day: how busy the sub-district is on a holiday or a working
    day near a long holiday compared with the ordinary day it is expected as (its
    cells' reports together over their expectation, never above 1), measured where
    that expectation reaches MIN_LEVEL_REPORTS; 1 elsewhere.

    Holidays are expected as weekends and the days near a long holiday as working
    days; the quiet Spring Festival fortnight is quieter, which would hide a surge in
    it. One cell's surge hardly moves a sub-district's total, and the level is only
    ever lowered, so a busy holiday is still judged against ordinary days.
    """
    level = np.ones(len(classes))
    off = (classes == HOLIDAY) | (classes == NEAR_LONG_HOLIDAY)
    expected = day_mean.sum(axis=0)
    measured = off & (expected >= MIN_LEVEL_REPORTS)
    level[measured] = np.minimum(counts[:, measured].sum(axis=0) / expected[measured], 1.0)
    return level, measured


def windows(counts: np.ndarray, classes: np.ndarray, last_day_share: float,
            baseline_weeks: int, groups: np.ndarray | None = None) -> Windows:
    """Expected counts and variances of the day and week windows.

    Args:
        counts: reports per cell (rows) and day (columns): `7 * baseline_weeks` baseline
            days, then the 7 days of the week window, the last being the cut-off day.
        classes: the class of each of those days (`day_classes`).
        last_day_share: share of a normal day's reports made by the cut-off's time.
        baseline_weeks: weeks of baseline before the window.
        groups: per cell, the group (0, 1, ...: its category) whose weekly rhythm it
            shares (`_day_factors`); all one group when not given.
    """
    n_base = 7 * baseline_weeks
    if counts.shape[1] != n_base + 7 or len(classes) != counts.shape[1]:
        raise ValueError(f"want {n_base + 7} days of counts and classes, got "
                         f"{counts.shape[1]} and {len(classes)}")
    counts = counts.astype(float)
    groups = (np.zeros(counts.shape[0], dtype=int) if groups is None
              else np.asarray(groups, dtype=int))
    base, base_classes = counts[:, :n_base], classes[:n_base]
    factors = _day_factors(base, base_classes, groups)[groups]  # cells x classes
    ordinary = (base_classes == WORKDAY) | (base_classes == WEEKEND)
    base_factor = factors[:, base_classes]
    # The off days join the baseline at the sub-district's level that day, so a long
    # holiday does not leave a cell's rate to five weeks. The level is measured against
    # the cells' plain means: a total needs no trimming, and a trimmed mean of skewed
    # counts runs low, which would make the level run high.
    plain = (base[:, ordinary] / base_factor[:, ordinary]).mean(axis=1)
    level, measured = _off_day_level(base, plain[:, None] * base_factor, base_classes)
    used = ordinary | (measured & (level > 0))  # a day without reports says nothing
    day_factor = base_factor[:, used] * level[used]
    # every baseline day in working-day units: one rate per cell from up to 56 days
    norm = base[:, used] / day_factor
    rate, rate_var = _class_moments(norm)
    # a cell never seen still has a rate: as if one report in the whole baseline
    rate = np.maximum(rate, 1 / max(norm.shape[1], 1))
    inverse_factor = (1 / day_factor).mean(axis=1)
    dispersion = _dispersion(norm, inverse_factor, rate, rate_var)

    window_classes = classes[n_base:]
    scale = _season(base, base_classes, n_base)
    scale[-1] *= last_day_share
    day_mean = rate[:, None] * factors[:, window_classes] * scale
    day_mean *= _off_day_level(counts[:, n_base:], day_mean, window_classes)[0]
    day_var = day_mean + dispersion[:, None] * day_mean**2
    # The rate is itself estimated, and its error repeats on every day of the window.
    # A trimmed mean's variance is the winsorised variance / ((1 - 2 TRIM)^2 n) (Tukey
    # and McLaughlin), and a day's variance is at least the model's (the sub-district's
    # spread as floor, as for the days themselves): fewer baseline days, wider range.
    norm_variance = np.maximum(rate_var, rate * inverse_factor + dispersion * rate**2)
    rate_error = norm_variance / ((1 - 2 * TRIM)**2 * norm.shape[1]) / rate**2
    week_mean = day_mean.sum(axis=1)
    window = counts[:, n_base:]
    # the week without its busiest day (the day most above its expectation)
    rows = np.arange(counts.shape[0])
    busiest = np.argmax(window - day_mean, axis=1)
    rest_mean = week_mean - day_mean[rows, busiest]
    return Windows(window[:, -1], day_mean[:, -1],
                   day_var[:, -1] + day_mean[:, -1]**2 * rate_error,
                   window.sum(axis=1), week_mean,
                   day_var.sum(axis=1) + week_mean**2 * rate_error,
                   window.sum(axis=1) - window[rows, busiest], rest_mean,
                   day_var.sum(axis=1) - day_var[rows, busiest] + rest_mean**2 * rate_error)


def quantiles(expected: np.ndarray, variance: np.ndarray, q) -> np.ndarray:
    """The `q` quantile of a count with this mean and variance: negative binomial when
    the variance exceeds the mean, else Poisson."""
    expected = np.asarray(expected, dtype=float)
    variance = np.maximum(np.asarray(variance, dtype=float), expected)
    extra = variance - expected
    over = extra > 1e-9 * np.maximum(expected, 1)
    # np.where evaluates both branches: divide only where `over` (variance > 0 there)
    r = np.divide(expected**2, extra, out=np.ones_like(expected), where=over)
    p = np.divide(expected, variance, out=np.full_like(expected, 0.5), where=over)
    return np.where(over, _nbinom_ppf(q, r, p), _poisson_ppf(q, expected))


def _quantiles_where(where: np.ndarray, expected: np.ndarray, variance: np.ndarray, q
                     ) -> np.ndarray:
    """`quantiles` for the cells `where` is true, infinity (never exceeded) elsewhere.

    The quantiles are the detector's costliest arithmetic (at 10M, 8,316 cells x 4 calls:
    0.2 s of CPU, plus 0.3 s to import scipy.special): only cells that pass a cheaper
    condition need theirs, and a load with no such cell imports no scipy at all.
    """
    out = np.full(len(where), np.inf)
    if where.any():
        out[where] = quantiles(expected[where], variance[where], q)
    return out


def fires(observed: np.ndarray, expected: np.ndarray, variance: np.ndarray, *,
          alpha: float, min_ratio: float, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """(fires, threshold): observed above the (1 - alpha) quantile, at least `min_ratio`
    times the expectation and at least `min_count`. The threshold is computed only where
    the last two hold (infinity elsewhere)."""
    candidate = (observed >= min_ratio * expected) & (observed >= min_count)
    threshold = _quantiles_where(candidate, expected, variance, 1 - alpha)
    return candidate & (observed > threshold), threshold


def surges(w: Windows, a: dict, is_open: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """(today's, the week's) warning per cell under the detector's settings `a` (the
    [anomalies] table of warnings.toml): at most one of the two per cell.

    The week fires when its count is unusual (`alpha`) and still is without its busiest
    day (`rest_alpha`): a single busy day is today's to report, at the stricter
    `alpha_day`. Today's is dropped where the week fires: the week holds today, and one
    surge is one warning. `is_open` (per cell: a warning of it is open now) keeps a
    warning open while the week is above its `keep_quantile` quantile: it opened on
    strong evidence and closes when the week is back in its usual range, not at the
    first load that dips one report under the opening threshold.
    """
    week = fires(w.week_observed, w.week_expected, w.week_variance, alpha=a["alpha"],
                 min_ratio=a["min_ratio"], min_count=a["min_week"])[0]
    week &= w.rest_observed > _quantiles_where(week, w.rest_expected, w.rest_variance,
                                               1 - a["rest_alpha"])
    if is_open is not None:
        week |= w.week_observed > _quantiles_where(is_open, w.week_expected,
                                                   w.week_variance, a["keep_quantile"])
    day = fires(w.day_observed, w.day_expected, w.day_variance, alpha=a["alpha_day"],
                min_ratio=a["min_ratio"], min_count=a["min_day"])[0]
    return day & ~week, week
