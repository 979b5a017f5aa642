"""A wall view is one declaration (`pipelines.queries.wall.WALL_VIEWS`): the page, the
playlists, the titles, the status page's links and the slide's drawing all follow it."""

from __future__ import annotations

import inspect
from dataclasses import replace

import pytest

from dashboards import _i18n
from dashboards._wall_playlist import bounded_config, parse_playlist
from pipelines.queries import wall as q


@pytest.mark.parametrize("view", q.VIEWS)
def test_every_view__names_a_drawing_that_exists(view):
    from dashboards._wall_views import renderer

    draw = renderer(view)
    assert callable(draw) and list(inspect.signature(draw).parameters)[:2] == ["d", "lang"]


@pytest.mark.parametrize("view", q.VIEWS)
def test_every_view__has_its_title_in_both_languages_from_its_declaration(view):
    zh, en = q.WALL_VIEWS[view].title
    assert zh and en
    assert _i18n.t(f"view.{view}", "zh") == zh and _i18n.t(f"view.{view}", "en") == en


def test_a_new_declaration_is_a_view_of_every_list(monkeypatch):
    """Declaring a view is enough for the playlists, its filters and its "no data yet"."""
    extra = replace(q.WALL_VIEWS["levels"], id="extra", tables=("nowhere",),
                    filters=("community",))
    monkeypatch.setitem(q.WALL_VIEWS, "extra", extra)
    monkeypatch.setattr(q, "VIEWS", (*q.VIEWS, "extra"))
    assert parse_playlist("extra:community=x;metric=open") == [
        {"view": "extra", "filters": {"community": "x"}}]
    config, cut = bounded_config({"playlist": [{"view": "extra", "filters": {}}],
                                  "lang": "zh"})
    assert config["playlist"] == [{"view": "extra", "filters": {}}] and not cut
    d = q.wall_view_data(None, "extra", tables=set())
    assert d["available"] is False and d["missing"] == ["nowhere"]


def test_filters__a_view_keeps_only_the_keys_it_declares():
    assert parse_playlist("map:metric=overdue_open,levels:metric=overdue_open") == [
        {"view": "map", "filters": {"metric": "overdue_open"}},
        {"view": "levels", "filters": {}}]



def test_warnings_slide__has_words_for_every_rule_in_both_languages():
    from dashboards._wall_warnings import WORDS
    from pipelines.warnings_rules import ANOMALY_RULES, RULES

    for rule in [*RULES, *ANOMALY_RULES]:
        for part in ("what", "ev"):
            zh, en = WORDS[f"{part}.{rule}"]
            assert zh and en, (part, rule)


def test_warnings_slide__a_surge_reads_as_what_where_and_how_unusual():
    from decimal import Decimal

    from dashboards._wall_warnings import lines

    surge = {"rule_id": "surge_week", "community": "龙塔社区", "grid": None,
             "category": "物业维修", "compound": None, "source": None, "subject": None,
             "unit": "tickets", "observed": Decimal("41.00"), "expected": Decimal("15.20"),
             "usual_low": Decimal("12.00"), "usual_high": Decimal("18.00"),
             "threshold": Decimal("27.00"), "title": "stored"}
    assert lines(surge, "zh") == ("物业维修 · 龙塔社区", "近7天 41 件，通常 12–18")
    assert lines(surge, "en") == ("物业维修 · 龙塔社区", "41 in 7 days, usually 12–18")
    spike = {**surge, "rule_id": "expense_spike", "community": None, "category": None,
             "compound": "金桂苑", "subject": "2026-11", "unit": "yuan",
             "observed": Decimal("123456.78"), "expected": Decimal("2500.50")}
    assert lines(spike, "zh") == ("支出异常 · 金桂苑", "2026-11 支出 12.35 万元，常月 2,501 元")
    assert lines({**surge, "rule_id": "someday_new"}, "zh") == ("stored", "")


def _texts(node) -> list[str]:
    """Every string a Dash component tree shows (its children, recursively)."""
    if node is None:
        return []
    if isinstance(node, str | int | float):
        return [str(node)]
    if isinstance(node, list | tuple):
        return [t for n in node for t in _texts(n)]
    return _texts(getattr(node, "children", None))


def test_warnings_slide_and_strip__read_in_english_but_for_the_data():
    # ?lang=en: every word of the slide and of the alarm strip is English; only the
    # data (category, community, compound, vote title) stays as stored, in Chinese
    import datetime as dt
    import re
    from decimal import Decimal

    from dashboards._wall_views import alarm_strip
    from dashboards._wall_warnings import warnings_view
    from pipelines.metrics.catalog import load_thresholds
    from pipelines.warnings_rules import ANOMALY_RULES, RULES

    data = {"community": "龙塔社区", "category": "物业维修", "compound": "金桂苑",
            "grid": "龙塔社区第1网格", "subject": "加装电梯表决"}
    units = {"response_timeouts": "pct", "satisfaction_low": "pct", "vote_at_risk": "pct",
             "expense_spike": "yuan", "negative_balance": "yuan", "level4_open": "hours",
             "level3_unanswered": "hours", "source_stale": "hours"}
    severities = ("critical", "high", "medium")
    rows = [{"warning_id": f"w{i}", "rule_id": rule, "severity": severities[i % 3],
             "status": ("new", "ongoing")[i % 2], "source": "tickets", **data,
             "unit": units.get(rule, "tickets"), "observed": Decimal("41.00"),
             "expected": Decimal("15.20"), "usual_low": Decimal("12.00"),
             "usual_high": Decimal("18.00"), "threshold": Decimal("27.00"),
             "title": "物业维修，龙塔社区：近7天 41 件，通常 12–18 件",
             "first_seen_at": dt.datetime(2026, 12, 3, 8, 58)}
            for i, rule in enumerate([*RULES, *ANOMALY_RULES])]
    d = {"warnings": rows, "active_count": len(rows) + 3, "metrics": load_thresholds(None),
         "by_severity": {s: len(rows) // 3 for s in severities}}
    strip = {"items": [{"id": "warnings_active", "value": len(rows), "unit": "",
                        "verdict": "red", "pulse": False}], "cutoff": dt.datetime(2026, 12, 3, 8, 58)}
    shown = " ".join(_texts(warnings_view(d, "en")) + _texts(alarm_strip(strip, "en")))
    assert "41 in 7 days, usually 12–18" in shown
    for value in sorted(data.values(), key=len, reverse=True):
        shown = shown.replace(value, "")
    assert re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+", shown) == []
    # the Chinese wall says the same in Chinese
    assert "近7天 41 件，通常 12–18" in " ".join(_texts(warnings_view(d, "zh")))
