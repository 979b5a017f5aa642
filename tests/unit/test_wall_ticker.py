"""The wall's ticker shows category and place by default: names in a description cannot be
found by patterns, so only a center that chooses WALL_TICKER_TEXT=description shows it."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import plotly
import pytest

from dashboards._wall_views import ticker
from pipelines.loader import load_files
from pipelines.queries import wall as q
from pipelines.settings import load_settings
from tests.factories import ticket_row, write_csv

NOW = datetime(2025, 9, 23, 18, 0)
DESCRIPTION = "张桂英家楼上漏水，电话13812345678"


def _ticker(settings, tmp_path) -> tuple[list[dict], str]:
    path = write_csv(tmp_path / "t.csv", [ticket_row(description=DESCRIPTION)])
    load_files(settings, "tickets", [path])
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        items = q.alarm_data(con, q.Clock.at(NOW), settings=settings,
                             tables=q.existing_tables(con))["ticker"]
    finally:
        con.close()
    shown = json.dumps(ticker(items, "zh"), cls=plotly.utils.PlotlyJSONEncoder,
                       ensure_ascii=False)
    return items, shown


def test_wall_ticker__shows_category_and_place_but_no_description_by_default(
        settings, tmp_path):
    items, shown = _ticker(settings, tmp_path)
    assert [(r["community"], r["grid"], r["category"], r["description"]) for r in items] == [
        ("龙塔社区", "龙塔社区第1网格", "城市管理", None)]
    assert "龙塔社区第1网格" in shown and "城市管理" in shown
    assert "张桂英" not in shown and "漏水" not in shown


def test_wall_ticker__shows_the_masked_description_when_the_center_chooses_it(
        make_settings, tmp_path):
    _, shown = _ticker(make_settings(wall_ticker_text="description"), tmp_path)
    assert "张桂英家楼上漏水，电话[手机号]" in shown


def test_load_settings__unknown_ticker_text_is_refused():
    assert load_settings({}).wall_ticker_text == "category_place"
    assert load_settings({"WALL_TICKER_TEXT": "description"}).wall_ticker_text == "description"
    with pytest.raises(ValueError, match="WALL_TICKER_TEXT must be one of category_place, "
                                         "description, got 'all'"):
        load_settings({"WALL_TICKER_TEXT": "all"})
