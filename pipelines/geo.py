"""Loader for the map: a GeoJSON file of communities, grids and compounds.

`python -m pipelines load geo FILE.geojson` replaces the map in `geo_areas` and
`geo_points` (migration 0016) with the file's usable features:

- a Polygon or MultiPolygon with property `community` (and `grid` for a grid) is an area;
- a Point with property `compound` (and `community`) is a compound's location.

Names must be known to the warehouse (the grids file, tickets or compounds); coordinates
are WGS84 longitude/latitude (a file declaring another CRS is refused as a whole). A
feature that cannot be used (broken ring, self-intersection, unknown name, coordinates out
of range, duplicate) goes to `quarantine` with its number and the reason, and the rest
load. A file with no usable area leaves the map as it was. Outlines are simplified to
about 2 m, which no wall can show, so the wall sends a few kilobytes, not the survey.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from shapely.geometry import Point, shape
from shapely.ops import polylabel

from pipelines import privacy, warehouse
from pipelines.errors import LoadError
from pipelines.settings import Settings, local_now
from pipelines.sources import MAP_SOURCE

logger = logging.getLogger(__name__)

# A sub-district's outlines are well under 1 MB; 20 MB leaves room for a detailed survey
# and keeps a stray export (or an attack) from filling the loader's memory.
MAX_BYTES = 20 * 2**20
MAX_FEATURES = 5_000
MAX_NAME_CHARS = 40  # as a wall playlist's filter value
SIMPLIFY_DEGREES = 0.00002  # about 2 m: below one pixel of any wall
# Names of WGS84 lon/lat in GeoJSON's (2008) `crs` member; RFC 7946 has no member at all.
WGS84_NAMES = {"urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:ogc::crs84",
               "urn:ogc:def:crs:epsg::4326", "epsg:4326", "crs84",
               "http://www.opengis.net/def/crs/ogc/1.3/crs84"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class GeoReport:
    """What one map load did: features read, areas and points kept, and why others were not."""

    source_file: str
    load_id: int | None = None
    features: int = 0
    areas: int = 0
    points: int = 0
    quarantined: list[tuple[int, str]] = field(default_factory=list)  # (feature no, reason)

    @property
    def inserted(self) -> int:
        """Rows written (areas and points), as a LoadReport counts them."""
        return self.areas + self.points

    def summary(self) -> str:
        """One line for the command line and the log."""
        text = (f"geo {self.source_file}: {self.features} features, {self.areas} areas, "
                f"{self.points} compound points, {len(self.quarantined)} quarantined")
        for number, reason in self.quarantined[:10]:
            text += f"\n  feature {number}: {reason}"
        return text


def _read(path: Path) -> dict:
    """The parsed file, or a LoadError naming the file and what is wrong with it."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise LoadError(f"{path}: cannot read ({e.strerror})") from None
    if not path.is_file():
        raise LoadError(f"{path}: not a regular file")
    if size > MAX_BYTES:
        raise LoadError(
            f"{path}: {size / 2**20:.1f} MB, over the {MAX_BYTES // 2**20} MB limit of a "
            f"map file; simplify it first (e.g. mapshaper -simplify 10%); the map is "
            f"unchanged")
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)  # the file may grow between stat and read
        if len(raw) > MAX_BYTES:
            raise LoadError(f"{path}: grew past the {MAX_BYTES // 2**20} MB limit while read")
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise LoadError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise LoadError(f"{path}: line {e.lineno}, column {e.colno}: not valid JSON "
                        f"({e.msg})") from None
    except RecursionError:
        raise LoadError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise LoadError(f"{path}: expected a GeoJSON FeatureCollection")
    crs = data.get("crs")
    if crs is not None:
        name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else ""
        if name.strip().lower() not in WGS84_NAMES:
            raise LoadError(
                f"{path}: declares the coordinate system {name[:60]!r}; the map needs "
                f"WGS84 longitude/latitude (EPSG:4326), e.g. ogr2ogr -t_srs EPSG:4326 "
                f"out.geojson {path.name}; the map is unchanged")
    features = data.get("features")
    if not isinstance(features, list):
        raise LoadError(f"{path}: `features` is not a list")
    if len(features) > MAX_FEATURES:
        raise LoadError(f"{path}: {len(features):,} features, over the limit of "
                        f"{MAX_FEATURES:,}; the map is unchanged")
    return data


def _name(props: dict, key: str) -> str | None:
    """A name property as clean text, or ValueError saying why it cannot be one."""
    value = props.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError(f"`{key}` is not text")
    value = value.strip()
    if len(value) > MAX_NAME_CHARS or _CONTROL.search(value):
        raise ValueError(f"`{key}` is over {MAX_NAME_CHARS} characters or holds "
                         f"control characters")
    return value


def _positions(coords) -> list:
    """Every position of a geometry's coordinate arrays, flattened."""
    if (isinstance(coords, list) and len(coords) >= 2
            and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords)):
        return [coords]
    if not isinstance(coords, list):
        raise ValueError("coordinates are not arrays of numbers")
    out = []
    for c in coords:
        out += _positions(c)
    return out


def _check_rings(geometry: dict) -> None:
    """GeoJSON's ring rules, which shapely would quietly repair: closed, four positions."""
    polygons = ([geometry["coordinates"]] if geometry["type"] == "Polygon"
                else geometry["coordinates"])
    for p, rings in enumerate(polygons):
        for r, ring in enumerate(rings):
            where = f"ring {r + 1}" + (f" of polygon {p + 1}" if len(polygons) > 1 else "")
            if len(ring) < 4:
                raise ValueError(f"{where} has {len(ring)} positions (a ring needs 4 or more)")
            if list(ring[0][:2]) != list(ring[-1][:2]):
                raise ValueError(f"{where} is not closed (first and last positions differ)")


def _geometry(feature: dict, kinds: tuple[str, ...]):
    """A valid shapely geometry of one of `kinds`, or ValueError with the reason."""
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in kinds:
        got = geometry.get("type") if isinstance(geometry, dict) else geometry
        raise ValueError(f"geometry is {str(got)[:20]!r}, expected {' or '.join(kinds)}")
    for x, y, *_ in _positions(geometry.get("coordinates")):
        if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
            raise ValueError(f"position ({x:g}, {y:g}) is not WGS84 longitude/latitude "
                             f"(a projected coordinate system?)")
    if geometry["type"] != "Point":
        _check_rings(geometry)
    try:
        shp = shape(geometry)
    except (ValueError, TypeError, IndexError, KeyError, shapely.errors.ShapelyError) as e:
        raise ValueError(f"geometry cannot be read ({str(e)[:80]})") from None
    if shp.is_empty:
        raise ValueError("geometry is empty")
    if not shp.is_valid:
        raise ValueError(f"invalid geometry: {shapely.is_valid_reason(shp)}")
    return shp


def _known_names(con) -> tuple[set[str], set[tuple[str, str]], set[str]]:
    """Communities, (community, grid) pairs and compounds the warehouse knows."""
    communities = {r[0] for r in con.execute(
        "select community from grids union select distinct community from tickets "
        "union select community from compound_community").fetchall()}
    grids = {(r[0], r[1]) for r in con.execute(
        "select community, grid from grids").fetchall()}
    compounds = {r[0] for r in con.execute(
        "select compound from compound_community union select compound from compounds"
    ).fetchall()}
    return communities, grids, compounds


def _coords(geom) -> list:
    """GeoJSON coordinates of a (Multi)Polygon, rounded to 6 decimals (~0.1 m)."""
    def ring(r):
        return [[round(x, 6), round(y, 6)] for x, y, *_ in r.coords]

    def poly(p):
        return [ring(p.exterior), *(ring(i) for i in p.interiors)]

    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": poly(geom)}
    return {"type": "MultiPolygon", "coordinates": [poly(p) for p in geom.geoms]}


def _area_row(geom) -> tuple[str, float, float]:
    """(simplified GeoJSON, label lon, label lat); the label sits inside the largest part."""
    simple = geom.simplify(SIMPLIFY_DEGREES, preserve_topology=True)
    if not simple.is_valid or simple.is_empty:
        simple = geom
    largest = max(getattr(geom, "geoms", [geom]), key=lambda p: p.area)
    label = polylabel(largest, tolerance=SIMPLIFY_DEGREES)
    return json.dumps(_coords(simple), separators=(",", ":")), label.x, label.y


def load_geo(settings: Settings, path: Path) -> GeoReport:
    """Replace the map with the usable features of the GeoJSON file at `path`.

    Args:
        settings: configuration (the warehouse path).
        path: a GeoJSON FeatureCollection in WGS84 longitude/latitude.

    Returns:
        The GeoReport: features read, areas and points loaded, quarantined features.

    Raises:
        LoadError: the file is unreadable, too large, not GeoJSON, declares another
            coordinate system or has no usable area; the map is unchanged.
    """
    path = Path(path)
    data = _read(path)
    report = GeoReport(source_file=str(path), features=len(data["features"]))
    started = local_now(settings).replace(microsecond=0)
    with warehouse.writer(settings) as con:
        communities, grids, compounds = _known_names(con)
        areas, points, seen = [], [], {}
        for number, feature in enumerate(data["features"], start=1):
            try:
                if not isinstance(feature, dict) or feature.get("type") != "Feature":
                    raise ValueError("not a GeoJSON Feature")
                props = feature.get("properties") or {}
                if not isinstance(props, dict):
                    raise ValueError("`properties` is not an object")
                community, grid = _name(props, "community"), _name(props, "grid")
                compound = _name(props, "compound")
                if compound is not None:
                    if compound not in compounds:
                        raise ValueError(f"unknown compound {compound!r}")
                    key = ("compound", compound)
                elif community is None:
                    raise ValueError("no `community` (or `compound`) property")
                elif community not in communities:
                    raise ValueError(f"unknown community {community!r}")
                elif grid is not None and (community, grid) not in grids:
                    raise ValueError(f"unknown grid {grid!r} in {community!r}")
                else:
                    key = ("area", community, grid)
                if key in seen:
                    raise ValueError(f"duplicate of feature {seen[key]}")
                if compound is not None:
                    pt = _geometry(feature, ("Point",))
                    points.append((compound, community, pt.x, pt.y))
                else:
                    areas.append((community, grid, *_area_row(
                        _geometry(feature, ("Polygon", "MultiPolygon")))))
                seen[key] = number
            except ValueError as e:
                report.quarantined.append((number, privacy.mask_text(str(e))))
        if not areas:
            reasons = "; ".join(f"feature {n}: {r}" for n, r in report.quarantined[:5])
            raise LoadError(f"{path}: no usable community or grid shape ({reasons or 'no features'}); "
                            f"the map is unchanged")
        load_id = con.execute("select nextval('load_id_seq')").fetchall()[0][0]
        report.load_id, report.areas, report.points = load_id, len(areas), len(points)
        con.execute("delete from geo_areas")
        con.execute("delete from geo_points")
        con.executemany("insert into geo_areas values (?, ?, ?, ?, ?, ?)",
                        [(*a, load_id) for a in areas])
        if points:
            # a compound's community is the warehouse's, whatever the file says
            con.executemany(
                "insert into geo_points select $1, coalesce((select community from "
                "compound_community where compound = $1), $2, ''), $3, $4, $5",
                [(*p, load_id) for p in points])
        if report.quarantined:
            con.executemany(
                "insert into quarantine values (?, ?, ?, ?, ?, ?)",
                [(load_id, MAP_SOURCE, str(path), n, None, f"feature {n}: {r}")
                 for n, r in report.quarantined])
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        con.execute(
            "insert into load_log (load_id, source, source_file, file_sha256, rows_read, "
            "inserted, quarantined, started_at, finished_at, status) values ($id, $src, "
            "$file, $sha, $read, $ins, $quar, $started, current_timestamp, 'ok')",
            {"id": load_id, "src": MAP_SOURCE, "file": str(path), "sha": sha,
             "read": report.features, "ins": len(areas) + len(points),
             "quar": len(report.quarantined), "started": started})
    logger.info("load report: %s", report.summary().replace("\n", " |"))
    return report


def demo_geojson(communities: list[tuple[str, list[str]]], compounds: dict[str, str]) -> dict:
    """A fictional map: communities as a honeycomb of hexagons, grids as their slices.

    Args:
        communities: (community, [grid, ...]) in display order.
        compounds: {compound: community}; each becomes a point inside its community.

    Returns:
        A GeoJSON FeatureCollection (WGS84, near 106.5°E 29.5°N).
    """
    features = []
    per_row = math.ceil(math.sqrt(len(communities) * 1.6))
    r = 0.006  # about 650 m from centre to corner
    east = 1 / math.cos(math.radians(29.5))  # a degree of longitude is shorter there
    w, h = math.sqrt(3) * r * east, 1.5 * r
    placed = {}
    for i, (community, grid_names) in enumerate(communities):
        row, col = divmod(i, per_row)
        cx = 106.50 + col * w + (w / 2 if row % 2 else 0)
        cy = 29.55 - row * h
        corners = [(cx + r * east * math.cos(math.radians(30 + 60 * k)),
                    cy + r * math.sin(math.radians(30 + 60 * k))) for k in range(6)]
        ring = [[round(x, 6), round(y, 6)] for x, y in corners]
        features.append({"type": "Feature", "properties": {"community": community},
                         "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]}})
        n = len(grid_names)
        for g, grid in enumerate(grid_names):  # slices of the hexagon, around its centre
            a0, a1 = 360 * g / n, 360 * (g + 1) / n
            # the hexagon's corners inside the slice keep it on the outline
            steps = sorted({a0, a1, *(c for c in range(30, 390, 60) if a0 < c < a1),
                            *(c - 360 for c in range(30, 390, 60) if a0 < c - 360 < a1)})
            arc = [_hex_edge(cx, cy, r, a, east) for a in steps]
            slice_ring = [[round(cx, 6), round(cy, 6)], *arc, [round(cx, 6), round(cy, 6)]]
            features.append({"type": "Feature",
                             "properties": {"community": community, "grid": grid},
                             "geometry": {"type": "Polygon", "coordinates": [slice_ring]}})
        placed[community] = (cx, cy, 0)
    for compound, community in compounds.items():
        if community not in placed:
            continue
        cx, cy, k = placed[community]
        placed[community] = (cx, cy, k + 1)
        angle = math.radians(200 + 110 * k)
        pt = Point(cx + 0.55 * r * east * math.cos(angle), cy + 0.45 * r * math.sin(angle))
        features.append({"type": "Feature",
                         "properties": {"compound": compound, "community": community},
                         "geometry": {"type": "Point",
                                      "coordinates": [round(pt.x, 6), round(pt.y, 6)]}})
    return {"type": "FeatureCollection", "features": features}


def _hex_edge(cx: float, cy: float, r: float, degrees: float, east: float) -> list[float]:
    """The point of a pointy-top hexagon's outline at `degrees` from its centre
    (longitudes stretched by `east`)."""
    a = math.radians(degrees)
    sector = math.radians(30 + 60 * math.floor(((degrees - 30) % 360) / 60))
    # distance to the edge whose corners sit at `sector` and `sector` + 60°
    d = r * math.cos(math.radians(30)) / math.cos(a - sector - math.radians(30))
    return [round(cx + d * east * math.cos(a), 6), round(cy + d * math.sin(a), 6)]
