-- The map (python -m pipelines load geo FILE.geojson, pipelines/geo.py): the shapes of
-- communities and grids, and compound locations, as the center's GeoJSON draws them.
-- A load replaces the whole map; features it cannot use go to `quarantine` (source 'geo').

-- One row per community (grid is null) or grid: its outline simplified for the wall,
-- WGS84 lon/lat, and a point inside it for its label.
create table geo_areas (
    community varchar not null,
    grid varchar,
    geometry_json varchar not null,       -- GeoJSON Polygon or MultiPolygon, simplified
    label_lon double not null,
    label_lat double not null,
    load_id bigint not null
);

-- Compounds drawn as points: where their open serious events show on the map.
create table geo_points (
    compound varchar not null,
    community varchar not null,
    lon double not null,
    lat double not null,
    load_id bigint not null
);
