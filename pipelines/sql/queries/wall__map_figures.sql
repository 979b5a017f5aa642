-- Wall, map view: per community, the metrics layer's `open` and `overdue_open` at $as_of
-- (the macros of migration 0006) and its residents (population_cells()), so the
-- map and the levels and closure views show the same figures.
with places as (
    select community from grids
    union
    select community from geo_areas
),

open_now as (
    select
        community,
        count(*) as open_count,
        count(*) filter (where $as_of > deadline_at) as overdue_open_count,
        count(*) filter (where level >= 3) as serious_open_count,
    from tickets_open_at($as_of)
    group by community
),

people as (
    select
        community,
        cast(sum(value) as bigint) as residents,
    from population_cells()
    where measure = 'residents'
    group by community
),

final as (
    select
        p.community,
        coalesce(o.open_count, 0) as open_count,
        coalesce(o.overdue_open_count, 0) as overdue_open_count,
        coalesce(o.serious_open_count, 0) as serious_open_count,
        r.residents,
    from places as p
    left join open_now as o using (community)
    left join people as r using (community)
)

select * from final
order by community
