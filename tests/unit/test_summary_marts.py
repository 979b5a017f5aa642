"""The explorer summary read from its marts (migrations 0020, 0022) gives exactly the figures
counted from the tickets, for every window and as-of the explorer asks, and falls back
to the tickets when the marts cannot settle a figure.

A hand-made warehouse: tickets closed after the cut-off and after the as-of, closed on
the as-of's own day before and after it, due that day, reopened, escalated to level 3,
unrated, over the selected dates and the same dates a year before.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

import duckdb
import pandas as pd
import pytest

from dashboards._explore_state import PRESETS, preset_window
from pipelines.loader import load_files
from pipelines.metrics.compute import data_cutoff
from pipelines.queries import explore as q
from tests.factories import ticket_row, write_csv

NOW = dt.datetime(2026, 11, 20, 12, 0)
COMMUNITIES = ("龙塔社区", "望江社区", "东湖社区")
CATEGORIES = ("城市管理", "环境卫生")
# hours to close: ties, so that many medians fall in one 0.1-h bucket
HOURS = (1, 2, 2, 3, 5, 26, 50, 130)
LABELS = ["is_partial", "label_zh", "label_en"]


def _ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _rows(rng: random.Random, year: int) -> list[dict]:
    rows = []
    for n in range(160):
        reported = dt.datetime(year, 9, 1, 8) + dt.timedelta(
            days=rng.randrange(81), minutes=rng.randrange(14 * 60))
        if year == NOW.year and reported > NOW - dt.timedelta(hours=3):
            continue  # the cut-off stays 09:00 on 20 November (below)
        closed = reported + dt.timedelta(hours=rng.choice(HOURS))
        open_ = rng.random() < 0.15
        rows.append(ticket_row(
            ticket_id=f"Y{year}N{n:03d}", reported_at=_ts(reported),
            accepted_at=_ts(reported), responded_at="", level=str(rng.choice((1, 1, 2, 3))),
            community=rng.choice(COMMUNITIES), category=rng.choice(CATEGORIES),
            closed_at="" if open_ else _ts(closed), updated_at=_ts(reported),
            satisfaction=rng.choice(("satisfied", "dissatisfied", ""))))
    return rows


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    from pipelines.settings import Settings
    from tests.factories import TEST_SECRET

    root = tmp_path_factory.mktemp("marts")
    settings = Settings(db_path=root / "w.duckdb", secret=TEST_SECRET,
                        secret_file=root / "k", calendar_file=None)
    rng = random.Random(16)
    rows = _rows(rng, 2025) + _rows(rng, 2026)
    edge = dict(accepted_at="", responded_at="", updated_at="2026-11-20 09:00:00",
                community=COMMUNITIES[0], category=CATEGORIES[0])
    rows += [
        # the cut-off: the newest report
        ticket_row(ticket_id="CUT", reported_at="2026-11-20 09:00:00", closed_at="", **edge),
        # closed after the cut-off, before now; after now (the feed's clock runs ahead)
        ticket_row(ticket_id="AFTERCUT", reported_at="2026-11-20 07:00:00",
                   closed_at="2026-11-20 11:00:00", **edge),
        ticket_row(ticket_id="AFTERNOW", reported_at="2026-11-19 10:00:00",
                   closed_at="2026-11-20 13:30:00", **edge),
        # last year: closed on the as-of's day, before and after the as-of's minute
        ticket_row(ticket_id="LY1", reported_at="2025-11-20 06:00:00",
                   closed_at="2025-11-20 11:59:00", **edge),
        ticket_row(ticket_id="LY2", reported_at="2025-11-20 06:00:00",
                   closed_at="2025-11-20 12:01:00", **edge),
        # level 3 open, due in five working days: overdue at some as-ofs, not others
        ticket_row(ticket_id="L3", level="3", reported_at="2026-11-13 10:00:00",
                   closed_at="", **edge),
    ]
    load_files(settings, "tickets", [write_csv(root / "t.csv", rows)], progress=False)
    later = dict(updated_at="2026-11-20 09:00:00")
    changed = [r for r in rows if r["ticket_id"].endswith(("3", "7"))][:40]
    updates = []
    for i, r in enumerate(changed):
        if i % 3 == 0:  # reopened
            updates.append({**r, "closed_at": "", **later})
        elif i % 3 == 1:  # escalated to level 3, closed days later
            reported = dt.datetime.fromisoformat(r["reported_at"])
            updates.append({**r, "level": "3", "escalated_at": _ts(reported),
                            "closed_at": _ts(reported + dt.timedelta(days=6, hours=1)),
                            **later})
        else:  # rating withdrawn
            updates.append({**r, "satisfaction": "", **later})
    load_files(settings, "tickets", [write_csv(root / "u.csv", updates)], progress=False)
    c = duckdb.connect(str(settings.db_path), read_only=True)
    assert data_cutoff(c, NOW) == dt.datetime(2026, 11, 20, 9)
    yield c
    c.close()


def _filters():
    """Every grain of the marts (migration 0022): none, categories, levels, both."""
    return [{}, {"categories": CATEGORIES[1:]}, {"levels": (3,)}, {"levels": (1, 2)},
            {"categories": CATEGORIES[:1], "levels": (1, 3)},
            {"categories": CATEGORIES, "levels": (2,)}]


def _windows():
    cutoff = dt.datetime(2026, 11, 20, 9)
    dates = [(w.start.date(), w.end.date())
             for w in (preset_window(p, cutoff) for p in PRESETS)]
    return dates + [(dt.date(2026, 8, 23), dt.date(2026, 11, 20)),  # the default 90 days
                    (dt.date(2026, 10, 3), dt.date(2026, 10, 17))]


# judged now, later the same day, and at a pinned asof
NOWS = (NOW, NOW + dt.timedelta(hours=4, minutes=7), dt.datetime(2026, 10, 31, 17, 45))


def test_summary_marts__equal_the_ticket_scan_for_every_window_filter_and_as_of(con):
    answered = 0
    for now, (first, last), f in itertools.product(NOWS, _windows(), _filters()):
        filters = q.TicketFilters(first, last, **f)
        scan = q.ticket_summary(con, filters, now=now, from_marts=False)
        windows = q.summary_windows(filters, now, data_cutoff(con, now))
        marts = q._summary_from_marts(con, filters, windows)
        if marts is not None:
            answered += 1
            pd.testing.assert_frame_equal(marts, scan.drop(columns=LABELS),
                                          obj=f"{now} {first}..{last} {f}")
    # most summaries come from the marts (the rest: a median between two buckets)
    assert answered >= 0.6 * len(NOWS) * len(_windows()) * len(_filters())


def test_summary_marts__a_median_between_two_buckets_is_counted_from_tickets(
        make_settings, tmp_path):
    # two tickets closed in 1 h and 2 h: the median, 1.5 h, is in neither bucket
    settings = make_settings()
    f = q.TicketFilters(dt.date(2026, 11, 1), dt.date(2026, 11, 15))

    def add(ticket_id: str, hours: int) -> tuple[pd.DataFrame | None, pd.DataFrame]:
        row = ticket_row(ticket_id=ticket_id, reported_at="2026-11-10 09:00:00",
                         closed_at=f"2026-11-10 {9 + hours}:00:00", accepted_at="",
                         responded_at="", updated_at="")
        load_files(settings, "tickets", [write_csv(tmp_path / f"{ticket_id}.csv", [row])],
                   progress=False)
        c = duckdb.connect(str(settings.db_path), read_only=True)
        try:
            return (q._summary_from_marts(c, f, q.summary_windows(f, NOW)),
                    q.ticket_summary(c, f, now=NOW))
        finally:
            c.close()

    add("M1", 1)
    marts, shown = add("M2", 2)
    assert marts is None and shown["median_close_hours"].tolist()[0] == 1.5
    # a third, closed in 2 h: the middle ticket is in the 2.0 bucket, the marts answer
    marts, shown = add("M3", 2)
    assert marts["median_close_hours"].tolist()[0] == 2.0
    assert shown["median_close_hours"].tolist()[0] == 2.0


@pytest.mark.parametrize("other", [{"communities": COMMUNITIES[:1]},
                                   {"grids": ("龙塔社区第1网格",)},
                                   {"compounds": ("金桂苑",)}, {"sources": ("热线",)},
                                   {"handlers": ("property",)}, {"statuses": ("open",)}])
def test_summary_marts__a_filter_the_marts_do_not_hold_reads_the_tickets(con, other):
    f = q.TicketFilters(dt.date(2026, 10, 1), dt.date(2026, 11, 20), **other)
    assert q._summary_from_marts(con, f, q.summary_windows(f, NOW)) is None


def test_ticket_summary__reads_the_marts_for_more_than_a_week_without_a_community(
        con, monkeypatch):
    # shorter dates read few tickets: the scan costs no more; the marts hold no
    # community (migration 0022)
    answered = []
    real = q._summary_from_marts

    def spy(c, f, w):
        frame = real(c, f, w)
        if frame is not None:
            answered.append(f)
        return frame

    monkeypatch.setattr(q, "_summary_from_marts", spy)
    views = [q.TicketFilters(dt.date(2026, 10, 1), dt.date(2026, 11, 20)),
             q.TicketFilters(dt.date(2026, 10, 1), dt.date(2026, 11, 20),
                             communities=COMMUNITIES[:1]),
             q.TicketFilters(dt.date(2026, 11, 14), dt.date(2026, 11, 20)),
             q.TicketFilters(dt.date(2026, 11, 13), dt.date(2026, 11, 20), levels=(3,))]
    for f in views:
        q.ticket_summary(con, f, now=NOW)
    assert answered == [views[0], views[3]]


def test_summary_moved__is_the_summary_judged_later_whenever_it_answers(con):
    """A summary judged a little later is taken from the earlier one only when nothing
    it counts happened in between: at instants either side of closures (after the
    cut-off, and last year's on the as-of's day), of open tickets' deadlines and of the
    newest report, the moved frame is the one computed then, or there is none."""
    deadlines = [d for (d,) in con.execute(
        "select distinct deadline_at from tickets where closed_at is null "
        "and deadline_at between $a and $b order by 1 limit 4",
        {"a": NOW - dt.timedelta(days=10), "b": NOW + dt.timedelta(days=1)}).fetchall()]
    events = [dt.datetime(2026, 11, 20, 11, 0), dt.datetime(2026, 11, 20, 13, 30),
              dt.datetime(2026, 11, 20, 11, 59), dt.datetime(2026, 11, 20, 12, 1),
              dt.datetime(2026, 11, 20, 9, 0), *deadlines]
    half = dt.timedelta(seconds=30)
    pairs = [(e - half, e + half) for e in events] + [(e + half, e + 3 * half)
                                                      for e in events]
    cutoff = dt.datetime(2026, 11, 20, 9)
    windows = [(w.start.date(), w.end.date()) for w in (
        preset_window(p, cutoff) for p in ("today", "this_month", "last_90"))]
    moved = stayed = 0
    for (t0, t1), (first, last), f in itertools.product(
            pairs, windows, [{}, {"communities": COMMUNITIES[:1]}]):
        filters = q.TicketFilters(first, last, **f)
        earlier = q.ticket_summary(con, filters, now=t0)
        got = q.summary_moved(con, filters, earlier, judged_at=t0, now=t1)
        if got is None:
            stayed += 1
            continue
        moved += 1
        pd.testing.assert_frame_equal(got, q.ticket_summary(con, filters, now=t1),
                                      obj=f"{t0}->{t1} {first}..{last} {f}")
    assert moved and stayed  # both happen: the check is neither always nor never
