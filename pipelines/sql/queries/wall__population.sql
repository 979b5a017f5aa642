-- Wall, population view: counts of people per community, with small counts suppressed
-- here (never in view code). One row per (community, measure) plus the totals
-- (community null). Measures: residents, households, registered, non_registered and
-- one 'kg:<code>' per key group.
--
-- Suppression, k = $k:
--   small      a count from 1 to k-1 (value returned as null; shown as "<k");
--   complement a cell hidden so that a small one cannot be worked out:
--     * registered + non_registered = residents, so if either is small both are hidden;
--     * a total is shown per measure, so if a measure has exactly one hidden community
--       cell, its smallest other non-zero cell is hidden too.
--   Totals that are themselves small are suppressed as well.
-- The counts come from population_cells() (pipelines/sql/marts/), rebuilt with each
-- population load: a few rows per community instead of every resident.
with cells as (
    select
        community,
        measure,
        value,
    from population_cells()
    where
        measure <> 'key_group_people'
        and ($community is null or community = $community)
),

primary_flag as (
    select
        *,
        value between 1 and $k - 1 as is_small,
    from cells
),

-- registered / non_registered: hide both when either is small
pair_flag as (
    select
        *,
        is_small or (
            measure in ('registered', 'non_registered')
            and bool_or(is_small) filter (
                where measure in ('registered', 'non_registered')
            ) over (partition by community)
        ) as is_hidden,
    from primary_flag
),

-- a measure with exactly one hidden cell: hide its smallest other non-zero cell
column_flag as (
    select
        *,
        count(*) filter (where is_hidden) over (partition by measure) as hidden_in_measure,
        row_number() over (
            partition by measure
            order by (is_hidden or value = 0), value, community
        ) as visible_rank,
    from pair_flag
),

community_cells as (
    select
        community,
        measure,
        case
            when is_small then 'small'
            when is_hidden then 'complement'
            when hidden_in_measure = 1 and visible_rank = 1 and value > 0
                then 'complement'
        end as suppressed,
        value,
    from column_flag
),

totals as (
    select
        null as community,
        measure,
        case when sum(value) between 1 and $k - 1 then 'small' end as suppressed,
        sum(value) as value,
    from cells
    group by measure
),

final as (
    select
        community,
        measure,
        suppressed,
        case when suppressed is null then value end as value,
    from community_cells
    union all
    select
        community,
        measure,
        suppressed,
        case when suppressed is null then cast(value as bigint) end as value,
    from totals
)

select * from final
order by community nulls first, measure
