"""View layer: the wall's map slide (/wall/map), from `pipelines.queries.wall.map_data`.

Drawn in plain HTML like the other slides, with no tiles, no CDN and no plotly: each
community is a `div` clipped to its outline (CSS `clip-path: polygon(...)` in percent of
a box that keeps the map's aspect ratio), outlines come from one inline SVG image, and
labels are real text in vh, so they stay legible from 5 m at any canvas size. Without a
map file the view draws a schematic tile per community instead. Colours are a neutral
sequential blue (information, not an alarm); every area also carries its figure as text.
"""

from __future__ import annotations

import math
from urllib.parse import quote

from dash import html

from dashboards._components import fmt_count
from dashboards._i18n import t
from dashboards._wall_views import fig, level_badge, panel
from pipelines.metrics.catalog import BY_ID

# light to dark; the label switches to dark text on the lightest two
RAMP = ("#DCE9F5", "#A9CBE8", "#6FA6D6", "#3C7DBF", "#1D5696")
PAD = 0.04  # of the box, around the drawn area


def _fmt(value: float | None, metric: str) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if metric == "open_per_1000" else fmt_count(value)


def _classes(values: list[float]) -> list[float]:
    """Upper bounds of the ramp's classes: equal steps from 0 to the largest value."""
    top = max(values, default=0) or 1
    return [top * (i + 1) / len(RAMP) for i in range(len(RAMP))]


def _shade(value: float | None, bounds: list[float]) -> int | None:
    if value is None:
        return None
    return next((i for i, b in enumerate(bounds) if value <= b + 1e-9), len(bounds) - 1)


class _Frame:
    """Lon/lat -> percent of the map box (x right, y down); lon shrunk by cos(latitude)."""

    def __init__(self, areas: list[dict]):
        xs, ys = [], []
        for a in areas:
            for ring in _rings(a["geometry"]):
                xs += [p[0] for p in ring]
                ys += [p[1] for p in ring]
        self.x0, self.x1, self.y0, self.y1 = min(xs), max(xs), min(ys), max(ys)
        self.k = math.cos(math.radians((self.y0 + self.y1) / 2))
        w = max((self.x1 - self.x0) * self.k, 1e-9)
        h = max(self.y1 - self.y0, 1e-9)
        self.w, self.h = w * (1 + 2 * PAD), h * (1 + 2 * PAD)
        self.ox, self.oy = w * PAD, h * PAD

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        """(x %, y %) of a position in the box."""
        return (100 * ((lon - self.x0) * self.k + self.ox) / self.w,
                100 * ((self.y1 - lat) + self.oy) / self.h)


def _parts(geometry: dict) -> list[list]:
    """The polygons of a Polygon or MultiPolygon, each a list of rings."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return geometry["coordinates"]


def _rings(geometry: dict) -> list[list]:
    return [ring for part in _parts(geometry) for ring in part]


def _polygon(ring: list, frame: _Frame) -> str:
    return "polygon(" + ", ".join(
        "{:.2f}% {:.2f}%".format(*frame.xy(x, y)) for x, y in ring) + ")"


def _outlines(areas: list[dict], frame: _Frame) -> str:
    """One SVG (data URI) with every outline: communities bold, grids dashed."""
    paths = []
    for a in areas:
        d = " ".join(
            "M" + " L".join("{:.2f},{:.2f}".format(*frame.xy(x, y)) for x, y in ring) + " Z"
            for ring in _rings(a["geometry"]))
        style = ('stroke="#0B1220" stroke-width="3"' if a["grid"] is None else
                 'stroke="#0B1220" stroke-opacity="0.45" stroke-width="1.2" '
                 'stroke-dasharray="4 4"')
        paths.append(f'<path d="{d}" fill="none" {style} '
                     f'vector-effect="non-scaling-stroke"/>')
    # grids first, so community borders are drawn over them
    paths.sort(key=lambda p: "dasharray" not in p)
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" '
           f'preserveAspectRatio="none">{"".join(paths)}</svg>')
    return "data:image/svg+xml;charset=utf-8," + quote(svg)


def _legend(bounds: list[float], metric: str) -> html.Div:
    rows, lo = [], 0.0
    for colour, hi in zip(RAMP, bounds):
        rows.append(html.Div(
            [html.Span(className="mp-swatch", style={"background": colour}),
             html.Span(f"{_fmt(lo, metric)} – {_fmt(hi, metric)}")],
            className="mp-legend-row"))
        lo = hi
    return html.Div(rows, className="mp-legend")


def _ranking(d: dict) -> html.Div:
    """The five communities with the highest value, highest first (ties by name)."""
    ranked = sorted((f for f in d["figures"].values() if f["value"] is not None),
                    key=lambda f: (-f["value"], f["community"]))[:5]
    return html.Div(
        [html.Div([html.Span(f["community"], className="mp-rank-name"),
                   fig(_fmt(f["value"], d["metric"]), f"map_rank:{f['community']}",
                       "mp-rank-value", _catalogued(d["metric"]))],
                  className="mp-rank-row") for f in ranked],
        className="mp-rank")


def _catalogued(metric: str) -> str | None:
    """The catalogue metric the map's figures are values of (None: open per 1,000
    residents, worked out from two of them)."""
    return metric if metric in BY_ID else None


def _label(community: str, value: float | None, metric: str) -> list:
    return [html.Span(community, className="mp-name"),
            fig(_fmt(value, metric), f"map:{community}", "mp-value", _catalogued(metric))]


def _drawn_map(d: dict, bounds: list[float], lang: str) -> html.Div:
    areas = d["areas"]
    frame = _Frame(areas)
    shapes, labels = [], []
    for a in areas:
        if a["grid"] is not None:
            continue
        row = d["figures"].get(a["community"], {})
        shade = _shade(row.get("value"), bounds)
        colour = RAMP[shade] if shade is not None else "#2A3850"
        for part in _parts(a["geometry"]):
            shapes.append(html.Div(
                className="mp-area",
                style={"clipPath": _polygon(part[0], frame), "background": colour},
                **{"data-community": a["community"]}))
        x, y = frame.xy(a["label_lon"], a["label_lat"])
        labels.append(html.Div(
            _label(a["community"], row.get("value"), d["metric"]),
            className="mp-label" + (" mp-label-dark" if shade in (0, 1) else ""),
            style={"left": f"{x:.2f}%", "top": f"{y:.2f}%"},
            **{"data-community": a["community"]}))
    points = []
    for p in d["points"]:
        x, y = frame.xy(p["lon"], p["lat"])
        points.append(html.Div(
            [level_badge(p["level"], lang, name=True),
             html.Span(f"×{p['event_count']}", className="mp-point-count")],
            className=f"mp-point mp-point-{p['level']}",
            title=p["compound"],
            style={"left": f"{x:.2f}%", "top": f"{y:.2f}%"},
            **{"data-compound": p["compound"], "data-level": str(p["level"])}))
    box = html.Div(
        [*shapes,
         html.Img(src=_outlines(areas, frame), className="mp-outlines", alt=""),
         *labels, *points],
        className="mp-box",
        # as wide as the stage allows without growing taller than it
        style={"aspectRatio": f"{frame.w:.6f} / {frame.h:.6f}",
               "width": f"min(100cqw, {frame.w / frame.h:.4f} * 100cqh)"})
    return html.Div(box, className="mp-stage")


def _tiles(d: dict, bounds: list[float]) -> html.Div:
    """Schematic map: one tile per community, in name order, when no map is loaded."""
    tiles = []
    for community, row in sorted(d["figures"].items()):
        shade = _shade(row["value"], bounds)
        tiles.append(html.Div(
            _label(community, row["value"], d["metric"]),
            className="mp-tile mp-area" + (" mp-label-dark" if shade in (0, 1) else ""),
            style={"background": RAMP[shade] if shade is not None else "#2A3850"},
            **{"data-community": community}))
    return html.Div(tiles, className="mp-tiles")


def map_view(d: dict, lang: str) -> list:
    """Map: which communities carry the most open work, and where are serious events?"""
    values = [f["value"] for f in d["figures"].values() if f["value"] is not None]
    bounds = _classes(values)
    drawn = _drawn_map(d, bounds, lang) if d["areas"] else _tiles(d, bounds)
    side = panel(
        "side",
        t(f"map.metric.{d['metric']}", lang),
        _legend(bounds, d["metric"]),
        html.P(t(f"map.def.{d['metric']}", lang), className="wp-def"),
        html.H2(t("map.top", lang), className="wp-title"),
        _ranking(d),
        html.P(t("map.points", lang, n=fmt_count(d["unplaced"])), className="wp-def"),
        html.P(t("map.no_map", lang), className="wp-def") if not d["areas"] else None,
    )
    return [html.Div(
        [html.Section(drawn, className="wp wp-map", style={"gridArea": "map"}), side],
        className="wv-grid wv-map" + ("" if d["areas"] else " wv-map-tiles"))]
