"""Early warnings: computed after every load into the `warnings` table (issue 15).

`refresh(con, settings)` runs inside the load's write (the `warnings` step of
`pipelines.derived`, after any load of a table in `warnings_rules.INPUTS`): it evaluates
every enabled rule of `pipelines/warnings_rules.py` and the anomaly detector of
`pipelines/warnings_anomalies.py`, then updates each warning's lifecycle:

- a condition found now and not open before is inserted as `new` (first seen now);
- one still found is `ongoing`: the same row, with its evidence and last seen updated;
- an open one no longer found is `resolved` (resolved at now); if its condition returns
  later it is a new episode, a new row.

A warning's identity is its rule and scope (`warning_key`), never the load, so a
condition that persists is one warning. The same data and evaluation time give the same
warnings: rules are judged at the evaluation time (the load's local time), anomalies
at the tickets' data cut-off; every aggregation of tickets runs in DuckDB, and only daily
counts per community x grid x category reach Python (a community's are their sums).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines import queries
from pipelines import warnings_anomalies as wa
from pipelines.metrics.compute import community_figures
from pipelines.metrics.windows import Window
from pipelines.settings import Settings, local_now
from pipelines.warnings_rules import (ANOMALY_RULES, RULES, Config, WarningsConfigError,
                                      load_config)

logger = logging.getLogger(__name__)

SCOPE = ("community", "grid", "category", "compound", "vote_id", "source", "subject")
EVIDENCE = ("observed", "expected", "usual_low", "usual_high", "threshold")
# The columns of a found warning, with their types in the `warnings` table.
COLUMNS = (
    [("warning_key", "varchar"), ("kind", "varchar"), ("rule_id", "varchar"),
     ("severity", "varchar")]
    + [(c, "varchar") for c in SCOPE]
    + [("title", "varchar")] + [(c, "decimal(18,2)") for c in EVIDENCE]
    + [("unit", "varchar"), ("window_from", "timestamp"), ("window_to", "timestamp"),
       ("definition", "varchar")])


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return "" if value is None else str(value)


def warning_key(rule_id: str, row: dict[str, Any]) -> str:
    """The stable identity of a warning: its rule (`surge` for both windows of an
    anomaly: one warning per cell) and every scope value."""
    return "|".join([rule_id] + [row.get(c) or "" for c in SCOPE])


def _definition(text: str, params: dict[str, Any]) -> str:
    """The 口径 with this center's parameter values written after it."""
    if not params:
        return text
    shown = "; ".join(f"{k} = {v}" for k, v in sorted(params.items()))
    return f"{text}（{shown}）"


def _rule_params(rule_id: str, params: dict[str, Any], settings: Settings) -> dict:
    """The bound parameters of a rule's query (settings the 口径 refers to included)."""
    if rule_id == "source_stale":
        hours = params["hours"]
        return {"sources": sorted(hours), "hours": [float(hours[s]) for s in sorted(hours)]}
    bound = dict(params)
    if rule_id == "level4_open":
        bound.update(level=4, hours=0, unanswered=False)
    if rule_id == "level3_unanswered":
        bound.update(level=3, unanswered=True)
    if rule_id == "ledger_unpublished":
        bound["publish_days"] = settings.ledger_publish_days
    return bound


def _figure_rows(con: duckdb.DuckDBPyConnection, settings: Settings, config: Config,
                 as_of: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    """The firing communities of every enabled metric rule, as rule query rows.

    Each rule judges its metric as the metrics layer computes it per community over the
    last `days` days to `as_of` (Window.rolling; judged at `as_of`), so the observed
    figure is the one the wall and the explorer show for that window. Rules sharing a
    window share one statement.
    """
    by_days: dict[int, list[str]] = {}
    for rule_id in config.rules:
        if RULES[rule_id].figure:
            by_days.setdefault(RULES[rule_id].days, []).append(rule_id)
    out: dict[str, list[dict[str, Any]]] = {}
    for days, rule_ids in sorted(by_days.items()):
        # an instant figure (days 0) is judged at as_of whatever window carries it
        window = Window.rolling(max(days, 1), as_of)
        ids = tuple(RULES[r].figure for r in rule_ids)
        figures = community_figures(con, window, ids, response_hours=settings.response_hours)
        for rule_id in rule_ids:
            rule, params = RULES[rule_id], config.rules[rule_id]
            limit = Decimal(str(params[rule.limit]))
            rows = []
            for community, f in figures.items():
                value = f[rule.figure]
                if value is None:
                    continue
                value = Decimal(str(value))
                if rule.base_min and (f[f"{rule.figure}:base"] or 0) < params[rule.base_min]:
                    continue
                if value > limit if rule.above else value < limit:
                    rows.append({
                        "community": community, "observed": value, "expected": None,
                        "threshold": limit,
                        "window_from": window.start if days else as_of,
                        "window_to": window.end})
            out[rule_id] = rows
    return out


def rule_warnings(con: duckdb.DuckDBPyConnection, settings: Settings, config: Config,
                  as_of: dt.datetime) -> list[dict[str, Any]]:
    """Every rule's findings at `as_of`, one dict per warning (keys: COLUMNS)."""
    found = []
    by_figure = _figure_rows(con, settings, config, as_of)
    for rule_id, params in config.rules.items():
        rule = RULES[rule_id]
        if rule.figure:
            rows = by_figure[rule_id]
        else:
            bound = _rule_params(rule_id, params, settings)
            rows = queries.arrow(con, rule.query, as_of=as_of, **bound).to_pylist()
        definition = _definition(rule.definition, params)
        for row in rows:
            shown = {k: _text(v) for k, v in {**params, **row}.items()}
            found.append({
                **{c: row.get(c) for c in SCOPE},
                "warning_key": warning_key(rule_id, row), "kind": "rule",
                "rule_id": rule_id, "severity": config.severities[rule_id],
                "title": rule.title.format(**shown),
                "observed": row["observed"], "expected": row["expected"],
                "usual_low": None, "usual_high": None, "threshold": row["threshold"],
                "unit": rule.unit, "window_from": row["window_from"],
                "window_to": row["window_to"], "definition": definition,
            })
    return found


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from `first` to `last`, both included."""
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _calendar_classes(con, days: list[dt.date]) -> np.ndarray:
    """Day classes of `days` from dim_calendar; days it lacks count Monday-Friday. Read
    with two weeks on each side, so a long holiday at an edge is seen whole."""
    pad = 14
    wide = _days(days[0] - dt.timedelta(days=pad), days[-1] + dt.timedelta(days=pad))
    known = {d: (bool(w), bool(n)) for d, w, n in queries.rows(
        con, "warnings__calendar_days", day_from=wide[0], day_to=wide[-1])}
    flags = [known.get(d, (d.weekday() < 5, False)) for d in wide]
    is_workday = np.array([w for w, _ in flags])
    is_holiday = np.array([n and not w for w, n in flags])
    return wa.day_classes(is_workday, is_holiday)[pad:-pad]


def _int64s(array: pa.Array) -> np.ndarray:
    """A null-free integer Arrow array as numpy. Not `to_numpy()`: pyarrow imports
    pandas for it, a third of a second of every load's CPU."""
    array = array.cast(pa.int64())
    return np.frombuffer(array.buffers()[1], dtype=np.int64, count=len(array),
                         offset=8 * array.offset)


def _day_matrix(daily: pa.Table, n_days: int) -> np.ndarray:
    """Cells x days counts from the per-cell lists of (day, count) of
    warnings__daily_counts (zeros where a day had no ticket)."""
    days = daily["days"].combine_chunks()
    day_index, reported = pc.list_flatten(days).flatten()  # flatten(): offsets applied
    counts = np.zeros((daily.num_rows, n_days))
    counts[_int64s(pc.list_parent_indices(days)), _int64s(day_index)] = _int64s(reported)
    return counts


def _cells(daily: pa.Table, n_days: int) -> tuple[list[dict[str, Any]], np.ndarray,
                                                   np.ndarray]:
    """The detector's cells with their day counts, and which are grid cells: every
    community x category in name order (the sum of its rows of warnings__daily_counts,
    tickets without a grid included), then every community x grid x category in the
    query's order (name order)."""
    rows = daily.select(["community", "grid", "category"]).to_pylist()
    counts = _day_matrix(daily, n_days)
    pairs = sorted({(r["community"], r["category"]) for r in rows})
    index = {pair: i for i, pair in enumerate(pairs)}
    by_community = np.zeros((len(pairs), n_days))
    np.add.at(by_community, [index[(r["community"], r["category"])] for r in rows], counts)
    in_grid = np.array([r["grid"] is not None for r in rows], dtype=bool)
    cells = ([{"community": c, "grid": "", "category": k} for c, k in pairs]
             + [r for r in rows if r["grid"] is not None])
    is_grid = np.concatenate([np.zeros(len(pairs), dtype=bool),
                              np.ones(int(in_grid.sum()), dtype=bool)])
    return cells, np.vstack([by_community, counts[in_grid]]), is_grid


def anomaly_warnings(con: duckdb.DuckDBPyConnection, config: Config
                     ) -> list[dict[str, Any]]:
    """Surges of reports per cell at the tickets' data cut-off (docs/warnings.md)."""
    a = config.anomalies
    (cutoff,), = queries.rows(con, "warnings__cutoff")
    if cutoff is None:
        return []
    cut_day = cutoff.date()
    n_days = 7 * a["baseline_weeks"] + 7
    days = _days(cut_day - dt.timedelta(days=n_days - 1), cut_day)
    reports, by_then = queries.rows(con, "warnings__day_share", cutoff=cutoff,
                                    day_from=days[0])[0]
    share = by_then / reports if reports else 1.0
    share = max(share, 0.05)  # just after midnight: never expect nothing at all
    daily = queries.arrow(con, "warnings__daily_counts", day_from=days[0],
                          cutoff=cutoff)
    if daily.num_rows == 0:
        return []
    classes = _calendar_classes(con, days)
    cells, counts, is_grid = _cells(daily, n_days)
    # a category's weekly rhythm: categories numbered in name order
    names = sorted({c["category"] for c in cells})
    number = {name: i for i, name in enumerate(names)}
    groups = np.array([number[c["category"]] for c in cells], dtype=np.int64)
    w = wa.windows(counts, classes, share, a["baseline_weeks"], groups)
    # grid cells only where the week's expectation is large enough to mean something
    keep = ~is_grid | (w.week_expected >= a["grid_min_expected_week"])
    open_keys = {k for k, in queries.rows(con, "warnings__open_surges")}
    keys = [warning_key("surge", {"community": c["community"], "grid": c["grid"] or None,
                                  "category": c["category"]}) for c in cells]
    is_open = np.array([k in open_keys for k in keys], dtype=bool)
    day_hit, week_hit = wa.surges(w, a, is_open)
    found = []
    cutoff_text = f"{cutoff:%m-%d %H:%M}"
    for rule_id, hit, obs, exp, var, q, span in (
        ("surge_day", day_hit, w.day_observed, w.day_expected, w.day_variance,
         1 - a["alpha_day"], f"今日（截至 {cutoff_text}）"),
        ("surge_week", week_hit, w.week_observed, w.week_expected, w.week_variance,
         1 - a["alpha"], f"近7天（截至 {cutoff_text}）"),
    ):
        fired = np.flatnonzero(keep & hit)
        # an open week warning is judged against the top of its usual range
        q = np.where(is_open[fired], a["keep_quantile"], q) if rule_id == "surge_week" else q
        threshold = dict(zip(fired, wa.quantiles(exp[fired], var[fired], q)))
        low = dict(zip(fired, wa.quantiles(exp[fired], var[fired], 0.1)))
        high = dict(zip(fired, wa.quantiles(exp[fired], var[fired], 0.9)))
        start = cut_day if rule_id == "surge_day" else days[-7]
        definition = _definition(ANOMALY_RULES[rule_id], a)
        for i in fired:
            cell = cells[i]
            row = {"community": cell["community"], "grid": cell["grid"] or None,
                   "category": cell["category"], "compound": None, "vote_id": None,
                   "source": None, "subject": None}
            place = f"{row['community']}{' ' + row['grid'] if row['grid'] else ''}"
            severity = "critical" if obs[i] >= 3 * exp[i] else a["severity"]
            found.append({
                # one warning per cell, today's or the week's: a surge that shows first
                # today and then in the week stays the same warning
                **row, "warning_key": keys[i], "kind": "anomaly",
                "rule_id": rule_id, "severity": severity,
                "title": (f"{row['category']}，{place}：{span} {int(obs[i])} 件，"
                          f"通常 {int(low[i])}–{int(high[i])} 件"),
                "observed": obs[i], "expected": exp[i], "usual_low": low[i],
                "usual_high": high[i], "threshold": threshold[i], "unit": "tickets",
                "window_from": dt.datetime.combine(start, dt.time()), "window_to": cutoff,
                "definition": definition,
            })
    return found


def compute(con: duckdb.DuckDBPyConnection, settings: Settings, config: Config,
            as_of: dt.datetime) -> list[dict[str, Any]]:
    """Every warning found now (rules at `as_of`, anomalies at the data cut-off), in key
    order."""
    found = rule_warnings(con, settings, config, as_of)
    if config.anomalies_enabled:
        found += anomaly_warnings(con, config)
    return sorted(found, key=lambda w: w["warning_key"])


def store(con: duckdb.DuckDBPyConnection, found: list[dict[str, Any]],
          as_of: dt.datetime, load_id: int | None) -> dict[str, int]:
    """Apply the lifecycle (new / ongoing / resolved) to the warnings table; counts."""
    for w in found:
        for c in EVIDENCE:
            w[c] = _money(w[c])
    # Each column travels as one list of text, cast back in SQL: an Arrow table built
    # from Python objects makes pyarrow import pandas, a third of a second of every load.
    columns = {f"c{i}": [None if w[c] is None else str(w[c]) for w in found]
               for i, (c, _) in enumerate(COLUMNS)}
    con.execute("create or replace temp table _warnings_now as select " + ", ".join(
        f"unnest($c{i}::varchar[])::{kind} as {c}" for i, (c, kind) in enumerate(COLUMNS)),
        columns)
    params = {"as_of": as_of, "load_id": load_id}
    resolved = con.execute(
        """
        update warnings set status = 'resolved', resolved_at = $as_of,
            load_id = $load_id
        where status in ('new', 'ongoing')
            and warning_key not in (select warning_key from _warnings_now)
        """, params).fetchall()[0][0]
    ongoing = con.execute(
        """
        update warnings as w set
            status = 'ongoing', last_seen_at = $as_of, load_id = $load_id,
            rule_id = n.rule_id, severity = n.severity, title = n.title, observed = n.observed,
            expected = n.expected, usual_low = n.usual_low, usual_high = n.usual_high,
            threshold = n.threshold, window_from = n.window_from,
            window_to = n.window_to, definition = n.definition
        from _warnings_now as n
        where w.warning_key = n.warning_key and w.status in ('new', 'ongoing')
        """, params).fetchall()[0][0]
    new = con.execute(
        """
        insert into warnings by name
        select
            n.*,
            n.warning_key || '@' || strftime($as_of::timestamp, '%Y-%m-%dT%H:%M:%S')
                as warning_id,
            $as_of::timestamp as first_seen_at,
            $as_of::timestamp as last_seen_at,
            null::timestamp as resolved_at,
            'new' as status,
            $load_id::bigint as load_id,
        from _warnings_now as n
        where n.warning_key not in (
            select warning_key from warnings where status in ('new', 'ongoing')
        )
        """, params).fetchall()[0][0]
    # (a failed statement above leaves it to the load's rollback, or to the next call)
    con.execute("drop table _warnings_now")
    return {"new": new, "ongoing": ongoing, "resolved": resolved}


def refresh(con: duckdb.DuckDBPyConnection, settings: Settings, load_id: int | None = None,
            as_of: dt.datetime | None = None) -> list[str]:
    """Recompute warnings after a load; return notes for the load log.

    A broken warnings file does not fail the load (the data is good): the warnings stay
    as they were and the load log says why they were not computed.
    """
    try:
        config = load_config(settings.warnings_file)
    except WarningsConfigError as e:
        logger.error("warnings not computed: %s", e)
        return [f"warnings not computed: {e}"]
    as_of = as_of or local_now(settings).replace(microsecond=0)
    counts = store(con, compute(con, settings, config, as_of), as_of, load_id)
    logger.info("warnings at %s: %s", as_of, counts)
    return []
