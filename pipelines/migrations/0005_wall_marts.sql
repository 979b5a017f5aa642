-- Derived tables that keep the wall's closure and population views under 100 ms at
-- 10 million tickets and a million residents (docs/benchmarks.md, "Wall tuning after the
-- first run"). Rebuilt by pipelines/derived.py inside the load that changed their
-- inputs (pipelines/derived.py); a warehouse migrated to this version fills them at once.
-- Names start with wall_ so they never collide with the explorer's marts (0004).

-- Derived (tickets): per month of report and community, the closure counts as they stand
-- once every ticket of the month is settled, i.e. judged at any instant after
-- settled_after (the month's latest report, closure, or deadline of a still-open ticket).
-- The wall reads a month from here only when its clock is past settled_after, and counts
-- newer months from tickets, so the figures never depend on when the load ran.
create table wall_closure_monthly (
    month date not null,                  -- first day of the month of report
    community varchar not null,
    reported_count bigint not null,
    closed_count bigint not null,         -- closed_at set
    on_time_count bigint not null,        -- closed by deadline_at
    overdue_count bigint not null,        -- still open, deadline_at set (and passed)
    settled_after timestamp not null      -- the month's, same on each of its rows
);

-- Derived (population): people per community, before suppression (which stays in
-- sql/queries/wall__population.sql). Measures: residents, households (with any member in
-- the community), registered, non_registered (residence not 'registered', null
-- included), one 'kg:<code>' per key group present anywhere (zeros included), and
-- key_group_people (people in at least one key group, counted once).
create table wall_population_cells (
    community varchar not null,
    measure varchar not null,
    value bigint not null
);
