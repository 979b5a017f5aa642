"""View layer: shared shapes of the explorer's pages: a sub-page that waits for its
tables, and a block mounted only when it comes near the window (`lazy_slot`).

Participation, accounts and population read tables from migration 0002 (residents,
votes, vote_results, participation_monthly, ledger_entries, ledger_monthly). Until a
warehouse holds them with rows, each page says so plainly instead of failing.
"""

from __future__ import annotations

import logging

import duckdb
from dash import dcc, html

from dashboards import _data
from dashboards._components import label, unavailable
from dashboards._explore_state import parse_query
from pipelines.queries import QueryError
from pipelines.queries import explore as q
from pipelines.settings import local_now
from pipelines.warehouse import WarehouseError

logger = logging.getLogger(__name__)


def waiting_page(key: str, zh: str, en: str, tables: tuple[str, ...],
                 planned: list[tuple[str, str]], query: dict) -> html.Div:
    """A sub-page's empty state: which tables it needs and which of them are missing."""
    from dashboards.explore_tickets import subnav

    state, _notices = parse_query(query, local_now(_data.settings()).date())
    head = html.Div([html.H1(label(zh, en)), subnav(key, state.search())],
                    className="explore-head")
    try:
        con = _data.reader().cursor()
        try:
            counts = {t: q.table_row_count(con, t) for t in tables}
        finally:
            con.close()
    except (WarehouseError, QueryError, duckdb.Error) as e:
        return html.Div([head, unavailable(str(e), id=f"explore-{key}-unavailable")],
                        className="page page-explore")
    missing = [t for t, n in counts.items() if n < 0]
    empty = [t for t, n in counts.items() if n == 0]
    if missing:
        why = label(f"仓库尚无这些表：{'、'.join(missing)}",
                    f"the warehouse has no {', '.join(missing)} table yet")
    elif empty:
        why = label(f"这些表还没有数据：{'、'.join(empty)}",
                    f"no rows loaded into {', '.join(empty)} yet")
    else:  # a load landed since the caller counted: the charts are one reload away
        why = label("数据刚刚载入，请刷新本页", "data has just been loaded: reload this page")
    return html.Div(
        [
            head,
            html.Section(
                [html.H2(label("暂无可分析的数据", "Nothing to explore yet"),
                         className="panel-title"),
                 html.P(why, className="empty-state", id=f"explore-{key}-empty"),
                 html.P(label("将会显示", "Will show"), className="meta-line"),
                 html.Ul([html.Li(label(a, b)) for a, b in planned])],
                className="panel explore-panel explore-waiting",
            ),
        ],
        className="page page-explore",
    )


def lazy_slot(key: str, body, class_name: str) -> html.Div:
    """A block whose content `{key}-slot` is mounted when it comes within 300 px of the
    window or focus enters its panel (assets/explore.js sets the store `{key}-seen`, and
    the page's callback on it returns the content). Its room is kept by CSS, so nothing
    moves when it arrives. With `body` (the URL holds a position in it) it is there at
    once.
    """
    seen = body is not None
    return html.Div([
        dcc.Store(id=f"{key}-seen", data=seen),
        html.Div(body if seen else html.P(label("滚动到此处时载入", "loads when scrolled to"),
                                          className="empty-state"),
                 id=f"{key}-slot", className=class_name + ("" if seen else " explore-lazy"),
                 **{"data-seen-store": f"{key}-seen"}),
    ])
