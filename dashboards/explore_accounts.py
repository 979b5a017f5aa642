"""Explorer, accounts: monthly statements per compound with the entries behind each
figure. Shows an empty state until the ledger tables load."""

import dash

from dashboards._explore_pages import waiting_page

dash.register_page(__name__, path="/explore/accounts", name="收支分析 Accounts",
                   title="收支分析 / Accounts explorer", order=13)

TABLES = ("ledger_entries", "ledger_monthly")


def layout(**query):
    """Accounts explorer (empty state until the ledger loads)."""
    return waiting_page("accounts", "收支分析", "Accounts explorer", TABLES,
                        [("各小区月度收支表", "monthly statement per compound"),
                         ("每个数字背后的明细", "the entries behind each figure")], query)
