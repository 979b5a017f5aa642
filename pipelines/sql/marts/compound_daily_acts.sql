-- depends on: ballots, votes, engagement
-- Acts per compound and day: ballots (in known votes) by the vote's compound, engagement
-- events by the event's compound. Ordered by day so a period's zone maps skip the rest.
with ballot_days as (
    select v.compound, cast(b.cast_at as date) as acted_on, count(*) as ballots,
    from ballots as b
    inner join votes as v on v.vote_id = b.vote_id
    group by all
),

engagement_days as (
    select compound, cast(occurred_at as date) as acted_on, count(*) as engagement_events,
    from engagement
    group by all
),

final as (
    select
        compound,
        acted_on,
        coalesce(b.ballots, 0) as ballots,
        coalesce(e.engagement_events, 0) as engagement_events,
    from ballot_days as b
    full outer join engagement_days as e using (compound, acted_on)
)

select * from final
order by acted_on, compound
