-- Explorer, participation: per compound (with residents), its acts in the period by
-- exact dates (inclusive): votes open in the period, ballots cast, engagement events,
-- and distinct participating households (a ballot counts for its owner's household,
-- an engagement event for its household_id, else its person's household), with
-- is_silent = no ballot and no engagement event at all in the period ("never votes").
with residents_c as (
    select * from residents where compound is not null
),

compounds as (
    select
        compound,
        mode(community) as community,
        count(distinct household_id) as households,
    from residents_c
    group by compound
),

in_scope as (
    select * from compounds
    where
        ($communities is null or list_contains($communities, community))
        and ($compounds is null or list_contains($compounds, compound))
),

period_votes as (
    select compound, count(*) as votes_held,
    from votes
    where opens_at < $date_to + interval 1 day and closes_at >= $date_from
    group by compound
),

period_ballots as (
    select b.*, v.compound,
    from ballots as b
    inner join votes as v on v.vote_id = b.vote_id
    where b.cast_at >= $date_from and b.cast_at < $date_to + interval 1 day
),

period_engagement as (
    select *
    from engagement
    where occurred_at >= $date_from and occurred_at < $date_to + interval 1 day
),

acts as (
    select v.compound, r.household_id,
    from period_ballots as v
    left join residents_c as r on r.person_id = v.owner_id
    union all
    select e.compound, coalesce(e.household_id, r.household_id) as household_id,
    from period_engagement as e
    left join residents_c as r on r.person_id = e.person_id
),

household_home as (
    select household_id, any_value(compound order by updated_at desc nulls last)
        as compound,
    from residents_c
    group by household_id
),

participating as (
    select h.compound, count(distinct a.household_id) as participating_households,
    from acts as a
    inner join household_home as h on h.household_id = a.household_id
    group by h.compound
),

ballot_counts as (
    select compound, count(*) as ballots from period_ballots group by compound
),

engagement_counts as (
    select compound, count(*) as engagement_events from period_engagement
    group by compound
),

final as (
    select
        s.community,
        s.compound,
        s.households,
        coalesce(v.votes_held, 0) as votes_held,
        coalesce(b.ballots, 0) as ballots,
        coalesce(e.engagement_events, 0) as engagement_events,
        coalesce(p.participating_households, 0) as participating_households,
        round(100.0 * coalesce(p.participating_households, 0)
            / nullif(s.households, 0), 1) as participation_pct,
        coalesce(b.ballots, 0) = 0 and coalesce(e.engagement_events, 0) = 0
            as is_silent,
    from in_scope as s
    left join period_votes as v on v.compound = s.compound
    left join ballot_counts as b on b.compound = s.compound
    left join engagement_counts as e on e.compound = s.compound
    left join participating as p on p.compound = s.compound
)

select * from final
order by is_silent desc, participation_pct nulls first, community, compound
