-- population_summary: a snapshot of the residents table (the period is ignored): per
-- community and grid, residents, households and one column per key group ($key_groups,
-- the codes of WALL_KEY_GROUPS, written into /*key_groups*/ by queries/exports.py), then
-- a '合计' row per community and, unfiltered, a '合计' row for the whole sub-district.
-- Each household counts once, in the grid of its most recently updated member, so grid
-- counts add up to their community's and communities' to the sub-district's.
--
-- Suppression (k = $small_count), per column, since every column is its own additive
-- table (residents is not the sum of the key groups: a person may be in several or none):
--   1. small: every count from 1 to k-1, at any level, is written '<k';
--   2. communities: if exactly one community total of a column is hidden, the smallest
--      other non-zero community total is hidden too ('—'), so the sub-district total
--      cannot give it away;
--   3. grids: within a community whose total is shown, if exactly one grid cell is
--      hidden, the smallest other non-zero grid cell is hidden too; within a community
--      whose total is hidden, at least one grid cell is hidden, so the total cannot be
--      summed from its grids.
-- Zeros are shown. The pattern is computed over the whole sub-district before $community
-- is applied, so files for different communities never combine to reveal a cell.
-- Counts per grid come from population_counts (built from residents by every population
-- load, pipelines/derived.py): a few rows per grid instead of every resident.
with people_counts as (
    select community, grid, kind, code, person_count,
    from population_counts
    where kind in ('residence', 'key_group', 'households')
),

measures as (
    select unnest(['residents', 'households'] || $key_groups) as measure
),

counts as (
    select community, grid, 'residents' as measure,
        cast(sum(person_count) as bigint) as value,
    from people_counts
    where kind = 'residence'
    group by all
    union all
    select community, grid, 'households' as measure,
        cast(sum(person_count) as bigint) as value,
    from people_counts
    where kind = 'households'
    group by all
    union all
    select community, grid, code as measure, cast(sum(person_count) as bigint) as value,
    from people_counts
    where kind = 'key_group' and list_contains($key_groups, code)
    group by all
),

-- every grid with people (each person has one residence row)
grids as (
    select distinct community, grid from people_counts where kind = 'residence'
),

grid_cells as (
    select
        g.community,
        g.grid,
        m.measure,
        coalesce(c.value, 0) as value,
    from grids as g
    cross join measures as m
    left join counts as c
        on
            c.community = g.community
            and c.grid is not distinct from g.grid
            and c.measure = m.measure
),

community_cells as (
    select
        community,
        measure,
        sum(value) as value,
        sum(value) between 1 and $small_count - 1 as is_small,
    from grid_cells
    group by community, measure
),

-- step 2: one hidden community total in a column gets a complement
community_ranked as (
    select
        *,
        count(*) filter (where is_small) over (partition by measure) as small_in_column,
        row_number() over (
            partition by measure
            order by (is_small or value = 0), value, community
        ) as visible_rank,
    from community_cells
),

community_hidden as (
    select
        *,
        is_small or (
            small_in_column = 1 and visible_rank = 1 and value > 0 and not is_small
        ) as is_hidden,
    from community_ranked
),

-- step 3: grid cells within their community
grid_ranked as (
    select
        g.*,
        g.value between 1 and $small_count - 1 as is_small,
        c.is_hidden as is_total_hidden,
        count(*) filter (where g.value between 1 and $small_count - 1) over (
            partition by g.community, g.measure
        ) as small_in_community,
        row_number() over (
            partition by g.community, g.measure
            order by (g.value between 1 and $small_count - 1 or g.value = 0),
                g.value, g.grid nulls last
        ) as visible_rank,
    from grid_cells as g
    inner join community_hidden as c
        on c.community = g.community and c.measure = g.measure
),

grid_hidden as (
    select
        *,
        is_small or (
            visible_rank = 1 and value > 0 and not is_small and (
                (small_in_community = 1 and not is_total_hidden)
                or (small_in_community = 0 and is_total_hidden)
            )
        ) as is_hidden,
    from grid_ranked
),

sub_district as (
    select
        measure,
        sum(value) as value,
        sum(value) between 1 and $small_count - 1 as is_small,
    from grid_cells
    group by measure
),

cells as (
    select
        community, grid, measure, value, is_small, is_hidden,
        community as community_key, 0 as row_kind, grid as grid_key,
    from grid_hidden
    union all
    select
        community, '合计' as grid, measure, value, is_small, is_hidden,
        community as community_key, 1 as row_kind, null as grid_key,
    from community_hidden
    union all
    select
        '合计' as community, '合计' as grid, measure, value, is_small,
        is_small as is_hidden, null as community_key, 2 as row_kind, null as grid_key,
    from sub_district
    where $community is null
),

shown as (
    select
        community,
        grid,
        community_key,
        row_kind,
        grid_key,
        measure,
        case
            when is_small then '<' || $small_count
            when is_hidden then '—'
            else cast(value as varchar)
        end as cell,
    from cells
    where $community is null or community_key = $community
),

final as (
    pivot shown
    on measure in ('residents', 'households' /*key_groups*/)
    using first(cell)
    group by community, grid, community_key, row_kind, grid_key
)

select * exclude (community_key, row_kind, grid_key) from final
order by row_kind = 2, community_key, row_kind, grid_key nulls last
