"""Time windows as values: what span a figure covers, how it is labelled, what it compares to.

A `Window` covers [start, end] (end inclusive) and is judged at `as_of` (when a ticket is
"open" or "overdue"). Three kinds:

- ``to_date``: a period's start to the data cut-off, the newest record of the source
  (not the wall clock); it is partial until the period has ended, and says so in its label
  ("本月至今 3 天（截至 12-03 08:59）");
- ``complete``: one whole day, week (Monday first), month, quarter or year;
- ``rolling``: the last N days to the cut-off;
- ``span``: the part of an earlier period a to-date window, or a range running to the
  cut-off, is compared with (partial, but over: never labelled "至今");
- ``range``: chosen dates (the explorer's from–to), to the cut-off when it runs past it.

Comparisons are like for like: `previous()` and `year_ago()` cover the same span of the
earlier period (month to date on the 3rd compares with the 1st-3rd of last month, to the
same time of day; chosen dates that are whole months compare with whole months) and are judged at the same distance after their own end (a shifted
as-of), so closure and overdue figures of an old period are not those of a settled one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

GRAINS = ("day", "week", "month", "quarter", "year")
KINDS = ("to_date", "complete", "rolling", "span", "range")

_GRAIN_ZH = {"day": "今日", "week": "本周", "month": "本月", "quarter": "本季", "year": "本年"}
_GRAIN_EN = {"day": "Today", "week": "Week", "month": "Month", "quarter": "Quarter",
             "year": "Year"}


def period_start(grain: str, day: date) -> date:
    """First day of the `grain` period holding `day` (weeks start on Monday)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "year":
        return date(day.year, 1, 1)
    raise ValueError(f"unknown grain {grain!r}; expected one of {GRAINS}")


def shift_periods(grain: str, start: date, n: int) -> date:
    """The start of the `grain` period `n` periods after the one starting at `start`."""
    if grain == "day":
        return start + timedelta(days=n)
    if grain == "week":
        return start + timedelta(weeks=n)
    months = {"month": 1, "quarter": 3, "year": 12}.get(grain)
    if months is None:
        raise ValueError(f"unknown grain {grain!r}; expected one of {GRAINS}")
    y, m = divmod(start.year * 12 + start.month - 1 + n * months, 12)
    return date(y, m + 1, 1)


def years_back(ts: datetime, n: int = 1) -> datetime:
    """The same date and time `n` years earlier (29 February becomes the 28th)."""
    try:
        return ts.replace(year=ts.year - n)
    except ValueError:
        return ts.replace(year=ts.year - n, day=28)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time())


def _period_name(grain: str, start: date, lang: str) -> str:
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        y, w, _ = start.isocalendar()
        return f"{y}-W{w:02d}"
    if grain == "month":
        return f"{start.year}年{start.month}月" if lang == "zh" else f"{start:%Y-%m}"
    if grain == "quarter":
        q = (start.month - 1) // 3 + 1
        return f"{start.year}年第{q}季度" if lang == "zh" else f"{start.year} Q{q}"
    return f"{start.year}年" if lang == "zh" else str(start.year)


@dataclass(frozen=True)
class Window:
    """A span of time a figure covers, with the instant it is judged at.

    Attributes:
        kind: one of KINDS.
        grain: the period unit ("day" for rolling windows).
        start: first instant counted.
        end: last instant counted (inclusive): the cut-off of a to-date or rolling
            window, the last microsecond of a complete period.
        period_end: where the natural period ends (exclusive); end < period_end means
            the period is still running (partial).
        as_of: when open/closed/overdue are judged (the cut-off, or later).
        days: the length of a rolling window or a range, in calendar days.
    """

    kind: str
    grain: str
    start: datetime
    end: datetime
    period_end: datetime
    as_of: datetime
    days: int = 0

    @classmethod
    def to_date(cls, grain: str, cutoff: datetime) -> Window:
        """The `grain` period holding `cutoff`, from its start to `cutoff`."""
        start = period_start(grain, cutoff.date())
        return cls("to_date", grain, _midnight(start), cutoff,
                   _midnight(shift_periods(grain, start, 1)), cutoff)

    @classmethod
    def complete(cls, grain: str, day: date, as_of: datetime | None = None) -> Window:
        """The whole `grain` period holding `day`, judged at `as_of` (default: its end)."""
        start = period_start(grain, day)
        stop = _midnight(shift_periods(grain, start, 1))
        end = stop - timedelta(microseconds=1)
        return cls("complete", grain, _midnight(start), end, stop, as_of or end)

    @classmethod
    def rolling(cls, days: int, cutoff: datetime) -> Window:
        """The last `days` calendar days to `cutoff` (today included)."""
        if days < 1:
            raise ValueError(f"a rolling window needs at least 1 day, got {days}")
        start = _midnight(cutoff.date() - timedelta(days=days - 1))
        return cls("rolling", "day", start, cutoff, cutoff, cutoff, days)

    @classmethod
    def dates(cls, date_from: date, date_to: date, cutoff: datetime,
              as_of: datetime | None = None) -> Window:
        """`date_from`..`date_to` (inclusive), ending at `cutoff` if that is earlier.

        Judged at `as_of` (default: the cut-off, or the range's end when it is over).
        """
        if date_to < date_from:
            raise ValueError(f"the range ends ({date_to}) before it starts ({date_from})")
        stop = _midnight(date_to + timedelta(days=1))
        end = min(stop - timedelta(microseconds=1), max(cutoff, _midnight(date_from)))
        return cls("range", "day", _midnight(date_from), end, stop, as_of or cutoff,
                   (date_to - date_from).days + 1)

    @property
    def is_partial(self) -> bool:
        """True while the period is still running: never draw or rank it as whole."""
        return self.kind == "span" or (
            self.kind in ("to_date", "range")
            and self.end < self.period_end - timedelta(microseconds=1)
        )

    @property
    def days_elapsed(self) -> int:
        """Calendar days the window covers so far (today counts as one)."""
        return (self.end.date() - self.start.date()).days + 1

    def previous(self) -> Window:
        """The same span of the previous period, judged at the same distance after it.

        Chosen dates that follow the calendar compare with the calendar: whole months with
        the months before (November with all of October, not the 30 days before it), and
        a part of a period from its start with the same part of the period before
        (1-3 December with 1-3 November). Other dates move back by their own length.
        """
        if self.kind == "range":
            aligned = self._calendar_previous()
            if aligned is not None:
                return self._compared(aligned)
        if self.kind in ("rolling", "range"):
            return self._compared(self._shifted(timedelta(days=self.days)))
        prev = _midnight(shift_periods(self.grain, self.start.date(), -1))
        return self._moved_to(prev, self.start - prev)

    def _calendar_previous(self) -> Window | None:
        """A range's previous window when it starts a calendar period, else None.

        Whole years, quarters, months or weeks go back by as many of them (the largest
        unit that fits: 1 October-30 November compares with August-September). Else a
        range inside one period from its start goes back one period, clipped to that
        period's end (1-3 December compares with 1-3 November; 1-31 March, running,
        with 1-28 February); when a range starts several periods at once (Monday
        1 June) the largest is taken.
        """
        first, stop = self.start.date(), self.period_end.date()
        starts = [g for g in ("year", "quarter", "month", "week")
                  if period_start(g, first) == first]
        for grain in starts:
            n = 1
            while shift_periods(grain, first, n) < stop:
                n += 1
            if shift_periods(grain, first, n) == stop:
                start = _midnight(shift_periods(grain, first, -n))
                last = self.start - timedelta(microseconds=1)
                end = min(start + (self.end - self.start), last) if self.is_partial else last
                return self._placed(start, end)
        for grain in starts:
            if shift_periods(grain, first, 1) >= stop:
                start = _midnight(shift_periods(grain, first, -1))
                last = self.start - timedelta(microseconds=1)
                return self._placed(start, min(start + (self.end - self.start), last))
        return None

    def _placed(self, start: datetime, end: datetime) -> Window:
        """This range moved to [start, end], judged as long after `end` as it is, and
        partial exactly when it is."""
        period_end = self.start if self.is_partial else end + timedelta(microseconds=1)
        return replace(self, start=start, end=end, period_end=period_end,
                       as_of=end + (self.as_of - self.end))

    def year_ago(self) -> Window:
        """The same dates one year earlier, to the same time of day as the cut-off."""
        start = years_back(self.start)
        if self.kind in ("rolling", "range"):
            return self._compared(replace(self, start=start, end=years_back(self.end),
                                          period_end=years_back(self.period_end),
                                          as_of=years_back(self.as_of)))
        return self._moved_to(start, self.start - start)

    def _moved_to(self, start: datetime, gap: timedelta) -> Window:
        """This window's span placed at `start` (a period start `gap` earlier)."""
        stop = _midnight(shift_periods(self.grain, start.date(), 1))
        last = stop - timedelta(microseconds=1)
        # a whole period compares with a whole one; a part with the same offset into
        # its period, clipped to its end (31 March -> 28 February)
        end = last if self.kind == "complete" else min(start + (self.end - self.start), last)
        after_end = self.as_of - self.end  # judged as long after its end as this one
        kind = "span" if self.kind == "to_date" and self.is_partial else self.kind
        return replace(self, kind=kind, start=start, end=end, period_end=stop,
                       as_of=end + after_end)

    def _compared(self, earlier: Window) -> Window:
        """`earlier`, this window's comparison, as a span when this is a range running to
        the cut-off: the earlier part is just as partial, but it is over, so its label
        must not read "（至今）" (a 2025 range compared with 今年以来 is not running)."""
        return replace(earlier, kind="span") if self.kind == "range" and self.is_partial \
            else earlier

    def _shifted(self, delta: timedelta) -> Window:
        return replace(self, start=self.start - delta, end=self.end - delta,
                       period_end=self.period_end - delta, as_of=self.as_of - delta)

    def label(self, lang: str = "zh") -> str:
        """What the window covers, in Chinese ("zh") or English, saying so when partial."""
        cut = f"{self.end:%m-%d %H:%M}"
        if self.kind == "rolling":
            return (f"近 {self.days} 天（截至 {cut}）" if lang == "zh"
                    else f"Last {self.days} days (to {cut})")
        if self.kind == "range":
            if self.is_partial:
                return (f"{self.start:%Y-%m-%d}–{cut}（至今）" if lang == "zh"
                        else f"{self.start:%Y-%m-%d}–{cut} (to date)")
            return f"{self.start:%Y-%m-%d}–{self.end:%Y-%m-%d}"
        if self.kind == "span":
            if self.start.date() == self.end.date():
                return f"{self.start:%Y-%m-%d} 0:00–{self.end:%H:%M}"
            return f"{self.start:%Y-%m-%d}–{cut}"
        if self.is_partial:
            if self.grain == "day":
                return (f"今日至 {self.end:%H:%M}" if lang == "zh"
                        else f"Today to {self.end:%H:%M}")
            n = self.days_elapsed
            if lang == "zh":
                return f"{_GRAIN_ZH[self.grain]}至今 {n} 天（截至 {cut}）"
            return f"{_GRAIN_EN[self.grain]} to date, {n} day{'s' * (n != 1)} (to {cut})"
        name = _period_name(self.grain, self.start.date(), lang)
        if self.kind == "to_date" or self.end >= self.period_end - timedelta(microseconds=1):
            return name
        return (f"{name}（至 {cut}）" if lang == "zh" else f"{name} (to {cut})")

    def params(self, prefix: str = "") -> dict[str, datetime]:
        """Bound SQL parameters: {prefix}start, {prefix}end, {prefix}as_of."""
        return {f"{prefix}start": self.start, f"{prefix}end": self.end,
                f"{prefix}as_of": self.as_of}
