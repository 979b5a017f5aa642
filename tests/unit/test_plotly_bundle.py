"""The charts' plotly.js: the vendored bundle draws every figure the app makes, and no more.

A figure whose trace type the bundle lacks draws nothing in the browser (plotly.js
skips an unknown type without an error a user sees), so every trace type named in
dashboards/ must be one the bundle registers; a trace type no figure uses is code every
chart page downloads and evaluates for nothing. The bundle is what scripts/vendor-plotly
builds: its sha256 is pinned there.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

import plotly.graph_objects as go
from flask import Flask
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

from dashboards import _plotly_bundle

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
VENDOR_SCRIPT = ROOT / "scripts" / "vendor-plotly"

# trace class name -> trace type, e.g. Scattergl -> "scattergl"
TRACE_CLASSES = {
    name: cls().type for name in dir(go)
    if isinstance(cls := getattr(go, name), type) and issubclass(cls, BaseTraceType)
}
ALL_TYPES = frozenset(TRACE_CLASSES.values())


def trace_types_in(source: str, where: str) -> set[str]:
    """Trace types a module's code names: `go.Bar(...)` (plotly.graph_objects under any
    alias), `fig.add_bar(...)`, and a trace type as the value of a `"type"` key or
    argument; plotly.express is refused (its functions pick trace types by argument,
    which a reading of the code cannot tell)."""
    tree = ast.parse(source, where)
    go_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            go_names |= {a.asname or a.name for a in node.names
                         if a.name == "plotly.graph_objects"}
        if isinstance(node, ast.ImportFrom):
            go_names |= {a.asname or a.name for a in node.names
                         if node.module == "plotly" and a.name == "graph_objects"}
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            assert not any("plotly.express" in n or n == "express" for n in names), \
                f"{where}: plotly.express figures cannot be checked against the bundle"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if (node.attr in TRACE_CLASSES and isinstance(node.value, ast.Name)
                    and node.value.id in go_names):
                found.add(TRACE_CLASSES[node.attr])
            elif node.attr.startswith("add_") and node.attr[4:] in ALL_TYPES:
                found.add(node.attr[4:])
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if (isinstance(key, ast.Constant) and key.value == "type"
                        and isinstance(value, ast.Constant) and value.value in ALL_TYPES):
                    found.add(value.value)
        if isinstance(node, ast.keyword) and node.arg == "type" and isinstance(
                node.value, ast.Constant) and node.value.value in ALL_TYPES:
            found.add(node.value.value)
    return found


def app_trace_types() -> dict[str, set[str]]:
    """{trace type: the dashboards/ files naming it}."""
    seen: dict[str, set[str]] = {}
    for path in sorted(DASHBOARDS.rglob("*.py")):
        for t in trace_types_in(path.read_text(encoding="utf-8"), str(path)):
            seen.setdefault(t, set()).add(path.name)
    return seen


def test_vendored_bundle__is_the_plotly_js_version_the_plotly_package_draws_for():
    assert _plotly_bundle.bundle_version() == get_plotlyjs_version(), \
        "run scripts/vendor-plotly with the plotly.js version of the plotly package"


def test_every_trace_type_the_app_draws__is_in_the_served_bundle():
    used = app_trace_types()
    # the scan sees the charts we know of (else this test would pass on nothing)
    assert {"bar", "scatter", "heatmap"} <= set(used), used
    missing = {t: files for t, files in used.items()
               if t not in _plotly_bundle.trace_types()}
    assert missing == {}, (f"trace types not in {_plotly_bundle.BUNDLE.name} "
                           f"({sorted(_plotly_bundle.trace_types())}): {missing}")


def test_served_bundle__registers_no_trace_type_the_app_does_not_draw():
    unused = _plotly_bundle.trace_types() - set(app_trace_types())
    assert unused == set(), (f"{_plotly_bundle.BUNDLE.name} carries trace types no "
                             f"figure draws: drop them from scripts/plotly-bundle/index.js")


def test_vendored_bundle__is_the_build_scripts_vendor_plotly_pins():
    pinned = re.search(r"^SHA256=([0-9a-f]{64})$", VENDOR_SCRIPT.read_text(), re.M)
    assert pinned is not None, f"{VENDOR_SCRIPT}: no SHA256= line"
    built = hashlib.sha256(_plotly_bundle.BUNDLE.read_bytes()).hexdigest()
    assert built == pinned.group(1), \
        "the vendored bundle is not the one scripts/vendor-plotly builds: re-run it"


def test_trace_scan__finds_a_type_however_a_figure_names_it():
    code = ("import plotly.graph_objects as go\n"
            "from dash import html\n"
            "fig = go.Figure(go.Scattergl(x=[1]))\n"
            "html.Table([])\n"
            "fig.add_pie(values=[1])\n"
            "fig.add_trace({'type': 'scattermap'})\n"
            "fig.add_trace(dict(type='sankey'))\n"
            "fig.update_xaxes(type='category')\n")
    assert trace_types_in(code, "x.py") == {"scattergl", "pie", "scattermap", "sankey"}
    assert {"scattergl", "scattermap", "sankey"}.isdisjoint(_plotly_bundle.trace_types())


def test_plotly_url__serves_the_vendored_bundle_and_revalidates():
    server = Flask(__name__)
    assert _plotly_bundle.register(server, "/")
    client = server.test_client()
    first = client.get("/" + _plotly_bundle.PLOTLY_PATH)
    assert first.status_code == 200
    assert first.data == _plotly_bundle.BUNDLE.read_bytes()
    again = client.get("/" + _plotly_bundle.PLOTLY_PATH,
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
