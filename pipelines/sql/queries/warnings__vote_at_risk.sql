-- vote_at_risk: votes open at $as_of and closing within $days days (closing exactly
-- $days days later fires) whose turnout, by owners or by area, is below 2/3 (Civil Code
-- art. 278; vote_results.meets_turnout). Observed: the lower of the two turnouts.
select
    null::varchar as community,
    null::varchar as grid,
    null::varchar as category,
    compound,
    vote_id,
    null::varchar as source,
    coalesce(title, vote_id) as subject,
    cast(least(turnout_owners_pct, turnout_area_pct) as decimal(18, 2)) as observed,
    null::decimal(18, 2) as expected,
    66.67::decimal(18, 2) as threshold,
    opens_at as window_from,
    closes_at as window_to,
from vote_results
where
    opens_at <= $as_of
    and closes_at > $as_of
    and closes_at <= $as_of::timestamp + to_days($days)
    and not meets_turnout
order by compound, vote_id
