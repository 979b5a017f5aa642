-- Each compound with residents: the community most of them live in (a tie goes to the
-- first community by name, so the answer never depends on scan order as mode() does),
-- and its households (any member living there). Read by the participation and accounts
-- explorers.
with residents as (
    select * from residents where compound is not null
),

community_counts as (
    select compound, community, count(*) as resident_count,
    from residents
    group by all
),

home_community as (
    select
        compound,
        arg_max(community, (resident_count, -rank_name)) as community,
    from (
        select
            *,
            dense_rank() over (order by community) as rank_name,
        from community_counts
    )
    group by compound
),

households as (
    select compound, count(distinct household_id) as households,
    from residents
    group by compound
),

final as (
    select h.compound, c.community, h.households,
    from households as h
    inner join home_community as c on c.compound = h.compound
)

select * from final
