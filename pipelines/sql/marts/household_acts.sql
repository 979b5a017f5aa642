-- depends on: residents, ballots, votes, engagement
-- Each day a household took part, under its home compound (explore__participation_
-- compounds.sql counts distinct households over any range of days from this). A ballot
-- counts for its owner's household (ballots of unknown votes do not count at all), an
-- engagement event for its household_id, else its person's household; households
-- unknown to residents count for no compound. Ordered by day so a period's zone maps
-- skip the rest.
with residents as (
    select * from residents where compound is not null
),

household_home as (
    select household_id, any_value(compound order by updated_at desc nulls last)
        as compound,
    from residents
    group by household_id
),

acts as (
    select cast(b.cast_at as date) as acted_on, r.household_id,
    from ballots as b
    inner join votes as v on v.vote_id = b.vote_id
    left join residents as r on r.person_id = b.owner_id
    union all
    select
        cast(e.occurred_at as date) as acted_on,
        coalesce(e.household_id, r.household_id) as household_id,
    from engagement as e
    left join residents as r on r.person_id = e.person_id
),

final as (
    select distinct a.acted_on, h.compound, a.household_id,
    from acts as a
    inner join household_home as h on h.household_id = a.household_id
)

select * from final
order by acted_on, compound
