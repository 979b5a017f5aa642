"""Explorer, participation: votes (turnout and approval by owners and area) and the
participation rate by compound and month. Shows an empty state until its tables load."""

import dash

from dashboards._explore_pages import waiting_page

dash.register_page(__name__, path="/explore/participation", name="参与分析 Participation",
                   title="参与分析 / Participation explorer", order=12)

TABLES = ("votes", "vote_results", "participation_monthly")


def layout(**query):
    """Participation explorer (empty state until votes and participation load)."""
    return waiting_page("participation", "参与分析", "Participation explorer", TABLES,
                        [("投票：按人数和面积的参与率、同意率", "votes: turnout and approval "
                          "by owners and by area"),
                         ("各小区逐月参与率", "participation rate by compound and month")],
                        query)
