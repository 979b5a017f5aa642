-- Population figures have one definition: every surface counts from population_counts
-- (people per community and grid, before suppression). The wall's own mart
-- wall_population_cells (0005) is gone; its per-community measures are the macro
-- population_cells() over population_counts. Households count once, in the community
-- and grid of their most recently updated member, as in the explorer and the exports
-- (the wall counted a household in every community one of its members lived in).
drop table if exists wall_population_cells;

-- Rebuilt (warehouse.BACKFILL) to add kind 'key_group_people' (people in at least one key
-- group, counted once) and drop 'community_households' (the second household count).
drop table if exists population_counts;
create table population_counts (
    community varchar not null,
    grid varchar,
    kind varchar not null,   -- residence | birth_year | key_group | households | key_group_people
    code varchar,
    birth_year integer,
    person_count bigint not null
);

-- Per community (grid summed): residents, households, registered, non_registered
-- (residence not 'registered', null included), key_group_people and one 'kg:<code>' per
-- key group present anywhere, zeros included (a cell that would reveal a small one must
-- exist to be hidden). Suppression stays with each surface's query.
create or replace macro population_cells() as table
with counts as (
    select community, kind, code, person_count from population_counts
),

communities as (
    select distinct community from counts where kind = 'residence'
),

measures as (
    select
        community,
        case
            when kind = 'residence' then 'residents'
            else kind
        end as measure,
        person_count,
    from counts
    where kind in ('residence', 'households', 'key_group_people')
    union all
    select
        community,
        case when code = 'registered' then 'registered' else 'non_registered' end,
        person_count,
    from counts
    where kind = 'residence'
    union all
    select community, 'kg:' || code, person_count,
    from counts
    where kind = 'key_group'
),

cells as (
    select c.community, m.measure,
    from communities as c
    cross join (
        select unnest(['residents', 'households', 'registered', 'non_registered',
            'key_group_people']) as measure
        union
        select distinct 'kg:' || code from counts where kind = 'key_group'
    ) as m
)

select
    cells.community,
    cells.measure,
    cast(coalesce(sum(measures.person_count), 0) as bigint) as value,
from cells
left join measures
    on measures.community = cells.community and measures.measure = cells.measure
group by cells.community, cells.measure;
