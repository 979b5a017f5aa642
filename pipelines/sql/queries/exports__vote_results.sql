-- vote_results: every vote open at some moment of the period (dates inclusive): opened
-- on or before its last day and closing on or after its first, so votes closing in the
-- period and votes still open in it. Tallies come from vote_results (rebuilt by each
-- votes and ballots load); the state is taken at $as_of, so a vote that closed after the
-- last load is reported passed or failed, not open.
-- Rates are exact fractions rounded half up to 4 places (integers and cents, never a
-- DOUBLE): turnout = taking part / eligible, approval = yes / taking part (abstentions
-- take part); empty when the denominator is 0. Thresholds (Civil Code art. 278):
-- turnout >= 2/3 by owners and by area; approval > 1/2, or >= 3/4 for major matters.
with compounds as (
    select compound from compound_community where community = $community
),

votes as (
    select * from vote_results
    where
        opens_at < $date_to + interval 1 day
        and closes_at >= $date_from
        and ($compound is null or compound = $compound)
        and ($community is null or compound in (select compound from compounds))
),

counted as (
    select
        *,
        cast(eligible_area_m2 * 100 as hugeint) as eligible_area_cents,
        cast(voted_area_m2 * 100 as hugeint) as voted_area_cents,
        cast(yes_area_m2 * 100 as hugeint) as yes_area_cents,
    from votes
),

final as (
    select
        vote_id,
        compound,
        title,
        matter,
        cast(cast((voted_owners * 20000 // nullif(eligible_owners, 0) + 1) // 2
            as decimal(18, 0)) * 0.0001 as decimal(9, 4)) as turnout_owners,
        cast(cast((voted_area_cents * 20000 // nullif(eligible_area_cents, 0) + 1) // 2
            as decimal(18, 0)) * 0.0001 as decimal(9, 4)) as turnout_area,
        cast(cast((yes_owners * 20000 // nullif(voted_owners, 0) + 1) // 2
            as decimal(18, 0)) * 0.0001 as decimal(9, 4)) as approval_owners,
        cast(cast((yes_area_cents * 20000 // nullif(voted_area_cents, 0) + 1) // 2
            as decimal(18, 0)) * 0.0001 as decimal(9, 4)) as approval_area,
        case
            when closes_at > $as_of then 'open'
            when meets_turnout and meets_approval then 'passed'
            else 'failed'
        end as state,
        closes_at,
    from counted
)

select * exclude (closes_at) from final
order by compound, closes_at, vote_id
