"""Early warnings: the anomaly detector's statistics (issue 15; docs/warnings.md).

For each cell (community x category, or grid x category) the detector compares the
reports of the evaluated window with what comparable days of the weeks before it lead
one to expect:

- Days fall in classes from the working-day calendar (dim_calendar): working days
  (make-up working Saturdays included), weekends, public holidays, and the working days
  within a week of a long holiday (Spring Festival, National Day), which are quieter.
  A holiday is compared with weekends (days off), never with working days; a working
  day near a long holiday with ordinary working days. Holidays and the days near long
  ones are left out of every baseline, so a Spring Festival dip neither fires nor
  lowers the weeks after it.
- Per cell and class the baseline is the 10%-trimmed mean of the daily counts over the
  last `baseline_weeks` weeks before the window, and its spread the winsorised variance.
  The season moves it on to the window's days: the trend of the whole sub-district's
  reports over the baseline (a log-linear fit; `_season`), since an 8-week average lags
  a rising or falling season by a month. Together they give a negative-binomial
  count model (Poisson when there is no extra spread), summed over the window's days,
  with the uncertainty of the baseline mean added.
- A window fires when its count is above the model's (1 - alpha) quantile, at least
  `min_ratio` times the expectation and at least a minimum count.

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


def _poisson_ppf(q: float, mu: np.ndarray) -> np.ndarray:
    """scipy.stats.poisson.ppf(q, mu) for 0 < q < 1: the least k with cdf(k) >= q."""
    from scipy import special  # here, not above: a load with no candidate cell needs none

    valid = mu >= 0
    mu = np.where(valid, mu, 0.0)
    with np.errstate(all="ignore"):
        k = np.ceil(special.pdtrik(q, mu))
        below = np.maximum(k - 1, 0)
        k = np.where(special.pdtr(below, mu) >= q, below, k)
    return np.where(valid, k, np.nan)


def _nbinom_ppf(q: float, r: np.ndarray, p: np.ndarray) -> np.ndarray:
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


def windows(counts: np.ndarray, classes: np.ndarray, last_day_share: float,
            baseline_weeks: int) -> Windows:
    """Expected counts and variances of the day and week windows.

    Args:
        counts: reports per cell (rows) and day (columns): `7 * baseline_weeks` baseline
            days, then the 7 days of the week window, the last being the cut-off day.
        classes: the class of each of those days (`day_classes`).
        last_day_share: share of a normal day's reports made by the cut-off's time.
        baseline_weeks: weeks of baseline before the window.
    """
    n_base = 7 * baseline_weeks
    if counts.shape[1] != n_base + 7 or len(classes) != counts.shape[1]:
        raise ValueError(f"want {n_base + 7} days of counts and classes, got "
                         f"{counts.shape[1]} and {len(classes)}")
    counts = counts.astype(float)
    base, base_classes = counts[:, :n_base], classes[:n_base]
    usable = base[:, (base_classes == WORKDAY) | (base_classes == WEEKEND)]
    mean = np.zeros((counts.shape[0], 4))
    var = np.zeros_like(mean)
    seen = np.zeros(4)
    for c in (WORKDAY, WEEKEND):
        cols = base[:, base_classes == c]
        if cols.shape[1] < MIN_BASELINE_DAYS:
            cols = usable
        mean[:, c], var[:, c] = _class_moments(cols)
        # a cell never seen still has a rate: as if one report in the whole baseline
        mean[:, c] = np.maximum(mean[:, c], 1 / max(cols.shape[1], 1))
        seen[c] = cols.shape[1]
    for c, like in ((HOLIDAY, WEEKEND), (NEAR_LONG_HOLIDAY, WORKDAY)):
        mean[:, c], var[:, c], seen[c] = mean[:, like], var[:, like], seen[like]
    # extra-Poisson spread per day (negative binomial: var = m + a m^2), never below 0
    dispersion = np.maximum(var - mean, 0) / mean**2

    window_classes = classes[n_base:]
    scale = _season(base, base_classes, n_base)
    scale[-1] *= last_day_share
    day_mean = mean[:, window_classes] * scale
    day_var = day_mean + dispersion[:, window_classes] * day_mean**2
    # the baseline mean is itself estimated: its error repeats on every day of a class
    mean_error = np.zeros(counts.shape[0])
    for c in (WORKDAY, WEEKEND, HOLIDAY, NEAR_LONG_HOLIDAY):
        in_class = window_classes == c
        if in_class.any():
            k = scale[in_class].sum()
            mean_error += k**2 * np.maximum(var[:, c], mean[:, c]) / seen[c]
    last = window_classes[-1]
    day_error = scale[-1]**2 * np.maximum(var[:, last], mean[:, last]) / seen[last]
    window = counts[:, n_base:]
    return Windows(window[:, -1], day_mean[:, -1], day_var[:, -1] + day_error,
                   window.sum(axis=1), day_mean.sum(axis=1), day_var.sum(axis=1)
                   + mean_error)


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


def fires(observed: np.ndarray, expected: np.ndarray, variance: np.ndarray, *,
          alpha: float, min_ratio: float, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """(fires, threshold): observed above the (1 - alpha) quantile, at least `min_ratio`
    times the expectation and at least `min_count`."""
    threshold = quantiles(expected, variance, 1 - alpha)
    hit = ((observed > threshold) & (observed >= min_ratio * expected)
           & (observed >= min_count))
    return hit, threshold
