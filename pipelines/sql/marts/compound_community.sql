-- depends on: compounds, residents
-- The one rule that places a compound in a community (docs/architecture.md,
-- "Dimensions"): the center's compounds table wins; else the community most of the
-- compound's residents live in, a tie to the first community by name (never scan order,
-- as mode() would). The grid: the declared one, else the commonest among the residents
-- of the compound in that community, ties by name.
with residents as (
    select compound, community, grid, from residents where compound is not null
),

declared as (
    select compound, community, grid, from compounds
),

by_residents as (
    select
        compound,
        arg_min(community, (-resident_count, community)) as community,
    from (select compound, community, count(*) as resident_count, from residents
          group by all)
    group by compound
),

placed as (
    select compound, community, grid, 'declared' as basis, from declared
    union all
    select b.compound, b.community, null, 'residents', from by_residents as b
    where b.compound not in (select compound from declared)
),

resident_grids as (
    select
        r.compound,
        arg_min(r.grid, (-r.grid_count, r.grid)) as grid,
    from (select compound, community, grid, count(*) as grid_count, from residents
          where grid is not null group by all) as r
    inner join placed as p on p.compound = r.compound and p.community = r.community
    group by r.compound
),

final as (
    select p.compound, p.community, coalesce(p.grid, g.grid) as grid, p.basis,
    from placed as p
    left join resident_grids as g on g.compound = p.compound
)

select * from final
order by compound
