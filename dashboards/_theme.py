"""View layer: the product's palette, type and plotly template.

One place for colours so that the same colour means the same thing on every page and on
the wall. Fonts are named, never downloaded: Noto Sans CJK SC comes from the machine
(Debian `fonts-noto-cjk`).
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

FONT_STACK = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
    '"Microsoft YaHei", sans-serif'
)

BACKGROUND = "#0B1220"  # near-black navy
PANEL = "#121B2E"  # one step lighter
PANEL_LINE = "#22304A"
TEXT = "#E8EEF7"
MUTED = "#8FA3BF"

# Levels are a category, not a verdict: one violet hue from light (一级) to deep
# (四级, the most serious), never red/amber/green, always with the level's name (and
# 四级 with a ring), so they read in grey scale and for every kind of colour blindness.
LEVEL_COLOURS = {1: "#D9D2F5", 2: "#B3A4EB", 3: "#7F66D9", 4: "#4B2FA8"}
LEVEL_NUMERALS = {1: "一", 2: "二", 3: "三", 4: "四"}  # as the center says: 一级…四级

# Verdicts only: beyond the red threshold, beyond amber, within target (the metric's
# thresholds, Metric.level). Information is neutral blue/grey.
RED = "#E5484D"
AMBER = "#F5A524"
GOOD = "#30A46C"
INFO = "#5B9BD5"
AT_RISK = AMBER
LATE = RED
STALE = MUTED

TEMPLATE_NAME = "wall"


def plotly_template() -> go.layout.Template:
    """Dark template with large, high-contrast type and no gridline clutter."""
    return go.layout.Template(
        layout=go.Layout(
            font={"family": FONT_STACK, "color": TEXT, "size": 16},
            paper_bgcolor=PANEL,
            plot_bgcolor=PANEL,
            colorway=[INFO, MUTED] + [LEVEL_COLOURS[k] for k in (4, 3, 2, 1)],
            xaxis={"showgrid": False, "linecolor": PANEL_LINE, "zeroline": False},
            yaxis={"gridcolor": PANEL_LINE, "zeroline": False},
            margin={"l": 48, "r": 24, "t": 40, "b": 40},
            hoverlabel={"font": {"family": FONT_STACK}},
        )
    )


pio.templates[TEMPLATE_NAME] = plotly_template()
