-- depends on: residents, key_groups
-- People per community and grid (migrations 0004 and 0018 describe the kinds): the one
-- source of population figures, behind explore__population.sql,
-- exports__population_summary.sql and, through the macro population_cells(), the wall
-- and the metrics layer, whose suppression rules then work on a few thousand rows
-- instead of every resident.
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
    select community, grid, 'key_group_people', null, null, count(*),
    from people
    where len(coalesce(key_groups, [])) > 0
    group by all
)

select * from final
order by kind, community, grid
