"""The map loader (`load geo`): a hostile GeoJSON gets a clear quarantine or a clear error,
and never costs the map already loaded; the wall's map data and renderer use what loaded."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pytest

from dashboards._wall_map import map_view
from pipelines import warehouse
from pipelines.geo import MAX_BYTES, load_geo
from pipelines.loader import LoadError
from pipelines.queries import wall as q


def square(x: float, y: float, d: float = 0.01) -> list:
    return [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]


def feature(geometry_type: str, coordinates, **props) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": geometry_type, "coordinates": coordinates}}


def collection(*features, **extra) -> dict:
    return {"type": "FeatureCollection", "features": list(features), **extra}


@pytest.fixture
def places(settings):
    """A warehouse knowing two communities, one grid and one compound."""
    with warehouse.writer(settings) as con:
        con.execute("insert into grids values ('东片区', '龙塔社区', '龙塔社区第1网格', "
                    "null, 3, 250, 1, 0), ('东片区', '望江社区', '望江社区第1网格', "
                    "null, 3, 250, 2, 0)")
        con.execute("insert into compounds values ('金桂苑', '龙塔社区', null, 1, 0)")
    return settings


def write(tmp_path, data, name="map.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def areas(settings) -> list[tuple]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return con.execute("select community, grid from geo_areas "
                           "order by community, grid nulls first").fetchall()
    finally:
        con.close()


def quarantine(settings) -> list[str]:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return [r[0] for r in con.execute(
            "select reason from quarantine where source = 'geo' order by line_no")
            .fetchall()]
    finally:
        con.close()


def test_load_geo__good_features_load_and_each_bad_one_is_quarantined_with_its_reason(
        places, tmp_path):
    bowtie = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    path = write(tmp_path, collection(
        feature("Polygon", square(106.5, 29.5), community="龙塔社区"),
        feature("Polygon", square(106.5, 29.5, 0.005), community="龙塔社区",
                grid="龙塔社区第1网格"),
        feature("Point", [106.505, 29.505], compound="金桂苑"),
        feature("Polygon", [[[106.6, 29.5], [106.61, 29.5], [106.61, 29.51],
                             [106.6, 29.51]]], community="望江社区"),       # 4: unclosed
        feature("Polygon", bowtie, community="望江社区"),                  # 5: self-crossing
        feature("Polygon", square(106.7, 29.5), community="<script>alert(1)</script>"),
        feature("Polygon", square(12_000_000, 3_400_000), community="望江社区"),  # 7: metres
        feature("Polygon", square(106.5, 29.5), community="龙塔社区"),     # 8: duplicate
        feature("Polygon", square(106.8, 29.5), community="望江社区", grid="第9网格"),
    ))
    report = load_geo(places, path)
    assert (report.features, report.areas, report.points) == (9, 2, 1)
    reasons = dict(report.quarantined)
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9]
    assert "not closed" in reasons[4]
    assert "invalid geometry: Self-intersection" in reasons[5]
    assert reasons[6] == "unknown community '<script>alert(1)</script>'"
    assert "not WGS84 longitude/latitude" in reasons[7]
    assert reasons[8] == "duplicate of feature 1"
    assert "unknown grid '第9网格'" in reasons[9]
    assert areas(places) == [("龙塔社区", None), ("龙塔社区", "龙塔社区第1网格")]
    assert quarantine(places)[0].startswith("feature 4: ring 1 is not closed")


@pytest.mark.parametrize("case, message", [
    ("too_big", "over the 20 MB limit of a map file"),
    ("wrong_crs", "declares the coordinate system 'urn:ogc:def:crs:EPSG::3857'"),
    ("not_json", "line 1, column 2: not valid JSON"),
    ("nothing_usable", "no usable community or grid shape (feature 1: unknown community"),
])
def test_load_geo__a_file_it_cannot_use_is_refused_and_the_map_stays(places, tmp_path,
                                                                      case, message):
    load_geo(places, write(tmp_path, collection(
        feature("Polygon", square(106.5, 29.5), community="龙塔社区")), "good.geojson"))
    if case == "too_big":
        path = tmp_path / "big.geojson"
        with path.open("wb") as f:
            f.truncate(MAX_BYTES + 1)  # sparse: 20 MB + 1 byte without writing them
    elif case == "wrong_crs":
        path = write(tmp_path, collection(
            feature("Polygon", square(106.5, 29.5), community="望江社区"),
            crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}))
    elif case == "not_json":
        path = tmp_path / "bad.geojson"
        path.write_text("{]", encoding="utf-8")
    else:
        path = write(tmp_path, collection(
            feature("Polygon", square(106.5, 29.5), community="<script>x</script>")))
    with pytest.raises(LoadError) as e:
        load_geo(places, path)
    assert str(path) in str(e.value) and message in str(e.value)
    assert "the map is unchanged" in str(e.value) or case == "not_json"
    assert areas(places) == [("龙塔社区", None)]


def test_map_view__draws_loaded_names_as_text_and_tiles_without_a_map(places, tmp_path):
    load_geo(places, write(tmp_path, collection(
        feature("Polygon", square(106.5, 29.5), community="龙塔社区"))))
    con = duckdb.connect(str(places.db_path), read_only=True)
    try:
        data = q.map_data(con, q.Clock.at(datetime(2026, 11, 23, 9), None, "Asia/Shanghai"),
                          metric="'; drop table tickets; --")
    finally:
        con.close()
    assert data["metric"] == "open"  # not in the allow-list: the default
    drawn = json.dumps(map_view(data, "zh"), default=lambda o: o.to_plotly_json(),
                       ensure_ascii=False)
    assert '"data-community": "龙塔社区"' in drawn and "mp-tiles" not in drawn
    tiles = json.dumps(map_view({**data, "areas": []}, "zh"),
                       default=lambda o: o.to_plotly_json(), ensure_ascii=False)
    assert "mp-tiles" in tiles and tiles.count('"data-community"') == 2
