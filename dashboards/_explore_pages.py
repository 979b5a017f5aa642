"""View layer: the explorer's sub-pages that wait for their tables (shared shape).

Participation, accounts and population read tables from migration 0002 (residents,
votes, vote_results, participation_monthly, ledger_entries, ledger_monthly). Until a
warehouse holds them with rows, each page says so plainly instead of failing.
"""

from __future__ import annotations

import logging

import duckdb
from dash import html

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
