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

