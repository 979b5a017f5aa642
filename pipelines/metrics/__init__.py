"""The metrics layer: every figure declared once, time windows as values, comparisons.

- `catalog`: the declarations (`METRICS`, `metric(id)`, `load_thresholds(path)`);
- `windows`: `Window` (to-date, complete, rolling; day to year) with labels and
  like-for-like comparisons;
- `compute`: ticket figures for any window from the declarations, and the data cut-off;
- `surfaces`: where each metric is shown, from the wall views', explorer pages' and
  export reports' own lists;
- `docs`: docs/metrics.md and the /metrics page's rows, from the same declarations.

The shared SQL ideas (open at as-of, the period filter, the rate formula) are macros in
the warehouse (pipelines/migrations/0006_metric_macros.sql).
"""

from pipelines.metrics.catalog import (
    BY_ID,
    METRICS,
    Metric,
    load_thresholds,
    metric,
)
from pipelines.metrics.windows import GRAINS, Window

__all__ = ["BY_ID", "GRAINS", "METRICS", "Metric", "Window", "load_thresholds",
           "metric"]
