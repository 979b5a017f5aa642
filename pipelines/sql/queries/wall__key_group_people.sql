-- Wall, population view: people in at least one key group (a person in two groups
-- counts once), suppressed when 1..k-1. Per community from population_cells().
with final as (
    select cast(coalesce(sum(value), 0) as bigint) as people_count
    from population_cells()
    where
        measure = 'key_group_people'
        and ($community is null or community = $community)
)

select
    case when people_count between 1 and $k - 1 then null else people_count end
        as people_count,
    people_count between 1 and $k - 1 as is_suppressed,
from final
