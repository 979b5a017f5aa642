-- Explorer, participation: per compound (with residents), its acts in the period by
-- exact dates (inclusive): votes open in the period, ballots cast, engagement events,
-- and distinct participating households (a ballot counts for its owner's household,
-- an engagement event for its household_id, else its person's household), with
-- is_silent = no ballot and no engagement event at all in the period ("never votes").
-- Compounds, acts per day and households per day come from marts built by each load
-- (compound_residents, compound_daily_acts, household_acts; pipelines/derived.py); the
-- period is a range on their acted_on, so zone maps skip the other days.
with in_scope as (
    select compound, community, households,
    from compound_residents
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

period_acts as (
    select
        compound,
        sum(ballots) as ballots,
        sum(engagement_events) as engagement_events,
    from compound_daily_acts
    where acted_on >= $date_from and acted_on <= $date_to
    group by compound
),

participating as (
    select compound, count(distinct household_id) as participating_households,
    from household_acts
    where acted_on >= $date_from and acted_on <= $date_to
    group by compound
),

final as (
    select
        s.community,
        s.compound,
        s.households,
        coalesce(v.votes_held, 0) as votes_held,
        cast(coalesce(a.ballots, 0) as bigint) as ballots,
        cast(coalesce(a.engagement_events, 0) as bigint) as engagement_events,
        coalesce(p.participating_households, 0) as participating_households,
        rate_pct(coalesce(p.participating_households, 0), s.households)
            as participation_pct,
        coalesce(a.ballots, 0) = 0 and coalesce(a.engagement_events, 0) = 0
            as is_silent,
    from in_scope as s
    left join period_votes as v on v.compound = s.compound
    left join period_acts as a on a.compound = s.compound
    left join participating as p on p.compound = s.compound
)

select * from final
order by is_silent desc, participation_pct nulls first, community, compound
