"""The explorer's first chart, the trend, read from the summary marts (migration 0020)
gives exactly the frame counted from the tickets, for every window, grain, filter the
marts hold and as-of (the hand-made warehouse of test_summary_marts: tickets closed or
due on the as-of's own day, closed after it, open, unrated)."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd

from pipelines.queries import explore as q
from tests.unit import test_summary_marts as hand_made
from tests.unit.test_summary_marts import CATEGORIES, COMMUNITIES, NOW, NOWS, _windows

con = hand_made.con  # the fixture: the same warehouse, built for this module

MART_FILTERS = ({}, {"categories": CATEGORIES[1:]}, {"levels": (3,)},
                {"levels": (1, 2), "categories": CATEGORIES[:1]})


def test_trend_from_marts__equals_the_ticket_scan_for_every_window_grain_and_as_of(con):
    compared = []
    for now, (first, last), f, grain in itertools.product(
            NOWS, _windows(), MART_FILTERS, q.GRAINS):
        filters = q.TicketFilters(first, last, **f)
        params = filters.params(now)
        params["grain"] = grain
        scan = q._execute(con, "explore__trend", params).df()
        marts = q._trend_from_marts(con, filters, grain, now)
        pd.testing.assert_frame_equal(marts, scan,
                                      obj=f"{now} {first}..{last} {f} {grain}")
        compared.append(len(scan))
    # not a comparison of empty frames: most trends have tickets
    assert sum(n > 0 for n in compared) >= 0.8 * len(compared)


def test_ticket_trend__reads_the_marts_for_more_than_a_week_with_their_filters_only(
        con, monkeypatch):
    asked = []
    real = q._trend_from_marts
    monkeypatch.setattr(q, "_trend_from_marts",
                        lambda c, f, g, n: asked.append(f) or real(c, f, g, n))
    views = [q.TicketFilters(dt.date(2026, 8, 23), dt.date(2026, 11, 20)),
             q.TicketFilters(dt.date(2026, 8, 23), dt.date(2026, 11, 20),
                             communities=COMMUNITIES[:1]),
             q.TicketFilters(dt.date(2026, 8, 23), dt.date(2026, 11, 20),
                             statuses=("open",)),
             q.TicketFilters(dt.date(2026, 11, 14), dt.date(2026, 11, 20)),
             q.TicketFilters(dt.date(2026, 11, 13), dt.date(2026, 11, 20), levels=(3,))]
    for f in views:
        shown = q.ticket_trend(con, f, grain="week", now=NOW)
        pd.testing.assert_frame_equal(
            shown, q.ticket_trend(con, f, grain="week", now=NOW, from_marts=False))
    assert asked == [views[0], views[4]]
