-- Each compound with residents: the community most of them live in, and its households
-- (any member living there). Read by the participation and accounts explorers.
with residents as (
    select * from residents where compound is not null
),

final as (
    select
        compound,
        mode(community) as community,
        count(distinct household_id) as households,
    from residents
    group by compound
)

select * from final
