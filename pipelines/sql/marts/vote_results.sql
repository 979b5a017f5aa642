-- depends on: votes, ballots
-- Each vote's tally and state under the Civil Code of the PRC, art. 278, as at $as_of.
-- Decisions use exact arithmetic (integers and decimal(38,2), cross-multiplied), never a
-- rounded percentage: 3 * voted >= 2 * eligible is "at least 2/3".
-- Turnout: owners taking part (abstentions count) >= 2/3 of all owners AND their area
-- >= 2/3 of all exclusive area. Approval among those taking part: ordinary matters
-- > 1/2 by owners AND by area; major matters >= 3/4 by owners AND by area.
-- While open, on_track projects turnout linearly from opens_at to closes_at:
-- projected = voted * (closes_at - opens_at) / (as_of - opens_at), for owners and area.
with

votes as (select * from votes),

ballots as (select * from ballots),

tallies as (
    select
        vote_id,
        count(*) as voted_owners,
        sum(area_m2) as voted_area_m2,
        count(*) filter (choice = 'yes') as yes_owners,
        coalesce(sum(area_m2) filter (choice = 'yes'), 0) as yes_area_m2,
        count(*) filter (choice = 'no') as no_owners,
        coalesce(sum(area_m2) filter (choice = 'no'), 0) as no_area_m2,
        count(*) filter (choice = 'abstain') as abstain_owners,
        coalesce(sum(area_m2) filter (choice = 'abstain'), 0) as abstain_area_m2,
    from ballots
    group by vote_id
),

joined as (
    select
        v.vote_id,
        v.compound,
        v.title,
        v.matter,
        v.opens_at,
        v.closes_at,
        v.eligible_owners,
        v.eligible_area_m2,
        coalesce(t.voted_owners, 0) as voted_owners,
        coalesce(t.voted_area_m2, 0) as voted_area_m2,
        coalesce(t.yes_owners, 0) as yes_owners,
        coalesce(t.yes_area_m2, 0) as yes_area_m2,
        coalesce(t.no_owners, 0) as no_owners,
        coalesce(t.no_area_m2, 0) as no_area_m2,
        coalesce(t.abstain_owners, 0) as abstain_owners,
        coalesce(t.abstain_area_m2, 0) as abstain_area_m2,
        -- whole seconds elapsed and in the window (integers: the projection stays exact)
        datediff('second', v.opens_at, least($as_of::timestamp, v.closes_at)) as elapsed_s,
        datediff('second', v.opens_at, v.closes_at) as window_s,
    from votes as v
    left join tallies as t on t.vote_id = v.vote_id
),

decided as (
    select
        *,
        3 * voted_owners >= 2 * eligible_owners
        and 3 * voted_area_m2 >= 2 * eligible_area_m2 as meets_turnout,
        voted_owners > 0 and case matter
            when 'major' then 4 * yes_owners >= 3 * voted_owners
                and 4 * yes_area_m2 >= 3 * voted_area_m2
            else 2 * yes_owners > voted_owners and 2 * yes_area_m2 > voted_area_m2
        end as meets_approval,
    from joined
),

final as (
    select
        vote_id,
        compound,
        title,
        matter,
        opens_at,
        closes_at,
        eligible_owners,
        eligible_area_m2,
        voted_owners,
        voted_area_m2,
        yes_owners,
        yes_area_m2,
        no_owners,
        no_area_m2,
        abstain_owners,
        abstain_area_m2,
        -- percentages for display, unrounded (migration 0017): a surface rounds once
        100.0 * voted_owners / nullif(eligible_owners, 0) as turnout_owners_pct,
        100.0 * cast(voted_area_m2 as double) / nullif(eligible_area_m2, 0)
            as turnout_area_pct,
        100.0 * yes_owners / nullif(voted_owners, 0) as approval_owners_pct,
        100.0 * cast(yes_area_m2 as double) / nullif(voted_area_m2, 0) as approval_area_pct,
        meets_turnout,
        meets_approval,
        case
            when closes_at > $as_of::timestamp then 'open'
            when meets_turnout and meets_approval then 'passed'
            else 'failed'
        end as state,
        case
            when closes_at <= $as_of::timestamp then null
            when meets_turnout then true
            -- not opened yet: nothing to project from
            when elapsed_s <= 0 then null
            else 3 * voted_owners * window_s >= 2 * eligible_owners * elapsed_s
                and 3 * voted_area_m2 * window_s >= 2 * eligible_area_m2 * elapsed_s
        end as on_track,
        case when closes_at > $as_of::timestamp and elapsed_s > 0 then
            100.0 * voted_owners * window_s / elapsed_s / nullif(eligible_owners, 0)
        end as projected_turnout_owners_pct,
        case when closes_at > $as_of::timestamp and elapsed_s > 0 then
            100.0 * cast(voted_area_m2 as double) * window_s / elapsed_s
                / nullif(eligible_area_m2, 0)
        end as projected_turnout_area_pct,
        $as_of::timestamp as as_of,
    from decided
)

select * from final
