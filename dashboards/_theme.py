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

# Okabe-Ito, colour-blind safe; always shown with the level numeral.
LEVEL_COLOURS = {1: "#56B4E9", 2: "#F0E442", 3: "#E69F00", 4: "#D55E00"}
LEVEL_NUMERALS = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}

GOOD = "#009E73"
AT_RISK = "#E69F00"
LATE = "#D55E00"
STALE = MUTED

TEMPLATE_NAME = "wall"


def plotly_template() -> go.layout.Template:
    """Dark template with large, high-contrast type and no gridline clutter."""
    return go.layout.Template(
        layout=go.Layout(
            font={"family": FONT_STACK, "color": TEXT, "size": 16},
            paper_bgcolor=PANEL,
            plot_bgcolor=PANEL,
            colorway=[LEVEL_COLOURS[k] for k in (1, 2, 3, 4)] + [GOOD, MUTED],
            xaxis={"showgrid": False, "linecolor": PANEL_LINE, "zeroline": False},
            yaxis={"gridcolor": PANEL_LINE, "zeroline": False},
            margin={"l": 48, "r": 24, "t": 40, "b": 40},
            hoverlabel={"font": {"family": FONT_STACK}},
        )
    )


pio.templates[TEMPLATE_NAME] = plotly_template()
