"""View layer: `dash.html` component trees as HTML text, for the wall's in-place updates.

The wall's slides hold a few thousand elements. Handed to Dash as `children`, every one
becomes a React component wired to the store, and a redraw of a 5-slide wall ran as one
main-thread task of 6 s (76 s on a loaded 2-core PC), during which the clock stopped. As
HTML text, wall.js swaps a changed slide's content in one `innerHTML` assignment per
frame and leaves unchanged slides alone (dashboards/assets/wall.js, `fill`).

Every text and attribute value is escaped here: a name read from a file is text, never
markup. Only `dash.html` components with the properties below are accepted; anything
else (a dcc.Graph, an event handler) raises, rather than being dropped unseen.
"""

from __future__ import annotations

import re
from html import escape
from numbers import Number

from dash.development.base_component import Component

VOID = {"img", "br", "hr"}
PLAIN_PROPS = {"id", "title", "src", "alt", "lang", "colSpan", "rowSpan", "role"}
_UPPER = re.compile(r"[A-Z]")


def _style(style: dict) -> str:
    """React's style dict as CSS text: gridArea -> grid-area; custom properties as given."""
    parts = []
    for key, value in style.items():
        if value is None:
            continue
        name = key if key.startswith("--") else _UPPER.sub(lambda m: "-" + m.group().lower(), key)
        parts.append(f"{name}: {value}")
    return "; ".join(parts)


def to_html(node) -> str:
    """The HTML text of a component tree (or a string, a number, a list of them, None).

    Raises:
        TypeError: a component from outside `dash.html`, or a property this writer does
            not know.
    """
    if node is None:
        return ""
    if isinstance(node, str):
        return escape(node, quote=False)
    if isinstance(node, Number) and not isinstance(node, bool):
        return escape(str(node), quote=False)
    if isinstance(node, (list, tuple)):
        return "".join(to_html(child) for child in node)
    if not isinstance(node, Component) or node._namespace != "dash_html_components":
        raise TypeError(f"cannot write {type(node).__name__} as HTML")
    tag = node._type.lower()
    attrs = []
    for prop, value in node.to_plotly_json()["props"].items():
        if prop == "children" or value is None:
            continue
        if prop == "className":
            name, text = "class", str(value)
        elif prop == "style":
            name, text = "style", _style(value)
        elif prop in PLAIN_PROPS:
            name, text = prop.lower(), str(value)
        elif prop.startswith(("data-", "aria-")):
            name, text = prop, str(value)
        else:
            raise TypeError(f"cannot write property {prop!r} of {node._type} as HTML")
        attrs.append(f' {name}="{escape(text, quote=True)}"')
    opening = f"<{tag}{''.join(attrs)}>"
    if tag in VOID:
        return opening
    return f"{opening}{to_html(getattr(node, 'children', None))}</{tag}>"
