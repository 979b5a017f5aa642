-- Derived tables that let the explorer and the population export answer at 10 million
-- tickets without scanning tickets or residents per call (docs/benchmarks.md). Rebuilt by
-- pipelines/derived.py inside the load that changed their inputs;
-- a warehouse migrated to this version fills them at once (warehouse.BACKFILL).

-- Derived (tickets): every value each explorer filter offers, with its ticket count.
create table ticket_dimension_values (
    dimension varchar not null,           -- community | grid | compound | category | ...
    value varchar not null,
    ticket_count bigint not null
);

-- Derived (population): each compound with residents, the community most of them live
-- in (ties: the first by name) and its households (any member living there).
create table compound_residents (
    compound varchar not null,
    community varchar,
    households bigint not null
);

-- Derived (population, votes, ballots, engagement): each day a household took part
-- (a ballot in a known vote, or an engagement event), under its home compound (that of
-- its most recently updated member). One row per (day, compound, household).
create table household_acts (
    acted_on date not null,
    compound varchar not null,
    household_id varchar not null
);

-- Derived (votes, ballots, engagement): acts per compound and day: ballots by the vote's
-- compound, engagement events by the event's compound.
create table compound_daily_acts (
    compound varchar not null,
    acted_on date not null,
    ballots bigint not null,
    engagement_events bigint not null
);

-- Derived (population): people per community and grid (grid as loaded, may be null):
--   kind 'residence'   one row per residence value (code), null included: residents;
--   kind 'birth_year'  one row per birth_year (null included): age bands at any year;
--   kind 'key_group'   one row per canonical key group code (code);
--   kind 'households'  households counted once, in the grid of their most recently
--                      updated member (person_id breaks ties);
--   kind 'community_households'  households with any member in the community (grid null).
create table population_counts (
    community varchar not null,
    grid varchar,
    kind varchar not null,
    code varchar,
    birth_year integer,
    person_count bigint not null
);
