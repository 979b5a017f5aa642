-- Wall, participation view: votes open at $now with their turnout and approval against
-- the Civil Code art. 278 thresholds (turnout >= 2/3 of owners and of area; approval
-- > 1/2, or >= 3/4 for major matters), time left, and whether turnout is at risk
-- (vote_results.on_track is false: the linear projection stays under 2/3).
with compounds as (
    select compound from compound_community
    where $community is null or community = $community
),

open_votes as (
    select vr.*
    from vote_results as vr
    inner join compounds on compounds.compound = vr.compound
    where vr.opens_at <= $now and vr.closes_at > $now
),

final as (
    select
        vote_id,
        compound,
        title,
        matter,
        closes_at,
        cast(date_diff('minute', cast($now as timestamp), closes_at) as bigint)
            as minutes_left,
        cast(turnout_owners_pct as double) as turnout_owners_pct,
        cast(turnout_area_pct as double) as turnout_area_pct,
        cast(approval_owners_pct as double) as approval_owners_pct,
        cast(approval_area_pct as double) as approval_area_pct,
        cast(case when matter = 'major' then 75 else 50 end as double)
            as approval_threshold_pct,
        meets_turnout,
        meets_approval,
        coalesce(not on_track, not meets_turnout) as is_at_risk,
    from open_votes
)

select * from final
order by is_at_risk desc, closes_at, vote_id
limit $limit
