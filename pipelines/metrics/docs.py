"""docs/metrics.md and the /metrics page's rows, from the declarations in `catalog`.

`python -m pipelines.metrics.docs` rewrites docs/metrics.md; tests/unit/test_metrics_docs.py
fails when the file is out of date.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.metrics.catalog import BASES, METRICS, Metric
from pipelines.metrics.surfaces import SHOWN, SURFACES

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"

_GOOD = {"up": ("越高越好", "higher is better"), "down": ("越低越好", "lower is better"),
         "": ("—", "—")}


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"


def thresholds_text(m: Metric) -> str:
    """"amber 90 / red 80" style text, or "—" when the metric is not judged."""
    if m.amber is None and m.red is None:
        return "—"
    text = f"amber {_num(m.amber)} / red {_num(m.red)}"
    return text if m.judged_running else f"{text} (complete periods only)"


def metric_rows(metrics: dict[str, Metric] | None = None) -> list[dict[str, str]]:
    """One dict of display strings per metric (id, names, 口径, unit, basis, ...)."""
    ms = list(metrics.values()) if metrics else list(METRICS)
    return [
        {
            "id": m.id,
            "name": f"{m.name_zh} / {m.name_en}",
            "definition_zh": m.definition_zh,
            "definition_en": m.definition_en,
            "unit": m.unit,
            "basis": f"{BASES[m.basis][0]} / {BASES[m.basis][1]}",
            "additive": "是 yes" if m.additive else "否 no",
            "good": " / ".join(_GOOD[m.good]) if m.good else "—",
            "thresholds": thresholds_text(m),
            "shown": ", ".join(SURFACES[s][0] for s in SHOWN[m.id]),
            "sql": m.sql,
            "source": m.source,
        }
        for m in ms
    ]


def render() -> str:
    """The text of docs/metrics.md."""
    lines = [
        "# Metrics (口径)",
        "",
        "Generated from `pipelines/metrics/catalog.py` by `python -m pipelines.metrics.docs`;",
        "do not edit by hand (a test fails when this file is out of date). The same list is",
        "the page `/metrics`.",
        "",
        "Ticket figures count the tickets of a window (by time reported) and judge their",
        "state at the window's as-of instant: its data cut-off (the newest record, not the",
        "wall clock) for a window still running. A comparison covers the same span of the",
        "earlier period and is judged at the same distance after its own end. Shared SQL",
        "(`open_at_asof`, `overdue_at_asof`, `in_window`, `rate_pct`, `tickets_open_at`, ...)",
        "are warehouse macros: `pipelines/migrations/0006_metric_macros.sql`;",
        "`tickets_open_at` reads the small `open_tickets` mart for instants from the day",
        "before the newest report on (`0019_open_tickets.sql`), with the same rows. Where a",
        "metric is shown comes from the wall views', explorer pages' and export reports'",
        "own lists (`pipelines/metrics/surfaces.py`).",
        "",
        "**Data cut-off.** A figure is complete up to its source's cut-off, so for tickets",
        "the cut-off is the newest `reported_at` (at or before the clock): every ticket",
        "reported up to then is in the feed, and ticket figures are counted by time",
        "reported. Not `updated_at`: it is optional, and a source system that re-exports",
        "old tickets stamps them anew, which would call week-old data fresh and end",
        "\"today\" at a change rather than at the last report counted. The same instant is",
        "the tickets' freshness data time (`Source.data_time`, recorded by each load), so",
        "the wall's badge, the status page, `/healthz` and every \"截至\" label agree",
        "(`tests/unit/test_failures_and_freshness.py`). A quiet spell with no new report",
        "therefore ages the data; its cadence (`WALL_CADENCE`) says how long is normal.",
        "",
        "Thresholds: a value at or beyond amber (red) in the bad direction is shown amber",
        "(red). Override them per metric with a TOML file named by `WALL_METRIC_THRESHOLDS`",
        "(`[closure_pct]` `amber = 92` `red = 85`).",
        "",
        "| id | metric | 口径 | unit | period by | adds up | good | thresholds | shown on |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in metric_rows():
        definition = f"{r['definition_zh']}<br>{r['definition_en']}".replace("|", "\\|")
        lines.append(
            f"| `{r['id']}` | {r['name']} | {definition} | {r['unit']} | {r['basis']} | "
            f"{r['additive']} | {r['good']} | {r['thresholds']} | {r['shown']} |"
        )
    lines += ["", "## SQL", ""]
    for r in metric_rows():
        lines.append(f"- `{r['id']}` over `{r['source']}`: `{r['sql']}`")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    DOC_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC_PATH}")
