-- depends on: residents, compound_community
-- Each compound with residents: its community (compound_community, the one rule) and
-- its households (any member living there). Read by the participation explorer.
with households as (
    select compound, count(distinct household_id) as households,
    from residents
    where compound is not null
    group by compound
),

final as (
    select h.compound, c.community, h.households,
    from households as h
    left join compound_community as c on c.compound = h.compound
)

select * from final
