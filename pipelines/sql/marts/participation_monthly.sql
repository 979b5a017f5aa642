-- depends on: residents, ballots, votes, engagement
-- Household participation per compound per month.
-- participation_rate = households of the compound (from residents) with any ballot or
-- engagement event that month / households of the compound. A ballot counts for its
-- owner's household; an engagement event for its household_id, else for the household of
-- its person_id. Acts by households unknown to residents do not count (they cannot be in
-- the denominator either); ballots/questionnaires/opinions count every act by compound.
with

residents as (select * from residents where compound is not null),

households as (
    select
        household_id,
        any_value(compound order by updated_at desc nulls last) as compound,
    from residents
    group by household_id
),

compound_households as (
    select compound, count(*) as households from households group by compound
),

ballot_acts as (
    select
        r.household_id,
        date_trunc('month', b.cast_at)::date as month,
    from ballots as b
    inner join residents as r on r.person_id = b.owner_id
),

engagement_acts as (
    select
        coalesce(e.household_id, r.household_id) as household_id,
        date_trunc('month', e.occurred_at)::date as month,
    from engagement as e
    left join residents as r on r.person_id = e.person_id
),

participating as (
    select
        h.compound,
        a.month,
        count(distinct a.household_id) as participating_households,
    from (select * from ballot_acts union all select * from engagement_acts) as a
    inner join households as h on h.household_id = a.household_id
    group by all
),

ballot_counts as (
    select
        v.compound,
        date_trunc('month', b.cast_at)::date as month,
        count(*) as ballots,
    from ballots as b
    inner join votes as v on v.vote_id = b.vote_id
    group by all
),

engagement_counts as (
    select
        compound,
        date_trunc('month', occurred_at)::date as month,
        count(*) filter (kind = 'questionnaire') as questionnaires,
        count(*) filter (kind = 'opinion') as opinions,
        count(*) as engagement_events,
    from engagement
    group by all
),

span as (
    select min(month) as first_month, max(month) as last_month
    from (
        select month from participating
        union all select month from ballot_counts
        union all select month from engagement_counts
    )
),

months as (
    select unnest(generate_series(first_month, last_month, interval 1 month))::date as month
    from span
    where first_month is not null
),

final as (
    select
        c.compound,
        m.month,
        c.households,
        coalesce(p.participating_households, 0) as participating_households,
        round(coalesce(p.participating_households, 0) / c.households, 4)
            as participation_rate,
        coalesce(b.ballots, 0) as ballots,
        coalesce(e.questionnaires, 0) as questionnaires,
        coalesce(e.opinions, 0) as opinions,
        coalesce(e.engagement_events, 0) as engagement_events,
    from compound_households as c
    cross join months as m
    left join participating as p on p.compound = c.compound and p.month = m.month
    left join ballot_counts as b on b.compound = c.compound and b.month = m.month
    left join engagement_counts as e on e.compound = c.compound and e.month = m.month
)

select * from final
