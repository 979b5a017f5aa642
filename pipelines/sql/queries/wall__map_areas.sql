-- Wall, map view: the outlines of communities (grid null) and grids, as loaded by
-- `load geo` (already simplified for the wall).
select
    community,
    grid,
    geometry_json,
    label_lon,
    label_lat,
from geo_areas
order by community, grid nulls first
