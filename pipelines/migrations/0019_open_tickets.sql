-- "Open at now" from a small derived table instead of the whole tickets table. At 10M
-- tickets the 15k open ones are spread over six months of row groups, so every query
-- that wanted them read 2.5M rows (docs/benchmarks.md).
--
-- open_tickets (pipelines/sql/marts/open_tickets.sql) holds, with the columns the
-- "open" figures read, every ticket not closed by open_tickets_since.horizon_at: the
-- day before the newest report's day. A ticket open at any instant from the horizon on
-- is in it, so tickets_open_at(as_of) reads it for as_of >= horizon and the tickets
-- table for an earlier instant (a comparison a year back); both give the same rows.
-- Without a horizon (no tickets yet, or tables not rebuilt) it reads the tickets table.
-- Rebuilt after every tickets load (pipelines/derived.py); a new ticket column that an
-- "open" figure needs is added here, in the mart and in the macro below.
drop table if exists open_tickets_since;
create table open_tickets_since (
    horizon_at timestamp
);

drop table if exists open_tickets;
create table open_tickets (
    ticket_id varchar not null,
    reported_at timestamp not null,
    accepted_at timestamp,
    responded_at timestamp,
    escalated_at timestamp,
    closed_at timestamp,
    level utinyint not null,
    category varchar not null,
    community varchar not null,
    grid varchar,
    compound varchar,
    source varchar,
    handler varchar,
    satisfaction varchar,
    due_on date,
    deadline_at timestamp
);

-- Tickets open at `as_of` (reported by then, not closed by then); replaces 0006's
-- definition with the same rows and these columns. One branch runs: the horizon
-- decides, and DuckDB skips the scans of the branches whose condition is false.
create or replace macro tickets_open_at(as_of) as table
    select
        ticket_id, reported_at, accepted_at, responded_at, escalated_at, closed_at,
        level, category, community, grid, compound, source, handler, satisfaction,
        due_on, deadline_at,
    from open_tickets
    where
        reported_at <= as_of
        and open_at_asof(closed_at, as_of)
        and as_of >= (select horizon_at from open_tickets_since)
    union all
    -- before the horizon: two disjoint scans rather than one OR, so zone maps skip the
    -- row groups without open tickets
    select
        ticket_id, reported_at, accepted_at, responded_at, escalated_at, closed_at,
        level, category, community, grid, compound, source, handler, satisfaction,
        due_on, deadline_at,
    from tickets
    where
        closed_at is null
        and reported_at <= as_of
        and not coalesce(as_of >= (select horizon_at from open_tickets_since), false)
    union all
    select
        ticket_id, reported_at, accepted_at, responded_at, escalated_at, closed_at,
        level, category, community, grid, compound, source, handler, satisfaction,
        due_on, deadline_at,
    from tickets
    where
        closed_at > as_of
        and reported_at <= as_of
        and not coalesce(as_of >= (select horizon_at from open_tickets_since), false);
