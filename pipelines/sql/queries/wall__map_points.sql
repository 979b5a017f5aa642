-- Wall, map view: open level-3 and level-4 events at $as_of, one point per compound and
-- level where the compound has a location on the map (geo_points).
with serious as (
    select
        compound,
        community,
        level,
    from tickets_open_at($as_of)
    where level >= 3 and compound is not null
),

final as (
    select
        s.compound,
        s.community,
        s.level,
        count(*) as event_count,
        any_value(g.lon) as lon,
        any_value(g.lat) as lat,
    from serious as s
    inner join geo_points as g using (compound)
    group by s.compound, s.community, s.level
)

select * from final
order by level, compound
