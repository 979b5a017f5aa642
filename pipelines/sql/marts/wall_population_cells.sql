-- depends on: residents, key_groups
-- People per community before suppression (see migration 0005); the wall's population
-- view suppresses small counts over these few rows instead of every resident.
with people as (
    select
        community,
        household_id,
        residence,
        key_groups,
    from residents
),

communities as (
    select distinct community from people
),

groups as (
    select distinct unnest(key_groups) as code
    from people
),

base as (
    select
        community,
        count(*) as residents,
        count(distinct household_id) as households,
        count(*) filter (where residence = 'registered') as registered,
        count(*) filter (where residence is distinct from 'registered') as non_registered,
        count(*) filter (where len(coalesce(key_groups, [])) > 0) as key_group_people,
    from people
    group by community
),

base_cells as (
    unpivot base
    on residents, households, registered, non_registered, key_group_people
    into name measure value value
),

group_counts as (
    select
        community,
        unnest(key_groups) as code,
    from people
),

group_cells as (
    select
        communities.community,
        'kg:' || groups.code as measure,
        count(group_counts.code) as value,
    from communities
    cross join groups
    left join group_counts
        on group_counts.community = communities.community
        and group_counts.code = groups.code
    group by communities.community, groups.code
),

final as (
    select community, measure, cast(value as bigint) as value from base_cells
    union all
    select community, measure, cast(value as bigint) as value from group_cells
)

select * from final
