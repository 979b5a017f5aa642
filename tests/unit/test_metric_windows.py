"""Time windows: partial periods say so, and comparisons are like for like.

On the 1st, the 3rd and the last day of a month, across Spring Festival and National Day,
and at midnight: a to-date window compares with the same span of the earlier period, to
the same time of day, judged as long after its own end.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from pipelines.metrics import Window

CUT = datetime(2026, 12, 3, 8, 59)
US = timedelta(microseconds=1)


def test_month_to_date_on_the_3rd__says_it_runs_and_compares_the_same_3_days():
    w = Window.to_date("month", CUT)
    assert w.is_partial and w.days_elapsed == 3
    assert w.label("zh") == "本月至今 3 天（截至 12-03 08:59）"
    assert w.label("en") == "Month to date, 3 days (to 12-03 08:59)"
    prev, ly = w.previous(), w.year_ago()
    assert (prev.start, prev.end, prev.as_of) == (
        datetime(2026, 11, 1), datetime(2026, 11, 3, 8, 59), datetime(2026, 11, 3, 8, 59))
    assert (ly.start, ly.end) == (datetime(2025, 12, 1), datetime(2025, 12, 3, 8, 59))
    assert prev.is_partial and ly.is_partial  # never drawn or ranked as whole months


def test_today__compares_with_the_same_date_last_year_to_the_cutoff_hour():
    """Issue 14: today to 08:59 was compared with last year to the wall clock's 15:43."""
    ly = Window.to_date("day", CUT).year_ago()
    assert (ly.start, ly.end) == (datetime(2025, 12, 3), datetime(2025, 12, 3, 8, 59))
    assert Window.to_date("day", CUT).label("zh") == "今日至 08:59"


def test_on_the_1st__one_day_of_the_month_against_one_day():
    w = Window.to_date("month", datetime(2026, 12, 1, 7, 30))
    assert w.label("zh").startswith("本月至今 1 天")
    assert w.previous().end == datetime(2026, 11, 1, 7, 30)


@pytest.mark.parametrize("cut, prev_end", [
    (datetime(2026, 11, 30, 23, 59), datetime(2026, 10, 30, 23, 59)),  # same 30 days
    (datetime(2026, 3, 31, 12, 0), datetime(2026, 2, 28, 23, 59, 59, 999999)),  # clipped
])
def test_on_the_last_day__still_partial_and_compared_with_the_same_days(cut, prev_end):
    w = Window.to_date("month", cut)
    assert w.is_partial
    assert w.previous().end == prev_end


def test_at_midnight__the_new_day_has_begun_and_is_partial():
    w = Window.to_date("day", datetime(2026, 12, 3, 0, 0))
    assert w.start == w.end == datetime(2026, 12, 3) and w.is_partial
    m = Window.to_date("month", datetime(2026, 12, 1, 0, 0))
    assert m.days_elapsed == 1 and m.previous().end == datetime(2026, 11, 1)
    # the last instant of a month is the month whole
    whole = Window.to_date("month", datetime(2026, 11, 30, 23, 59, 59, 999999))
    assert not whole.is_partial and whole.label("zh") == "2026年11月"


def test_across_spring_festival__compares_calendar_dates_not_lunar_ones():
    """Spring Festival 2026 is 17 February, 2025's was 29 January: the comparison is the
    same calendar dates (what the label says), so the holiday weeks differ by design."""
    w = Window.to_date("month", datetime(2026, 2, 20, 18, 0))
    ly = w.year_ago()
    assert (ly.start, ly.end) == (datetime(2025, 2, 1), datetime(2025, 2, 20, 18, 0))
    assert w.previous().start == datetime(2026, 1, 1)


def test_across_national_day__week_and_quarter_to_date():
    week = Window.to_date("week", datetime(2026, 10, 3, 10, 0))  # Saturday
    assert week.start == datetime(2026, 9, 28)  # weeks start on Monday
    assert (week.previous().start, week.previous().end) == (
        datetime(2026, 9, 21), datetime(2026, 9, 26, 10, 0))  # Monday to Saturday 10:00
    q4 = Window.to_date("quarter", datetime(2026, 10, 1, 0, 0))
    assert q4.label("zh") == "本季至今 1 天（截至 10-01 00:00）"
    assert q4.previous().start == datetime(2026, 7, 1)


def test_a_complete_period__compared_as_it_stood_the_same_time_after_its_end():
    """Issue 14, level 3 November: judged at today's date last year's closure read about
    100%; judged at the same distance after its own end it compares fairly."""
    nov = Window.complete("month", date(2026, 11, 5), as_of=CUT)
    assert not nov.is_partial and nov.label("zh") == "2026年11月"
    ly = nov.year_ago()
    assert (ly.start, ly.as_of) == (datetime(2025, 11, 1), datetime(2025, 12, 3, 8, 59))
    assert nov.previous().as_of == datetime(2026, 11, 3, 8, 59)


def test_rolling__last_n_days_to_the_cutoff():
    w = Window.rolling(7, CUT)
    assert w.start == datetime(2026, 11, 27) and w.label("zh") == "近 7 天（截至 12-03 08:59）"
    assert w.previous().end == datetime(2026, 11, 26, 8, 59)
    with pytest.raises(ValueError, match="at least 1 day"):
        Window.rolling(0, CUT)


def test_leap_day__a_year_earlier_is_the_28th():
    w = Window.to_date("day", datetime(2028, 2, 29, 9, 0))
    assert w.year_ago().start == datetime(2027, 2, 28)


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year"])
def test_every_grain__labels_itself_in_both_languages(grain):
    w = Window.to_date(grain, CUT)
    assert "12-03 08:59" in w.label("en") or "08:59" in w.label("en")
    whole = Window.complete(grain, date(2025, 6, 15))
    assert not whole.is_partial and whole.label("zh") and whole.label("en")


D = date.fromisoformat


@pytest.mark.parametrize(
    ("first", "last", "prev_start", "prev_end"),
    [
        # the explorer's presets on Thursday 3 December at 08:59
        ("2026-12-01", "2026-12-03", datetime(2026, 11, 1), datetime(2026, 11, 3, 8, 59)),
        ("2026-11-01", "2026-11-30", datetime(2026, 10, 1), datetime(2026, 11, 1) - US),
        ("2026-07-01", "2026-09-30", datetime(2026, 4, 1), datetime(2026, 7, 1) - US),
        ("2026-11-30", "2026-12-03", datetime(2026, 11, 23), datetime(2026, 11, 26, 8, 59)),
        ("2026-11-23", "2026-11-29", datetime(2026, 11, 16), datetime(2026, 11, 23) - US),
        ("2026-01-01", "2026-12-03", datetime(2025, 1, 1), datetime(2025, 12, 3, 8, 59)),
        # dates that do not start a calendar period move back by their own length
        ("2026-11-04", "2026-12-03", datetime(2026, 10, 5), datetime(2026, 11, 3, 8, 59)),
        ("2026-12-03", "2026-12-03", datetime(2026, 12, 2), datetime(2026, 12, 2, 8, 59)),
        # two whole months, the largest unit that fits
        ("2026-10-01", "2026-11-30", datetime(2026, 8, 1), datetime(2026, 10, 1) - US),
        # the first days of a month, over: the same days of the month before
        ("2026-11-01", "2026-11-03", datetime(2026, 10, 1), datetime(2026, 10, 4) - US),
        # a whole short month after a long one, and a long one after a short one
        ("2026-03-01", "2026-03-31", datetime(2026, 2, 1), datetime(2026, 3, 1) - US),
        ("2026-02-01", "2026-02-28", datetime(2026, 1, 1), datetime(2026, 2, 1) - US),
        # Monday 1 June: a whole week compares with the week before
        ("2026-06-01", "2026-06-07", datetime(2026, 5, 25), datetime(2026, 6, 1) - US),
    ],
)
def test_chosen_dates_that_follow_the_calendar__compare_with_the_calendar(
    first, last, prev_start, prev_end
):
    """The explorer's "上月" (1-30 November) compared with 2-31 October and "本月" on the
    3rd with 28-30 November: the 30 or 3 days before, not the month before."""
    w = Window.dates(D(first), D(last), CUT, CUT)
    prev = w.previous()
    assert (prev.start, prev.end) == (prev_start, prev_end)
    assert prev.is_partial == w.is_partial
    assert prev.as_of - prev.end == w.as_of - w.end  # judged as long after its end


def test_running_month_chosen_to_its_end__compares_with_the_same_days_before():
    w = Window.dates(D("2026-12-01"), D("2026-12-31"), CUT, CUT)
    assert w.is_partial
    prev = w.previous()
    assert (prev.start, prev.end) == (datetime(2026, 11, 1), datetime(2026, 11, 3, 8, 59))
    assert prev.is_partial


@pytest.mark.parametrize(
    ("first", "last", "prev_label", "ly_label"),
    [
        # 今年以来 on 14 August 2025: last year's days are over, not "to date" (previous:
        # as many days, 2024 being a leap year; last year: the same dates)
        ("2025-01-01", "2025-12-31", "2024-01-01–08-13 15:20", "2024-01-01–08-14 15:20"),
        # dates that start no calendar period, running past the cut-off
        ("2025-07-10", "2025-09-30", "2025-04-18–05-23 15:20", "2024-07-10–08-14 15:20"),
    ],
)
def test_running_range__its_comparisons_are_over_and_never_read_to_date(
    first, last, prev_label, ly_label
):
    """"（至今）" belongs to the span that runs to the data cut-off, not to the earlier
    spans it is compared with."""
    cut = datetime(2025, 8, 14, 15, 20)
    w = Window.dates(D(first), D(last), cut, cut)
    assert w.label("zh") == f"{first}–08-14 15:20（至今）"
    assert w.label("en") == f"{first}–08-14 15:20 (to date)"
    prev, ly = w.previous(), w.year_ago()
    assert prev.is_partial and ly.is_partial  # like for like: still not whole periods
    assert (prev.label("zh"), ly.label("zh")) == (prev_label, ly_label)
    for label in (prev.label("zh"), prev.label("en"), ly.label("zh"), ly.label("en")):
        assert "至今" not in label and "to date" not in label
