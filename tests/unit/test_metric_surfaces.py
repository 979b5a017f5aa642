"""Where a metric is shown is derived from the surfaces' declarations (wall views, the
alarm strip, explorer pages, export reports), and each wall view's declaration is held
to what its renderer draws: a figure marked with a metric the view does not declare, or
a declared metric the view never draws, fails here."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from dashboards._wall_views import alarm_strip, renderer
from pipelines.metrics.catalog import BY_ID
from pipelines.metrics.surfaces import SHOWN, SURFACES
from pipelines.queries import wall
from pipelines.queries.explore import EXPLORER_PAGES
from pipelines.queries.exports import REPORTS
from pipelines.settings import Settings
from tests.factories import TEST_SECRET

NOW = datetime(2026, 11, 23, 10, 30)


@pytest.fixture(scope="module")
def con(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """The demo sub-district (small), loaded by the real loaders."""
    from pipelines.bootstrap import load_demo_inputs
    from pipelines.demo import write_demo

    tmp = tmp_path_factory.mktemp("surfaces")
    settings = Settings(db_path=tmp / "w.duckdb", demo_dir=tmp / "demo",
                        secret=TEST_SECRET, secret_file=tmp / "key", calendar_file=None)
    files = write_demo(tmp / "demo", years=1, tickets_per_year=20_000,
                       today=NOW.date(), clock=NOW.time().replace(minute=0))
    load_demo_inputs(settings, files)
    c = duckdb.connect(str(Path(settings.db_path)), read_only=True)
    yield c
    c.close()


def marked_metrics(component) -> set[str]:
    """Every `data-metric` in a rendered Dash tree."""
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child)
        elif hasattr(node, "to_plotly_json"):
            props = node.to_plotly_json()["props"]
            if props.get("data-metric"):
                found.add(props["data-metric"])
            walk(props.get("children"))

    walk(component)
    return found


def _variants(view: str, figures: dict) -> list[dict]:
    """The figures as drawn, and as drawn in the states the view also has: a published
    month (closing balance) and a running one; the map coloured by each of its metrics."""
    if view == "accounts":
        return [{**figures, "is_final": final} for final in (True, False)]
    return [figures]


@pytest.mark.parametrize("view", wall.VIEWS)
def test_wall_view__draws_exactly_the_metrics_it_declares(con, view):
    spec = wall.WALL_VIEWS[view]
    draw = renderer(view)
    filters = [{}] if view != "map" else [{"metric": m} for m in wall.MAP_METRICS]
    drawn = set()
    for f in filters:
        figures = wall.wall_view_data(con, view, now=NOW, filters=f)
        assert figures["available"], figures.get("missing")
        for variant in _variants(view, figures):
            for lang in ("zh", "en"):
                drawn |= marked_metrics(draw(variant, lang))
    assert drawn == set(spec.metrics)


def test_alarm_strip__draws_exactly_its_declared_metrics(con):
    data = wall.alarm_data(con, wall.Clock.at(NOW), settings=Settings(),
                           tables=wall.existing_tables(con))
    assert marked_metrics(alarm_strip(data, "zh")) == set(wall.ALARMS)


def test_shown__every_surface_listed_and_every_metric_somewhere():
    # the map was missing from the hand-kept list; every declared surface is listed now
    assert {f"wall.{v}" for v in wall.VIEWS} | {"wall.alarms"} <= set(SURFACES)
    assert {f"explore.{p}" for p in EXPLORER_PAGES} <= set(SURFACES)
    assert {f"export.{r.name}" for r in REPORTS.values() if r.metrics} <= set(SURFACES)
    assert set(SHOWN) == set(BY_ID)
    assert all(SHOWN.values()), [m for m, where in SHOWN.items() if not where]


def test_shown__a_new_view_declaring_a_metric_lists_it_there(monkeypatch):
    import importlib

    from pipelines.metrics import surfaces

    extra = dataclasses.replace(wall.WALL_VIEWS["levels"], id="extra",
                                title=("额外", "Extra"), metrics=("closed",))
    monkeypatch.setitem(wall.WALL_VIEWS, "extra", extra)
    try:
        fresh = importlib.reload(surfaces)
        assert "wall.extra" in fresh.SHOWN["closed"]
        assert fresh.SURFACES["wall.extra"] == ("大屏·额外", "Wall: Extra")
    finally:
        monkeypatch.undo()
        importlib.reload(surfaces)


def test_shown__an_unknown_metric_in_a_declaration_is_an_error(monkeypatch):
    import importlib

    from pipelines.metrics import surfaces

    bad = dataclasses.replace(wall.WALL_VIEWS["levels"], metrics=("reported", "nonesuch"))
    monkeypatch.setitem(wall.WALL_VIEWS, "levels", bad)
    try:
        with pytest.raises(ValueError, match="wall.levels shows nonesuch"):
            importlib.reload(surfaces)
    finally:
        monkeypatch.undo()
        importlib.reload(surfaces)
