-- Explorer, participation: each vote open at some moment of the period (opened on or
-- before its last day, closing on or after its first), with turnout and approval by
-- owners and by area. Tallies and the threshold tests (exact arithmetic, Civil Code
-- art. 278: turnout >= 2/3 by owners AND area; approval > 1/2, major >= 3/4) come from
-- vote_results; the state is judged at $now, so a vote that closed after the last load
-- reads passed or failed, not open. Percentages are the mart's (unrounded), as on the wall.
-- each compound's community: mart compound_community (the one rule)
with compounds as (
    select compound, community, from compound_community
),

votes as (
    select
        v.*,
        c.community,
        case
            when v.closes_at > $now then 'open'
            when v.meets_turnout and v.meets_approval then 'passed'
            else 'failed'
        end as state_now,
    from vote_results as v
    left join compounds as c on c.compound = v.compound
    where
        v.opens_at < $date_to + interval 1 day
        and v.closes_at >= $date_from
),

filtered as (
    select * from votes
    where
        ($communities is null or list_contains($communities, community))
        and ($compounds is null or list_contains($compounds, compound))
        and ($matters is null or list_contains($matters, matter))
        and ($states is null or list_contains($states, state_now))
),

final as (
    select
        vote_id,
        community,
        compound,
        title,
        matter,
        opens_at,
        closes_at,
        eligible_owners,
        voted_owners,
        yes_owners,
        no_owners,
        abstain_owners,
        eligible_area_m2,
        voted_area_m2,
        yes_area_m2,
        -- metrics turnout_owners_pct / approval_owners_pct: the mart's, as on the wall
        cast(turnout_owners_pct as double) as turnout_owners_pct,
        cast(turnout_area_pct as double) as turnout_area_pct,
        cast(approval_owners_pct as double) as approval_owners_pct,
        cast(approval_area_pct as double) as approval_area_pct,
        case when matter = 'major' then 75.0 else 50.0 end as approval_threshold_pct,
        meets_turnout,
        meets_approval,
        state_now as state,
    from filtered
)

select * from final
order by closes_at desc, vote_id
