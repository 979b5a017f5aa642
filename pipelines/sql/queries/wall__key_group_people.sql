-- Wall, population view: people in at least one key group (a person in two groups
-- counts once), suppressed when 1..k-1.
with people as (
    select key_groups
    from residents
    where
        ($community is null or community = $community)
        and len(coalesce(key_groups, [])) > 0
),

final as (
    select count(*) as people_count from people
)

select
    case when people_count between 1 and $k - 1 then null else people_count end
        as people_count,
    people_count between 1 and $k - 1 as is_suppressed,
from final
