"""Explorer, population: portraits per grid and compound with the wall's small-count
suppression. Shows an empty state until the residents table loads."""

import dash

from dashboards._explore_pages import waiting_page

dash.register_page(__name__, path="/explore/population", name="人口分析 Population",
                   title="人口分析 / Population explorer", order=14)

TABLES = ("residents",)


def layout(**query):
    """Population explorer (empty state until residents load)."""
    return waiting_page("population", "人口分析", "Population explorer", TABLES,
                        [("各网格、小区人口画像", "portrait per grid and compound"),
                         ("重点人群（小数值按设置隐藏为 <k）",
                          "key groups (small counts shown as <k)")], query)
