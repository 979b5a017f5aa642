"""Benchmark data: warehouses of any size, generated inside DuckDB with set-based SQL.

Every row comes from `range(n)` and hash-based pseudo-randomness (`hash(i, k)`), so the
same size and `now` give the same warehouse, and 10 million tickets take seconds, not a
Python loop. The schema is the product's own: `pipelines.warehouse.migrate` creates it,
`pipelines.workdays.refresh_calendar` builds the calendar and computes every deadline.

Shape (see docs/domain.md): the level mix 94.7 / 1.6 / 3.4 / 0.3 %, the demo's categories,
handlers and sources, reports mostly in daytime, most level-1 tickets closed the same
day, about 4 % late, about 1 % of recent tickets stuck open past their time limit.
Larger sizes are a bigger city: more communities (14 at 100k, 14 per 900k tickets
above), with tickets spread over the same span of days.

Tables of population, participation and ledger (migration 0002 and later) are filled
in proportion (`PER_TICKET`, `PER_COMPOUND`: about 1 million residents and 1 million
ledger entries at 10 million tickets) from the tables' own column names and types
(`_column_sql`), so a new column does not break the harness. Their derived tables are
filled the same way, not derived: the figures are for timing, not for reconciling.
The serving marts (`derived.SERVING_MARTS`: filter options, compounds' communities,
population counts, acts per day, the wall's closure months and population cells) are
aggregates the explorer and the wall read instead of the big tables, so they are built
from the generated rows by the product's own SQL, as a load would.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

import duckdb

from pipelines import derived, sources, warehouse, warnings_engine, workdays
from pipelines.demo import CATEGORIES, COMMUNITIES, COMPOUNDS, SOURCES, ZONES
from pipelines.settings import Settings

logger = logging.getLogger(__name__)

SPAN_DAYS = 2 * 365  # tickets cover the two years up to `now`, as the demo does

LEVEL_CUTS = (0.947, 0.963, 0.997)  # cumulative level shares, level 4 the rest
HANDLERS = ("property", "community", "department", "self_governance")


def communities(n_tickets: int) -> list[str]:
    """Community names: the demo's 14, then numbered ones as the city grows."""
    names = [c[0] for c in COMMUNITIES]
    extra = max(0, n_tickets // 900_000 * 14 - 14) if n_tickets > 1_000_000 else 0
    names += [f"{ZONES[i % 3][:1]}城第{i + 1}社区" for i in range(extra)]
    return names


def _pick_sql(u: str, values: list[str], weights: list[float]) -> str:
    """SQL CASE choosing one of `values` with `weights` from uniform `u` in [0, 1)."""
    total = sum(weights)
    acc, whens = 0.0, []
    for value, w in zip(values[:-1], weights[:-1]):
        acc += w / total
        whens.append(f"when {u} < {acc:.6f} then '{value}'")
    return f"(case {' '.join(whens)} else '{values[-1]}' end)"


def _list_sql(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def ticket_select_sql(n: int, now: dt.datetime) -> str:
    """SELECT of `n` canonical tickets (input columns only), deterministic for `now`.

    Used twice: to fill a warehouse, and to write the CSV the load benchmark reads.
    """
    names = communities(n)
    compounds = compound_names(n)
    cats = list(CATEGORIES)
    phrases = [p for c in cats for p in CATEGORIES[c][3]]
    start = now - dt.timedelta(days=SPAN_DAYS)
    category = _pick_sql("u3", cats, [CATEGORIES[c][0] for c in cats])
    source = _pick_sql("u4", list(SOURCES[0]), list(SOURCES[1]))
    handler = _pick_sql("u5", list(HANDLERS), [0.38, 0.33, 0.22, 0.07])
    return f"""
    with base as (
        select
            i,
            -- uniform pseudo-random numbers in [0, 1), one per purpose
            (hash(i, 1) % 1000003) / 1000003.0 as u1,
            (hash(i, 2) % 1000003) / 1000003.0 as u2,
            (hash(i, 3) % 1000003) / 1000003.0 as u3,
            (hash(i, 4) % 1000003) / 1000003.0 as u4,
            (hash(i, 5) % 1000003) / 1000003.0 as u5,
            (hash(i, 6) % 1000003) / 1000003.0 as u6,
            (hash(i, 7) % 1000003) / 1000003.0 as u7,
            (hash(i, 8) % 1000003) / 1000003.0 as u8,
            (hash(i, 9) % 1000003) / 1000003.0 as u9,
            cast(hash(i, 10) % 4611686018427387904 as bigint) as h,
        from range({n}) as r(i)
    ),

    placed as (
        select
            *,
            -- tickets in id order over the span; most reports between 07:00 and 22:00
            timestamp '{start:%Y-%m-%d} 00:00:00'
                + to_days(cast(floor(i * {SPAN_DAYS}.0 / {n}) as integer))
                + to_seconds(cast(case when u1 < 0.9 then 25200 + u2 * 54000
                                       else u2 * 86400 end as bigint)) as reported_at,
            case when u6 < {LEVEL_CUTS[0]} then 1 when u6 < {LEVEL_CUTS[1]} then 2
                 when u6 < {LEVEL_CUTS[2]} then 3 else 4 end as level,
            {category} as category,
            {source} as source,
            {handler} as handler,
            cast(h % {len(names)} as bigint) as c_idx,
        from base
    ),

    accepted as (
        select
            *,
            reported_at + to_seconds(cast(30 + u7 * 900 as bigint)) as accepted_at,
        from placed
    ),

    timed as (
        select
            *,
            u8 < 0.08 as is_late,
            -- seconds from acceptance to closing, by level; ~4 % slow
            case level
                -- level 1: the same day, unless slow
                when 1 then case when u9 < 0.04 then 86400 + u9 * 400000
                                 else least(600 + u9 * 9000, 0.97 * (86400 - epoch(
                                     accepted_at - date_trunc('day', accepted_at)))) end
                when 2 then case when u9 < 0.04 then 4 * 86400
                                 else (0.2 + u9 * 2.7) * 86400 end
                when 3 then case when u9 < 0.04 then 10 * 86400
                                 else (1 + u9 * 5) * 86400 end
                else (12 + u9 * 14) * 86400
            end as close_s,
        from accepted
    ),

    lifecycle as (
        select
            *,
            accepted_at + to_seconds(cast(
                -- a timely response comes before closing; a late one delays it
                case when is_late then 22000 + u5 * 10000
                     else least(300 + u5 * 18000, close_s * (0.2 + 0.6 * u5)) end
                as bigint)) as responded_at,
            case when is_late and u4 < 0.5
                then reported_at + to_seconds(cast(21600 + u4 * 1800 as bigint))
            end as escalated_at,
            case
                -- about 1 % of the last 90 days' tickets are stuck open
                when reported_at > timestamp '{now:%Y-%m-%d %H:%M:%S}' - interval 90 day
                    and u3 * 1000 % 1 < 0.01 then null
                else accepted_at + to_seconds(cast(close_s as bigint))
            end as closed_raw,
        from timed
    ),

    final as (
        select
            'T' || lpad(cast(i as varchar), 9, '0') as ticket_id,
            reported_at,
            accepted_at,
            responded_at,
            escalated_at,
            case when closed_raw <= timestamp '{now:%Y-%m-%d %H:%M:%S}'
                then greatest(closed_raw, responded_at + interval 5 minute)
            end as closed_at,
            cast(level as utinyint) as level,
            category,
            {_list_sql(names)}[c_idx + 1] as community,
            {_list_sql(names)}[c_idx + 1] || '第' || cast(h // 7 % 5 + 1 as varchar)
                || '网格' as grid,
            case when u1 < 0.25 then null
                else {_list_sql(compounds)}[
                    cast(h // 11 % {len(compounds)} as bigint) + 1]
            end as compound,
            source,
            handler,
            description_phrase,
            u8,
            h,
        from (
            select *,
                {_list_sql(phrases)}[cast(h // 13 % {len(phrases)} as bigint) + 1]
                    as description_phrase,
            from lifecycle
        )
    )

    select
        ticket_id,
        reported_at,
        accepted_at,
        case when responded_at <= timestamp '{now:%Y-%m-%d %H:%M:%S}'
            then responded_at end as responded_at,
        case when escalated_at <= timestamp '{now:%Y-%m-%d %H:%M:%S}'
            then escalated_at end as escalated_at,
        closed_at,
        level,
        category,
        community,
        grid,
        compound,
        source,
        handler,
        case when closed_at is not null and u8 * 10 % 1 < 0.6
            then case when h // 17 % 1000 < 976 then 'satisfied' else 'unsatisfied' end
        end as satisfaction,
        coalesce(compound, '龙塔大道') || cast(h // 19 % 18 + 1 as varchar) || '栋'
            || description_phrase
            -- 1 % carry a phone number, which the loader must mask
            || case when h // 23 % 100 = 0
                then '，联系电话138'
                    || lpad(cast(h // 29 % 100000000 as varchar), 8, '0')
                else '' end as description,
        greatest(reported_at, accepted_at, closed_at) as updated_at,
    from final
    """


def compound_names(n_tickets: int) -> list[str]:
    """Compound names: the demo's 30, then numbered ones for each added community."""
    names = [c for _, c in COMPOUNDS]
    extra = communities(n_tickets)[len(COMMUNITIES) :]
    return names + [f"{c}{k}号小区" for c in extra for k in (1, 2)]


# Rows per table outside the core migration: a share of the tickets, or per compound.
# ~1M residents and ~1M ledger entries at 10M tickets (issue 8).
PER_TICKET = {
    "residents": 0.1,
    "ledger_entries": 0.1,
    "ledger_postings": 0.1,
    "engagement": 0.05,
    "ballots": 0.03,
    "votes": 0.00004,
    "vote_results": 0.00004,
}
PER_COMPOUND = {
    "ledger_openings": 1,
    "ledger_monthly": 24,
    "ledger_publications": 23,
    "participation_monthly": 24,
}
PER_COMMUNITY = {"grids": 4}

# Values by column name (the schema's naming rules make these stable): SQL over `i`
# (the row number), `h` (a 62-bit hash of it) and `n` (the table's row count).
_ENUMS = {
    "direction": ["income", "expense"],
    "choice": ["yes", "yes", "yes", "no", "abstain"],
    "matter": ["ordinary", "ordinary", "major"],
    "state": ["passed", "failed", "open"],
    "kind": [
        "questionnaire",
        "opinion",
        "suggestion",
        "praise",
        "complaint",
        "volunteer",
        "registration",
    ],
    "sex": ["male", "female"],
    "residence": ["registered", "registered", "resident", "floating"],
    "category": list(CATEGORIES),
    "zone": list(ZONES),
}


def _column_sql(
    table: str,
    name: str,
    dtype: str,
    n_rows: dict[str, int],
    names: list[str],
    compounds: list[str],
) -> str:
    t = dtype.upper()
    if name == "community":
        return f"{_list_sql(names)}[cast(h % {len(names)} as bigint) + 1]"
    if name == "compound":
        return f"{_list_sql(compounds)}[cast(h % {len(compounds)} as bigint) + 1]"
    if name == "grid":
        return (
            f"{_list_sql(names)}[cast(h % {len(names)} as bigint) + 1] || '第' || "
            f"cast(h // 7 % 5 + 1 as varchar) || '网格'"
        )
    if name == "building":
        return "cast(h // 3 % 18 + 1 as varchar) || '栋'"
    if name in _ENUMS:
        values = _ENUMS[name]
        return f"{_list_sql(values)}[cast(h // 5 % {len(values)} as bigint) + 1]"
    if name == "vote_id":  # ballots and results refer to existing votes
        votes = max(1, n_rows.get("votes", 1))
        return f"'V' || lpad(cast(i % {votes} as varchar), 6, '0')"
    if name in ("person_id", "owner_id", "household_id"):
        width = {"household_id": 3}.get(name, 1)
        return f"md5(cast(i // {width} as varchar))[1:32]"
    if name.endswith("_id") and "VARCHAR" in t:
        return f"'{table[:1].upper()}' || lpad(cast(i as varchar), 9, '0')"
    if name == "month" and "VARCHAR" in t:
        return "strftime(current_date - to_months(cast(i % 24 as integer)), '%Y-%m')"
    if name == "month" or (name.endswith("_month") and t == "DATE"):
        return (
            "cast(date_trunc('month', current_date) - to_months(cast(i // "
            "greatest(1, n // 24) % 24 as integer)) as date)"
        )
    if name == "birth_year":
        return "cast(1925 + h % 100 as integer)"
    if name == "key_groups" and t.endswith("[]"):
        return "case when h % 20 = 0 then ['elderly_80'] else [] end::varchar[]"
    if t.startswith("DECIMAL"):
        precision, scale = (int(x) for x in t[8:-1].split(","))
        # rates 0..1, percentages 0..100, amounts up to 10,000 yuan
        whole = 0 if name.endswith("_rate") else 2 if name.endswith("_pct") else 4
        digits = min(precision, scale + whole)
        return f"cast((h % {10**digits}) / {10**scale}.0 as {dtype})"
    if t == "TIMESTAMP":
        if name == "closes_at":
            return (
                "current_timestamp::timestamp + to_days(cast(h % 60 as integer) - 45)"
            )
        if name == "opens_at":
            return (
                "current_timestamp::timestamp - to_days(cast(45 + h % 60 as integer))"
            )
        return "current_timestamp::timestamp - to_seconds(cast(h % 63072000 as bigint))"
    if t == "DATE":
        return "current_date - cast(h % 730 as integer)"
    if t == "BOOLEAN":
        return "h % 10 = 0"
    if t in (
        "TINYINT",
        "UTINYINT",
        "SMALLINT",
        "USMALLINT",
        "INTEGER",
        "UINTEGER",
        "BIGINT",
        "UBIGINT",
        "HUGEINT",
    ):
        if name in ("eligible_owners", "households", "households_served"):
            return f"cast(200 + h % 300 as {dtype})"
        return f"cast(h % 100 as {dtype})"
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return "(h % 10000) / 100.0"
    if t == "VARCHAR":
        return f"'{name}-' || cast(h % 50 as varchar)"
    return "null"


def _fill_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    n: int,
    n_rows: dict[str, int],
    names: list[str],
    compounds: list[str],
) -> None:
    """Fill `table` with `n` rows generated from its column names and types.

    Names follow the schema's conventions (`_id`, `_yuan`, `_at`, `_on`, `month`, ...),
    so a table added by a later migration gets plausible values without code here.
    A failure is logged and leaves the table empty; the run goes on.
    """
    cols = con.execute(
        "select column_name, data_type from duckdb_columns() where table_name = $t "
        "and database_name = current_database() order by column_index",
        {"t": table},
    ).fetchall()
    exprs = ", ".join(
        f"{_column_sql(table, c, d, n_rows, names, compounds)} as {warehouse_quote(c)}"
        for c, d in cols
    )
    try:
        con.execute(
            f"insert into {warehouse_quote(table)} select {exprs} from ("
            f"select i, {n} as n, "
            f"cast(hash(i, '{table}') % 4611686018427387904 as bigint)"
            f" as h from range({n}) as r(i))"
        )
    except duckdb.Error as e:
        logger.warning("could not fill %s: %s", table, str(e).splitlines()[0])


def warehouse_quote(identifier: str) -> str:
    """Double-quote an identifier from the catalogue."""
    return '"' + identifier.replace('"', '""') + '"'


CORE_TABLES = {
    "schema_version",
    "warehouse_meta",
    "load_log",
    "quarantine",
    "tickets",
    "dim_calendar",
    "sla_rule",
    "export_log",
}


def extra_table_rows(tables: list[str], n_tickets: int) -> dict[str, int]:
    """Rows to generate per non-core table (tables this harness does not know: none)."""
    n_comm, n_comp = len(communities(n_tickets)), len(compound_names(n_tickets))
    rows = {}
    for t in tables:
        if t in PER_TICKET:
            rows[t] = max(1, int(n_tickets * PER_TICKET[t]))
        elif t in PER_COMPOUND:
            rows[t] = n_comp * PER_COMPOUND[t]
        elif t in PER_COMMUNITY:
            rows[t] = n_comm * PER_COMMUNITY[t]
    return rows


def build_warehouse(path: Path, n: int, settings: Settings, now: dt.datetime) -> dict:
    """Create a warehouse of `n` tickets at `path` (replacing it); return what it did.

    Returns:
        {"tickets": n, "seconds": ..., "tables": {table: rows}, "skipped": [...],
        "warnings_seconds": time of `warnings_engine.refresh` (None without the table)}.
    """
    path = Path(path)
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(path))
    try:
        warehouse.migrate(con)
        con.execute("begin")
        con.execute(
            """insert into load_log values (1, 'tickets', 'benchmark-generated', null,
            $n, $n, 0, 0, 0, 0, $now, $now, 'ok', null, $now)""",
            {"n": n, "now": now},
        )
        # load 1 is taken: the next real load must get a new id, as loads' steps find
        # their own rows by it
        con.execute("select nextval('load_id_seq')")
        cols = (
            "ticket_id, reported_at, accepted_at, responded_at, escalated_at, "
            "closed_at, level, category, community, grid, compound, source, handler, "
            "satisfaction, description, updated_at"
        )
        # row_hash only tells the loader whether a stored row changed; any hash will do
        con.execute(
            f"insert into tickets ({cols}, row_hash, load_id) "
            f"select g.*, hash(g.ticket_id, g.closed_at), 1 "
            f"from ({ticket_select_sql(n, now)}) as g"
        )
        generated = time.perf_counter()
        first_year = (now - dt.timedelta(days=SPAN_DAYS)).year
        warnings = workdays.refresh_calendar(con, settings, first_year, now.year)
        deadlines = time.perf_counter()
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = current_database()"
            ).fetchall()
        ]
        n_rows = extra_table_rows(tables, n)
        skipped = [
            t
            for t in tables
            if t not in CORE_TABLES
            and t not in n_rows
            and t not in derived.SERVING_MARTS
        ]
        con.execute(
            "update warehouse_meta set data_version = 1, written_at = $now",
            {"now": now},
        )
        con.execute("commit")
        # one statement per table outside the transaction: a table that cannot be
        # filled stays empty without undoing the tickets
        for table, rows in n_rows.items():
            _fill_table(con, table, rows, n_rows, communities(n), compound_names(n))
        if set(derived.SERVING_MARTS) <= set(tables):
            derived.rebuild(con, derived.SERVING_MARTS)  # derived for real, as a load does
        marts = time.perf_counter()
        warnings_seconds = None
        if "warnings" in tables:
            # as a load ends (issue 15's "warnings after a load"), and so that the
            # warnings explorer's queries read real rows
            warnings_engine.refresh(con, settings, load_id=1, as_of=now)
            warnings_seconds = time.perf_counter() - marts
        con.execute("checkpoint")
        counts = {
            t: con.execute(f"select count(*) from {warehouse_quote(t)}").fetchone()[0]
            for t in tables
        }
    finally:
        con.close()
    return {
        "tickets": n,
        "seconds": time.perf_counter() - started,
        "generate_seconds": generated - started,
        "deadline_seconds": deadlines - generated,
        "warnings_seconds": warnings_seconds,
        "tables": counts,
        "skipped": skipped,
        "warnings": warnings,
        "file_bytes": path.stat().st_size,
    }


def write_ticket_csv(path: Path, n: int, now: dt.datetime) -> int:
    """Write `n` canonical tickets as a UTF-8 CSV (the data contract's columns)."""
    return _write_csv(duckdb.connect(), ticket_select_sql(n, now), path)


def write_recent_update_csv(warehouse_path: Path, path: Path, n: int) -> int:
    """Write the `n` newest tickets of a warehouse again as a center's regular update
    sends them (issue 18): each in its latest state, updated an hour after its last
    step, the open ones closed then. Returns the file's size."""
    names = [c.name for c in sources.SOURCES["tickets"].columns]
    step = "greatest(reported_at, accepted_at, responded_at, escalated_at, updated_at)"
    changed = {"closed_at": f"coalesce(closed_at, {step} + interval 1 hour)",
               "updated_at": f"{step} + interval 1 hour"}
    select = ", ".join(f"{changed[c]} as {c}" if c in changed else c for c in names)
    return _write_csv(duckdb.connect(str(warehouse_path), read_only=True),
                      f"select {select} from tickets order by reported_at desc, ticket_id "
                      f"limit {int(n)}", path)


def _write_csv(con: duckdb.DuckDBPyConnection, select: str, path: Path) -> int:
    """Copy the rows of `select` to `path` as the contract's CSV, close `con`; return the
    file's size."""
    try:
        con.execute(f"copy ({select}) to $path "
                    "(header, delimiter ',', timestampformat '%Y-%m-%d %H:%M:%S')",
                    {"path": str(path)})
    finally:
        con.close()
    return Path(path).stat().st_size
