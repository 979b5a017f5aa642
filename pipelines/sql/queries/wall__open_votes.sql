-- Wall, participation view: votes open at $now with their turnout and approval against
-- the Civil Code art. 278 thresholds (turnout >= 2/3 of owners and of area; approval
-- > 1/2, or >= 3/4 for major matters), time left, and whether turnout is at risk
-- at $now: turnout not yet met and its linear projection from opens_at to closes_at,
-- judged now (not when the ballots were loaded), stays under 2/3 of owners or of area.
with compounds as (
    select compound from compound_community
    where $community is null or community = $community
),

open_votes as (
    select
        vr.*,
        -- whole seconds (integers: the projection stays exact, as in vote_results)
        datediff('second', vr.opens_at, cast($now as timestamp)) as elapsed_s,
        datediff('second', vr.opens_at, vr.closes_at) as window_s,
    from vote_results as vr
    inner join compounds on compounds.compound = vr.compound
    where vr.opens_at <= $now and vr.closes_at > $now
),

projected as (
    select
        *,
        case
            when meets_turnout then true
            when elapsed_s <= 0 then null  -- just opened: nothing to project from
            else 3 * voted_owners * window_s >= 2 * eligible_owners * elapsed_s
                and 3 * voted_area_m2 * window_s >= 2 * eligible_area_m2 * elapsed_s
        end as on_track_now,
    from open_votes
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
        coalesce(not on_track_now, not meets_turnout) as is_at_risk,
    from projected
)

select * from final
order by is_at_risk desc, closes_at, vote_id
limit $limit
