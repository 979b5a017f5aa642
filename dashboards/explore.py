"""Explorer hub (/explore): the four explorers, each link keeping the current filters."""

import dash
from dash import dcc, html

from dashboards import _data
from dashboards._components import label
from dashboards._explore_state import parse_query
from pipelines.settings import local_now

dash.register_page(__name__, path="/explore", name="分析 Explore",
                   title="分析 / Explore", order=10)

SECTIONS = (
    ("tickets", "事件", "Tickets", "趋势、等级、类别、社区与网格；办结率、按时率、满意率；"
     "同比环比；逐件明细与办理时间线"),
    ("participation", "参与", "Participation", "投票参与率与同意率；各小区逐月参与率"),
    ("accounts", "收支", "Accounts", "各小区月度公共收支与明细"),
    ("population", "人口", "Population", "人口画像与重点人群（小数值隐藏）"),
)


def layout(**query):
    """Links to the explorers, carrying the URL's filters along."""
    state, _ = parse_query(query, local_now(_data.settings()).date())
    search = state.search() if query else ""
    return html.Div(
        [html.H1(label("分析", "Explore")),
         html.Div([dcc.Link([html.H2(label(zh, en)), html.P(text)],
                            href=f"/explore/{key}{search}", className="panel explore-card",
                            id=f"explore-card-{key}")
                   for key, zh, en, text in SECTIONS], className="explore-cards")],
        className="page page-explore",
    )
