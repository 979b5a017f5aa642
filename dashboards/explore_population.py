"""Explorer, population: portraits per community and grid (residents, households,
registered vs actual residence, age bands, key groups), with the wall's and the exports'
small-count suppression done in SQL (pipelines/sql/queries/explore__population.sql):
this page only prints the cells the query wrote ('<k', '—' or a count).
"""

from __future__ import annotations

import logging

import dash
import duckdb
import plotly.graph_objects as go
from dash import dcc, html

from dashboards import _data
from dashboards import _explore_figures as figs
from dashboards import _explore_people as xp
from dashboards._components import label, unavailable
from pipelines.queries import QueryError
from pipelines.queries import explore as q
from pipelines.settings import parse_key_groups
from pipelines.warehouse import WarehouseError

logger = logging.getLogger(__name__)

dash.register_page(__name__, path="/explore/population", name="人口分析 Population",
                   title="人口分析 / Population explorer", order=14)

PAGE = "population"
TABLES = ("residents",)
PLANNED = [("各网格人口画像", "portrait per grid"), ("重点人群（小数值隐藏为 <k）", "key groups (small counts as <k)")]
KEYS = ("community",)

MEASURE_LABELS = {
    "residents": ("人口", "residents"), "households": ("户数", "households"),
    "res_registered": ("户籍", "registered"), "res_resident": ("常住", "resident"),
    "res_floating": ("流动", "floating"), "res_other": ("其他/未填", "other"),
    "age_0_17": ("0–17岁", "0-17"), "age_18_59": ("18–59岁", "18-59"),
    "age_60_79": ("60–79岁", "60-79"), "age_80_plus": ("80岁+", "80+"),
    "age_unknown": ("年龄未知", "age n/a"),
}
AGE_BANDS = ("age_0_17", "age_18_59", "age_60_79", "age_80_plus", "age_unknown")
AGE_COLOURS = ("#8FD3FF", "#56B4E9", "#2F6FA8", "#E69F00", "#7A7A7A")

xp.register_navigation(PAGE, KEYS, dates=False)


def _defs(k: int) -> dict[str, str]:
    rule = (f"小数值隐藏（k = {k}，WALL_SMALL_COUNT）：1 至 {k - 1} 的人数显示为“<{k}”；为"
            "防止由合计反推，再按导出报表 population_summary 的规则隐藏补充格（“—”）：一个"
            "社区的某列只有一格被隐藏时，隐藏该列另一最小的非零格；社区合计被隐藏时，其网格中"
            "至少隐藏一格；户籍/常住/流动/其他 与各年龄段分别相加等于人口，所以其中任一格被隐"
            "藏时，同一行的整组都隐藏。隐藏在查询（SQL）中完成，页面和下载只拿到文字。")
    return {
        "table": "居民表快照（不受日期影响）：人口 = 居民人数；户数 = 不同户号，每户只计入其"
                 "最近更新成员所在网格；户籍/常住/流动 = residence 字段；年龄 = 统计年份 − "
                 "出生年（0–17、18–59、60–79、80+、未知）；重点人群按 WALL_KEY_GROUPS 代码，"
                 "一人可属多个人群。" + rule,
        "ages": "各社区人口按年龄段（统计年份 − 出生年）的构成；被隐藏的格不画出（该社区的"
                "整组年龄段）。" + rule,
    }


def figure_ages(cells) -> go.Figure:
    """Age bands per community (stacked bars) from the suppressed community totals."""
    rows = cells[(cells["row_kind"] == 1) & cells["measure"].isin(AGE_BANDS)]
    if rows.empty:
        return figs.empty_figure()
    communities = sorted(set(rows["community"]))
    fig = go.Figure()
    for band, colour in zip(AGE_BANDS, AGE_COLOURS):
        part = rows[rows["measure"] == band].set_index("community")
        vals = [part.at[c, "shown_count"] if c in part.index else None
                for c in communities]
        vals = [None if v is None or v != v else int(v) for v in vals]
        zh, en = MEASURE_LABELS[band]
        fig.add_bar(x=[figs.safe_label(c) for c in communities], y=vals,
                    name=f"{zh} {en}", marker={"color": colour},
                    customdata=communities,
                    text=[part.at[c, "cell"] if c in part.index else "" for c in
                          communities],
                    textposition="inside", insidetextanchor="middle",
                    textfont={"size": 10})
    fig = figs._base(fig, height=380)
    fig.update_layout(barmode="stack", showlegend=True,
                      legend={"orientation": "h", "y": 1.1, "x": 0},
                      margin={"l": 56, "r": 24, "t": 40, "b": 70})
    fig.update_xaxes(type="category", tickangle=-35)
    fig.update_yaxes(title={"text": "人数 people", "font": {"size": 12}})
    return fig


def _key_group_label(code: str, vocabulary: dict) -> tuple[str, str]:
    names = vocabulary.get(code) or ()
    return (names[0] if names else code, code)


def portrait_table(wide, vocabulary: dict) -> html.Table:
    """The suppressed portrait: grids under their community's total row."""
    measures = [c for c in wide.columns if c not in ("row_kind", "community", "grid")]
    headers = [html.Th(label("社区", "Community")), html.Th(label("网格", "Grid"))]
    for m in measures:
        zh, en = (_key_group_label(m[3:], vocabulary) if m.startswith("kg:")
                  else MEASURE_LABELS[m])
        headers.append(html.Th(label(zh, en), className="col-count"))
    body = []
    for r in wide.to_dict("records"):
        kind = int(r["row_kind"])
        key = "合计" if kind == 2 else (f"{r['community']}" if kind == 1
                                      else f"{r['community']}/{r['grid']}")
        cls = {0: None, 1: "xp-total", 2: "xp-total xp-grand"}[kind]
        body.append(html.Tr(
            [html.Td(r["community"]), html.Td(r["grid"])]
            + [html.Td(r[m], className="col-count" + (" xp-hidden" if r[m] in ("—",)
                                                      or str(r[m]).startswith("<")
                                                      else ""),
                       **{"data-key": f"{key}.{m}"}) for m in measures],
            className=cls))
    return html.Table([html.Thead(html.Tr(headers)), html.Tbody(body)],
                      className="data-table xp-table xp-population",
                      id="xp-population-table")


def layout(**query):
    """Population explorer for the view in the URL query."""
    settings = _data.settings()
    vocabulary = parse_key_groups(settings.key_groups)
    try:
        pending = xp.waiting(PAGE, "人口分析", "Population explorer", TABLES, PLANNED, query)
        if pending is not None:
            return pending
        con = _data.reader().cursor()
        try:
            options = xp.compound_options(con)
            view, notices = xp.parse_view(query, options)
            unknown = xp.unknown_places(view, options)
            if not unknown:
                wide = xp.population_table(con, view)
                cells = q.population_cells(
                    con, small_count=settings.small_count,
                    key_groups=list(vocabulary), year=view.now().year,
                    communities=view.get("community"))
        finally:
            con.close()
    except (WarehouseError, QueryError, duckdb.Error) as e:
        logger.warning("population explorer: data unavailable: %s", e)
        return html.Div([html.H1(label("人口分析", "Population explorer")),
                         unavailable(str(e), id="explore-population-unavailable")],
                        className="page page-explore")
    search = view.view_search()
    defs = _defs(settings.small_count)
    parts = xp.head(PAGE, "人口分析", "Population explorer", view, notices,
                    extra_meta=f"（人口为快照，日期不适用；年龄按 {view.now().year} 年计）")
    parts += xp.controls(PAGE, view, options, KEYS, dates=False)
    parts.append(xp.report_links(["population_summary"], view))
    if unknown:
        parts.append(xp.no_match(PAGE, unknown))
        return html.Div(parts, className="page page-explore")
    parts.append(html.Div([
        xp.panel("portrait", "人口画像（按社区、网格）", "Portrait by community and grid",
                 defs["table"], search,
                 html.Div(portrait_table(wide, vocabulary), className="xp-scroll"),
                 wide=True, csv="population"),
        xp.panel("ages", "各社区年龄构成", "Age bands by community", defs["ages"], search,
                 dcc.Graph(id="xp-population-ages", figure=figure_ages(cells),
                           config={"displayModeBar": False},
                           className="explore-graph"),
                 wide=True, csv="population"),
    ], className="explore-charts"))
    return html.Div(parts, className="page page-explore")
