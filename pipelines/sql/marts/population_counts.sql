-- depends on: residents, key_groups
-- People per community and grid (migration 0004 describes the kinds): the counts behind
-- explore__population.sql and exports__population_summary.sql, whose suppression rules
-- then work on a few thousand rows instead of every resident.
with people as (
    select
        person_id, household_id, community, grid, residence, birth_year, key_groups,
        updated_at,
    from residents
),

households as (
    select
        household_id,
        any_value({'community': community, 'grid': grid}
            order by updated_at desc nulls last, person_id) as home,
    from people
    group by household_id
),

final as (
    select
        community, grid, 'residence' as kind, residence as code,
        cast(null as integer) as birth_year, count(*) as person_count,
    from people
    group by all
    union all
    select community, grid, 'birth_year', null, birth_year, count(*),
    from people
    group by all
    union all
    select community, grid, 'key_group', code, null, count(*),
    from (select community, grid, unnest(key_groups) as code from people)
    group by all
    union all
    select home.community, home.grid, 'households', null, null, count(*),
    from households
    group by all
    union all
    select community, null, 'community_households', null, null,
        count(distinct household_id),
    from people
    group by community
)

select * from final
order by kind, community, grid
