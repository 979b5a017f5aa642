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
