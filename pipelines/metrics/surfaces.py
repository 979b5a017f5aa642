"""Where each metric is shown, derived from the surfaces' own declarations.

Each wall view (`WALL_VIEWS`), the alarm strip (`ALARMS`), each explorer page
(`EXPLORER_PAGES`) and each export report (`REPORTS`) lists the catalogue's metrics it
shows; nothing else keeps that list, so /metrics and docs/metrics.md cannot drift from
the product. A wall view's list is held to what its renderer draws by
tests/unit/test_metric_surfaces.py.
"""

from __future__ import annotations

from pipelines.metrics.catalog import BY_ID, METRICS
from pipelines.queries.explore import EXPLORER_PAGES
from pipelines.queries.exports import REPORTS
from pipelines.queries.wall import ALARMS, WALL_VIEWS


def _declared() -> dict[str, tuple[tuple[str, str], tuple[str, ...]]]:
    found = {
        f"wall.{v.id}": ((f"大屏·{v.title[0]}", f"Wall: {v.title[1]}"), v.metrics)
        for v in WALL_VIEWS.values()
    }
    found["wall.alarms"] = (("大屏·告警条", "Wall: alarm strip (every slide)"), ALARMS)
    found.update(
        (f"explore.{p.id}", ((f"分析·{p.title[0]}", f"Explorer: {p.title[1]}"), p.metrics))
        for p in EXPLORER_PAGES.values())
    found.update(
        (f"export.{r.name}", ((f"导出·{r.name}", f"Export: {r.name}"), r.metrics))
        for r in REPORTS.values() if r.metrics)
    for key, (_, metrics) in found.items():
        unknown = [m for m in metrics if m not in BY_ID]
        if unknown:
            raise ValueError(f"{key} shows {', '.join(unknown)}: not in the metrics "
                             "catalogue (pipelines/metrics/catalog.py)")
    return found


_DECLARED = _declared()

# surface key -> (Chinese, English) label, in declaration order: wall, explorer, exports
SURFACES: dict[str, tuple[str, str]] = {k: label for k, (label, _) in _DECLARED.items()}

# metric id -> the surface keys showing it (empty: declared but shown nowhere yet)
SHOWN: dict[str, tuple[str, ...]] = {
    m.id: tuple(k for k, (_, metrics) in _DECLARED.items() if m.id in metrics)
    for m in METRICS
}
