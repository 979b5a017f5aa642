"""Derived tables of population, participation and the ledger (pipelines/sql/marts/).

Called by `pipelines.derived.refresh` inside the load's write transaction, so derived
tables never disagree with what was loaded. Each step returns warnings for the load log.

- population: residents.key_groups (canonical codes from WALL_KEY_GROUPS), then
  participation_monthly (its denominator is households from residents);
- votes / ballots: vote_results (Civil Code art. 278), and participation_monthly;
- engagement: participation_monthly;
- ledger / ledger_balances: the journal (ledger_postings), the monthly statement
  (ledger_monthly) and publications of months WALL_LEDGER_PUBLISH_DAYS after their end.

Serving marts (migration 0004), so explorer callbacks never scan every ticket or resident:
- tickets: ticket_dimension_values (the explorer's filter options);
- population: compound_residents and population_counts;
- population / votes / ballots / engagement: household_acts and compound_daily_acts.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import duckdb

from pipelines.settings import Settings, local_now, parse_key_groups

logger = logging.getLogger(__name__)

MARTS_DIR = Path(__file__).parent / "sql" / "marts"
KEY_GROUP_SEPARATORS = "[;；、,，/]"


def mart_sql(name: str) -> str:
    """The text of pipelines/sql/marts/<name>.sql."""
    return (MARTS_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _rebuild(con: duckdb.DuckDBPyConnection, table: str, params: dict | None = None) -> None:
    """Replace every row of `table` with its mart query (same name)."""
    con.execute(f"delete from {table}")
    con.execute(f"insert into {table} by name {mart_sql(table)}", params or {})


def refresh_key_groups(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Set residents.key_groups to canonical codes; warn about words not in the vocabulary.

    Every resident is recomputed, so a changed vocabulary applies at the next load.
    """
    vocabulary = parse_key_groups(settings.key_groups)
    terms, codes, ranks = [], [], []
    for rank, (code, names) in enumerate(vocabulary.items()):
        for term in (code, *names):
            terms.append(term.lower())
            codes.append(code)
            ranks.append(rank)
    con.execute(
        f"""
        create or replace temp table _key_group_words as
        with words as (
            select person_id, trim(unnest(regexp_split_to_array(
                key_groups_text, '{KEY_GROUP_SEPARATORS}'))) as word
            from residents where key_groups_text is not null
        ),
        vocabulary as (
            select unnest($terms) as term, unnest($codes) as code, unnest($ranks) as rank
        )
        select w.person_id, w.word, v.code, v.rank
        from words as w left join vocabulary as v on v.term = lower(w.word)
        where w.word <> ''
        """,
        {"terms": terms, "codes": codes, "ranks": ranks},
    )
    con.execute("update residents set key_groups = []::varchar[] "
                "where key_groups is null or len(key_groups) > 0")
    con.execute(
        """
        update residents set key_groups = m.codes
        from (
            select person_id, list(distinct code order by code) as codes
            from _key_group_words where code is not null group by person_id
        ) as m
        where residents.person_id = m.person_id
        """
    )
    unknown = con.execute(
        "select word, count(*) from _key_group_words where code is null "
        "group by word order by 2 desc, 1 limit 5").fetchall()
    con.execute("drop table _key_group_words")
    if not unknown:
        return []
    shown = ", ".join(f"{w!r} ×{n}" for w, n in unknown)
    return [(f"key_groups words not in WALL_KEY_GROUPS, ignored: {shown} "
             "(add them to the vocabulary or map them in [values.key_groups])")]


def refresh_vote_results(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Rebuild vote_results as at the local time now."""
    _rebuild(con, "vote_results", {"as_of": local_now(settings).replace(microsecond=0)})
    return []


def refresh_ticket_options(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild ticket_dimension_values (one grouped scan of tickets)."""
    _rebuild(con, "ticket_dimension_values")


def refresh_population_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild compound_residents and population_counts from residents."""
    _rebuild(con, "compound_residents")
    _rebuild(con, "population_counts")


def refresh_acts(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild household_acts and compound_daily_acts (acts by day)."""
    _rebuild(con, "household_acts")
    _rebuild(con, "compound_daily_acts")


SERVING_MARTS = ("ticket_dimension_values", "compound_residents", "population_counts",
                 "household_acts", "compound_daily_acts")


def refresh_serving_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every serving mart from the tables as they stand (after migration 0004,
    and by the benchmark generator, which fills source tables directly)."""
    refresh_ticket_options(con)
    refresh_population_counts(con)
    refresh_acts(con)


def refresh_participation(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Rebuild participation_monthly and the acts marts; warn when acts cannot be
    matched to a household."""
    _rebuild(con, "participation_monthly")
    refresh_acts(con)
    unmatched = con.execute(
        """
        select count(*) from engagement as e
        where e.household_id is null
            and not exists (select 1 from residents as r where r.person_id = e.person_id)
        """
    ).fetchall()[0][0]
    if unmatched:
        return [(f"{unmatched:,} engagement event(s) have no household_id and a "
                 "person_id unknown to population: they count for no household's "
                 "participation")]
    return []


def _publish_due_months(con, settings: Settings, today: dt.date, load_id: int) -> None:
    """Record each month whose publication day has come, with its figures, once.

    A month counts as reported, and so can be published, once the compound has postings
    in it or a later month: an opening balance alone publishes nothing, and history
    loaded year by year (oldest first) does not turn the next year into adjustments.
    """
    con.execute(
        """
        insert into ledger_publications
        select
            compound, month, last_day(month) + $days + 1, opening_yuan, income_yuan,
            expense_yuan, adjustment_yuan, closing_yuan, $load_id
        from ledger_monthly as m
        where last_day(month) + $days < $today
            -- only months the office has reported: up to the compound's latest posting
            and month <= (
                select max(posted_month) from ledger_postings as j
                where j.compound = m.compound
            )
            and not exists (
                select 1 from ledger_publications as p
                where p.compound = m.compound and p.month = m.month
            )
        """,
        {"days": settings.ledger_publish_days, "today": today, "load_id": load_id},
    )


def refresh_ledger(con: duckdb.DuckDBPyConnection, settings: Settings, load_id: int,
                   post: bool = True) -> list[str]:
    """Post this load's changes to the journal and rebuild the monthly statement.

    Months due for publication are first recorded from the statement as it stood before
    this load (that is how it stood on their publication day: any later load would have
    recorded them), so a change dated in them becomes an adjustment of the current month.
    """
    today = local_now(settings).date()
    today_month = today.replace(day=1)
    _publish_due_months(con, settings, today, load_id)
    if post:
        con.execute(
            f"insert into ledger_postings by name {mart_sql('ledger_postings')}",
            {"load_id": load_id, "today": today, "today_month": today_month},
        )
        con.execute(
            """
            update ledger_entries set is_adjustment = p.is_adjustment,
                adjusted_on = p.adjusted_on
            from (
                select entry_id, bool_or(is_adjustment) as is_adjustment,
                    max(posted_on) filter (is_adjustment) as adjusted_on
                from ledger_postings group by entry_id
            ) as p
            where ledger_entries.entry_id = p.entry_id and ledger_entries.load_id = $id
            """,
            {"id": load_id},
        )
    _rebuild(con, "ledger_monthly", {"today_month": today_month})
    _publish_due_months(con, settings, today, load_id)
    con.execute(
        """
        update ledger_monthly set is_published = true, published_on = p.published_on
        from ledger_publications as p
        where ledger_monthly.compound = p.compound and ledger_monthly.month = p.month
        """
    )
    return _ledger_warnings(con, load_id)


def _ledger_warnings(con, load_id: int) -> list[str]:
    warnings = []
    adjustments = con.execute(
        "select count(*), sum(income_yuan - expense_yuan) from ledger_postings "
        "where load_id = $id and is_adjustment", {"id": load_id}).fetchall()[0]
    if adjustments[0]:
        warnings.append(
            f"{adjustments[0]:,} change(s) dated in already published months booked as "
            f"adjustments of this month (net {adjustments[1]} yuan); see "
            "`python -m pipelines status`")
    without = [c for (c,) in con.execute(
        "select distinct compound from ledger_postings where compound not in "
        "(select compound from ledger_openings) order by 1 limit 5").fetchall()]
    if without:
        warnings.append("no opening balance (load ledger_balances) for "
                        + ", ".join(without) + ": their statements start at 0.00")
    return warnings


def adjustments_text(con: duckdb.DuckDBPyConnection, limit: int = 10) -> list[str]:
    """Lines for `python -m pipelines status`: ledger adjustments, newest first."""
    total = con.execute(
        "select count(*) from ledger_entries where is_adjustment").fetchall()[0][0]
    if not total:
        return []
    lines = [("ledger adjustments (entries loaded after their month was published): "
              f"{total:,}")]
    for row in con.execute(
            """
            select adjusted_on, compound, entry_id, booked_on, direction, amount_yuan
            from ledger_entries where is_adjustment
            order by adjusted_on desc, compound, entry_id limit $limit
            """, {"limit": limit}).fetchall():
        lines.append("  {} {} {} dated {} {} {}".format(*row))
    return lines
