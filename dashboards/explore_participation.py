"""Explorer, participation: votes (turnout and approval by owners and by area against
the Civil Code art. 278 thresholds, state), the participation rate by compound and month
(heatmap), and the compounds with no ballot and no engagement in the period.

The view is a function of the URL (`from`, `to`, `community`, `compound`, `matter`,
`state`, `asof`); see dashboards/_explore_people.py. Each figure calls one query function
in pipelines/queries/explore.py; its CSV comes from the same function.
"""

from __future__ import annotations

import datetime as dt
import logging

import dash
import duckdb
import plotly.graph_objects as go
from dash import dcc, html

from dashboards import _data, _theme
from dashboards import _explore_figures as figs
from dashboards import _explore_people as xp
from dashboards._components import fmt_count, fmt_time, label, unavailable
from pipelines.metrics.windows import Window
from pipelines.queries import QueryError
from pipelines.queries import explore as q
from pipelines.warehouse import WarehouseError

logger = logging.getLogger(__name__)

dash.register_page(__name__, path="/explore/participation", name="参与分析 Participation",
                   title="参与分析 / Participation explorer", order=12)

PAGE = "participation"
TABLES = ("votes", "vote_results", "participation_monthly")
PLANNED = [("投票：按人数和面积的参与率、同意率", "votes: turnout and approval"), ("各小区逐月参与率", "participation by compound and month")]
KEYS = ("community", "compound", "matter", "state")
CHART = "xp-participation-chart"

DEFS = {
    "votes": "所选时段内任一时刻处于开放状态的投票（开始 ≤ 止日，截止 ≥ 起日）。参与率 = 参与"
             "投票的业主（含弃权）÷ 全体业主，按人数和按专有面积分别计算；同意率 = 同意 ÷ 参与"
             "投票者，按人数和面积。民法典第278条：参与须人数和面积均 ≥ 2/3；一般事项同意须"
             "均 > 1/2，重大事项（维修资金、改建重建、改变共有部分用途）须均 ≥ 3/4。判定用精确"
             "整数/小数运算（恰好 2/3、3/4 通过，恰好 1/2 不通过），百分比仅供显示（1 位小数）。"
             "状态按统计时点：截止时间在其后为“进行中”，否则两项均达标为“通过”，否则“未通过”。"
             "筛选“事项”“结果”只作用于投票。",
    "turnout": "每项投票按人数（业主）和按面积的参与率；虚线为 2/3 门槛（66.7%）。点击条形按该"
               "投票所在小区筛选。",
    "approval": "每项投票按人数和按面积的同意率（同意 ÷ 参与）；菱形为该投票的门槛：一般事项 "
                "> 50%，重大事项 ≥ 75%。",
    "heatmap": "各小区逐月户参与率 = 当月有任一投票（按业主所属户）或参与活动（问卷、意见、"
               "建议、志愿等，按 household_id 或其人员所属户）的户数 ÷ 小区总户数（居民表）。"
               "月份为与所选时段重叠的自然月；来自 participation_monthly。空白格 = 该月无数据。"
               "统计时点所在、尚未结束的月份标“（至今）”并以虚线框出：只计到统计时点。"
               "点击格子按该小区筛选。不受“事项”“结果”筛选影响。",
    "silent": "在所选日期内（按精确日期）没有任何一张选票、也没有任何参与活动记录的小区"
              "（“从不参与的小区”）；下表列出所有小区在时段内的投票数、选票数、活动数和参与户"
              "数、户参与率（参与户 ÷ 总户数，同一户多次参与计一次）。",
}


def _clicks(index: str, point: dict, view: xp.PeopleView):
    value = point.get("customdata")
    if isinstance(value, list):
        value = value[0]
    if not value:
        return None
    current = list(view.get("compound"))
    current = [c for c in current if c != value] if value in current else current + [value]
    return view.with_values("compound", current)


xp.register_navigation(PAGE, KEYS, clicks=_clicks, chart_type=CHART)


def _graph(index: str, figure: go.Figure) -> dcc.Graph:
    return dcc.Graph(id={"type": CHART, "index": index}, figure=figure,
                     config={"displayModeBar": False}, className="explore-graph")


def figure_turnout(votes) -> go.Figure:
    """Turnout by owners and by area per vote, against the 2/3 line."""
    if votes.empty:
        return figs.empty_figure("没有投票", "No votes")
    df = votes.iloc[::-1]
    labels = [f"{figs.safe_label(r.compound)} · {figs.safe_label(r.title)} "
              f"({r.vote_id})" for r in df.itertuples()]
    fig = go.Figure()
    for col, name, colour in (("turnout_owners_pct", "按人数 owners", figs.ACCENT),
                              ("turnout_area_pct", "按面积 area", figs.PCT_COLOUR)):
        vals = [float(v) for v in df[col]]
        fig.add_bar(y=labels, x=vals, orientation="h", name=name,
                    marker={"color": colour}, customdata=df["compound"].tolist(),
                    text=[xp.fmt_pct(v) for v in vals], textposition="outside",
                    cliponaxis=False)
    fig.add_vline(x=200 / 3, line={"dash": "dash", "color": _theme.AT_RISK})
    fig = figs._base(fig, height=max(260, 44 * len(df) + 80))
    fig.update_layout(barmode="group", showlegend=True,
                      legend={"orientation": "h", "y": 1.06, "x": 0},
                      margin={"l": 56, "r": 48, "t": 36, "b": 36})
    fig.update_xaxes(range=[0, 110], title={"text": "参与率 turnout %", "font": {"size": 12}})
    fig.update_yaxes(automargin=True, type="category")
    return fig


def figure_approval(votes) -> go.Figure:
    """Approval by owners and by area per vote, with each vote's threshold."""
    if votes.empty:
        return figs.empty_figure("没有投票", "No votes")
    df = votes.iloc[::-1]
    labels = [f"{figs.safe_label(r.compound)} · {figs.safe_label(r.title)} "
              f"({r.vote_id})" for r in df.itertuples()]
    fig = go.Figure()
    for col, name, colour in (("approval_owners_pct", "按人数 owners", figs.ACCENT),
                              ("approval_area_pct", "按面积 area", figs.PCT_COLOUR)):
        vals = [None if v != v else float(v) for v in df[col]]
        fig.add_bar(y=labels, x=vals, orientation="h", name=name,
                    marker={"color": colour}, customdata=df["compound"].tolist(),
                    text=[xp.fmt_pct(v) for v in vals], textposition="outside",
                    cliponaxis=False)
    fig.add_scatter(y=labels, x=[float(v) for v in df["approval_threshold_pct"]],
                    mode="markers", name="门槛 threshold",
                    marker={"symbol": "diamond", "size": 11, "color": _theme.AT_RISK},
                    customdata=df["compound"].tolist())
    fig = figs._base(fig, height=max(260, 44 * len(df) + 80))
    fig.update_layout(barmode="group", showlegend=True,
                      legend={"orientation": "h", "y": 1.06, "x": 0},
                      margin={"l": 56, "r": 48, "t": 36, "b": 36})
    fig.update_xaxes(range=[0, 110], title={"text": "同意率 approval %", "font": {"size": 12}})
    fig.update_yaxes(automargin=True, type="category")
    return fig


def figure_heatmap(monthly, now: dt.datetime) -> go.Figure:
    """Participation % per compound (rows) and month (columns), value in each cell.

    The month still running at `now` (the metrics layer's month-to-date window) reads
    "（至今）" on the axis and in the hover, and its column is outlined dashed: a month
    counted so far is never drawn like a whole one.
    """
    if monthly.empty:
        return figs.empty_figure("没有参与数据", "No participation data")
    running = Window.to_date("month", now)
    to_date = f"{running.start:%Y-%m}" if running.is_partial else None
    months = sorted({m.strftime("%Y-%m") for m in monthly["month"]})
    names = [f"{m}（至今）" if m == to_date else m for m in months]
    compounds = sorted(set(monthly["compound"]),
                       key=lambda c: (str(monthly.loc[monthly.compound == c,
                                                      "community"].iloc[0]), c))
    grid = {(r.compound, r.month.strftime("%Y-%m")): r.participation_pct
            for r in monthly.itertuples()}
    z = [[grid.get((c, m)) for m in months] for c in compounds]
    z = [[None if v is None or v != v else float(v) for v in row] for row in z]
    text = [["" if v is None else f"{v:.0f}" for v in row] for row in z]
    note = f"，截至 {now:%m-%d %H:%M}（部分 partial）"
    hover = [[f"{figs.safe_label(c)} {m}: " + ("—" if v is None else f"{v:.1f}%")
              + (note if m == to_date else "") for m, v in zip(months, row)]
             for c, row in zip(compounds, z)]
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=[figs.safe_label(c) for c in compounds], text=text,
        texttemplate="%{text}", textfont={"size": 11}, zmin=0, zmax=100,
        colorscale=[[0, "#1B2A44"], [0.5, "#2F6FA8"], [1, "#8FD3FF"]],
        customdata=[[c] * len(months) for c in compounds],
        colorbar={"title": {"text": "%"}, "thickness": 12},
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", xgap=2, ygap=2))
    if to_date in months:
        i = months.index(to_date)
        fig.add_shape(type="rect", xref="x", yref="paper", x0=i - 0.5, x1=i + 0.5,
                      y0=0, y1=1, line={"color": _theme.AT_RISK, "dash": "dash",
                                        "width": 2})
    fig = figs._base(fig, height=max(260, 24 * len(compounds) + 80))
    fig.update_yaxes(autorange="reversed", automargin=True, type="category")
    fig.update_xaxes(type="category", side="top")
    fig.update_layout(margin={"l": 56, "r": 24, "t": 36, "b": 12})
    return fig


def _pct(part: int, whole: int) -> float | None:
    """A share in percent from its counts (None when there is no whole)."""
    return 100.0 * part / whole if whole else None


def _vote_table(votes) -> html.Table:
    def ok(flag: bool) -> html.Td:
        return html.Td("✓ 达标" if flag else "✗ 未达", className="xp-ok" if flag
                       else "xp-no")

    head = html.Thead(html.Tr([html.Th(label(zh, en)) for zh, en in (
        ("投票", "Vote"), ("小区", "Compound"), ("事项", "Matter"), ("截止", "Closes"),
        ("参与 人数", "Turnout owners"), ("参与 面积", "Turnout area"),
        ("同意 人数", "Approval owners"), ("同意 面积", "Approval area"),
        ("参与门槛", "Turnout ≥2/3"), ("同意门槛", "Approval"), ("结果", "State"))]))
    rows = []
    for r in votes.itertuples():
        rows.append(html.Tr([
            html.Td([r.vote_id, html.Span(r.title or "", className="label-en")]),
            html.Td(r.compound),
            html.Td(xp.MATTER_LABELS.get(r.matter, r.matter)),
            html.Td(fmt_time(r.closes_at), className="col-time"),
            # From the counts beside it: the mart keeps 2 places, and 61.85 → "61.9"
            # would round 201/325 = 61.846 % twice.
            html.Td(f"{xp.fmt_pct(_pct(r.voted_owners, r.eligible_owners))} "
                    f"({r.voted_owners:,}/"
                    f"{r.eligible_owners:,})", className="col-count",
                    **{"data-key": f"{r.vote_id}.turnout_owners"}),
            html.Td(xp.fmt_pct(r.turnout_area_pct), className="col-count",
                    **{"data-key": f"{r.vote_id}.turnout_area"}),
            html.Td(xp.fmt_pct(r.approval_owners_pct), className="col-count",
                    **{"data-key": f"{r.vote_id}.approval_owners"}),
            html.Td(xp.fmt_pct(r.approval_area_pct), className="col-count",
                    **{"data-key": f"{r.vote_id}.approval_area"}),
            ok(r.meets_turnout),
            ok(r.meets_approval),
            html.Td(xp.STATE_LABELS[r.state], className=f"xp-state-{r.state}",
                    **{"data-key": f"{r.vote_id}.state"}),
        ]))
    return html.Table([head, html.Tbody(rows)], className="data-table xp-table",
                      id="xp-participation-votes")


def _silent(compounds) -> html.Div:
    silent = compounds[compounds["is_silent"]]
    items = [html.Li(f"{r.compound}（{r.community or '—'}）") for r in silent.itertuples()]
    listing = html.Ul(items, id="xp-participation-silent-list", className="xp-silent") \
        if items else html.P(label("所选时段内每个小区都有选票或参与活动",
                                   "every compound voted or took part in the period"),
                             className="muted", id="xp-participation-silent-list")
    table = html.Table(
        [html.Thead(html.Tr([html.Th(label(zh, en)) for zh, en in (
            ("小区", "Compound"), ("社区", "Community"), ("总户数", "Households"),
            ("投票", "Votes"), ("选票", "Ballots"), ("活动", "Engagement"),
            ("参与户", "Participating"), ("户参与率", "Rate"))])),
         html.Tbody([html.Tr([
             html.Td(r.compound), html.Td(r.community or "—"),
             html.Td(fmt_count(r.households), className="col-count"),
             html.Td(fmt_count(r.votes_held), className="col-count"),
             html.Td(fmt_count(r.ballots), className="col-count",
                     **{"data-key": f"{r.compound}.ballots"}),
             html.Td(fmt_count(r.engagement_events), className="col-count",
                     **{"data-key": f"{r.compound}.engagement"}),
             html.Td(fmt_count(r.participating_households), className="col-count"),
             html.Td(xp.fmt_pct(r.participation_pct), className="col-count",
                     **{"data-key": f"{r.compound}.participation_pct"}),
         ], className="row-warning" if r.is_silent else None)
             for r in compounds.itertuples()])],
        className="data-table xp-table", id="xp-participation-compounds")
    return html.Div([html.H3(label(f"从不参与的小区：{len(items)} 个",
                                   f"compounds that never took part: {len(items)}"),
                             id="xp-participation-silent-count"),
                     listing, table])


def layout(**query):
    """Participation explorer for the view in the URL query."""
    try:
        pending = xp.waiting(PAGE, "参与分析", "Participation explorer", TABLES, PLANNED, query)
        if pending is not None:
            return pending
        con = _data.reader().cursor()
        try:
            options = xp.compound_options(con)
            view, notices = xp.parse_view(query, options)
            f = view.filters()
            unknown = xp.unknown_places(view, options)
            if not unknown:
                votes = q.vote_table(con, f, now=view.now())
                monthly = q.participation_by_month(con, f)
                compounds = q.participation_by_compound(con, f)
        finally:
            con.close()
    except (WarehouseError, QueryError, duckdb.Error) as e:
        logger.warning("participation explorer: data unavailable: %s", e)
        return html.Div([html.H1(label("参与分析", "Participation explorer")),
                         unavailable(str(e), id="explore-participation-unavailable")],
                        className="page page-explore")
    search = view.view_search()
    parts = xp.head(PAGE, "参与分析", "Participation explorer", view, notices)
    parts += xp.controls(PAGE, view, options, KEYS)
    parts.append(xp.report_links(["vote_results", "participation"], view))
    if unknown:
        parts.append(xp.no_match(PAGE, unknown))
        return html.Div(parts, className="page page-explore")
    n_votes = len(votes)
    summary = html.P(
        [f"投票 {n_votes} 项：通过 {(votes.state == 'passed').sum()}，未通过 "
         f"{(votes.state == 'failed').sum()}，进行中 {(votes.state == 'open').sum()}",
         html.Span(f"{n_votes} votes", className="label-en")],
        className="meta-line", id="xp-participation-vote-count")
    parts.append(html.Div([
        xp.panel("votes", "投票结果", "Votes: turnout, approval, state", DEFS["votes"],
                 search, html.Div([summary, _vote_table(votes)], className="xp-scroll"),
                 wide=True, csv="votes"),
        xp.panel("turnout", "参与率（门槛 2/3）", "Turnout vs 2/3", DEFS["turnout"], search,
                 _graph("turnout", figure_turnout(votes)), csv="votes"),
        xp.panel("approval", "同意率（门槛 1/2、3/4）", "Approval vs threshold",
                 DEFS["approval"], search, _graph("approval", figure_approval(votes)),
                 csv="votes"),
        xp.panel("heatmap", "各小区逐月户参与率", "Participation by compound and month",
                 DEFS["heatmap"], search,
                 _graph("heatmap", figure_heatmap(monthly, view.now())),
                 wide=True, csv="participation_monthly"),
        xp.panel("silent", "从不参与的小区", "Compounds that never take part",
                 DEFS["silent"], search, _silent(compounds), wide=True,
                 csv="participation_compounds"),
    ], className="explore-charts"))
    return html.Div(parts, className="page page-explore")
