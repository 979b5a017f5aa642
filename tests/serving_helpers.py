"""Helpers for the serving tests: build an app on a warehouse, call page callbacks.

`pages_request(pathname)` is the body Dash's renderer posts to render a page;
`find_by_id(tree, id)` finds a component in the JSON the server answers with.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

PAGES_OUTPUT = ".._pages_content.children..._pages_store.data.."


def pages_request(pathname: str, search: str = "") -> dict:
    """The `_dash-update-component` body that renders the page at `pathname`."""
    return {
        "output": PAGES_OUTPUT,
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }


def find_by_id(tree: Any, component_id: str) -> dict | None:
    """The first component (as JSON) with `id` == component_id, depth first."""
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict) and props.get("id") == component_id:
            return tree
        for value in tree.values():
            found = find_by_id(value, component_id)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for value in tree:
            found = find_by_id(value, component_id)
            if found is not None:
                return found
    return None


def texts(tree: Any) -> list[str]:
    """Every string child in a component tree, in order."""
    out: list[str] = []
    if isinstance(tree, str):
        out.append(tree)
    elif isinstance(tree, list):
        for v in tree:
            out += texts(v)
    elif isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict):
            out += texts(props.get("children"))
    return out


def table_rows(table: dict) -> list[list[str]]:
    """The body rows of a `_components.data_table` as lists of cell texts."""
    body = table["props"]["children"][1]
    rows = body["props"]["children"]
    return [[" ".join(texts(td)) for td in tr["props"]["children"]] for tr in rows]


def summary_request(date_from: str, date_to: str, values: dict | None = None,
                    asof: str | None = None) -> dict:
    """The `_dash-update-component` body that renders the ticket explorer for a view of
    those dates and filters (`values`: URL key -> list), judged at `asof`: the page
    comes with its summary (KPI) table, computed as the page is built."""
    pairs = [("from", date_from), ("to", date_to)]
    pairs += [(key, value) for key, listed in (values or {}).items() for value in listed]
    if asof is not None:
        pairs.append(("asof", asof))
    return pages_request("/explore/tickets", "?" + urlencode(pairs))
