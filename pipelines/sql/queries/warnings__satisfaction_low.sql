-- satisfaction_low: per community, tickets closed in the 30 days up to $as_of with a
-- rating; share rated 'satisfied'. Judged with at least $min_rated ratings; fires below
-- $pct percent.
with rated as (
    select community, satisfaction = 'satisfied' as is_satisfied,
    from tickets
    where
        closed_at > $as_of::timestamp - interval 30 day
        and closed_at <= $as_of
        and satisfaction is not null
),

counted as (
    select
        community,
        count(*) as rated_count,
        count(*) filter (where is_satisfied) as satisfied_count,
    from rated
    group by community
)

select
    community,
    null::varchar as grid,
    null::varchar as category,
    null::varchar as compound,
    null::varchar as vote_id,
    null::varchar as source,
    null::varchar as subject,
    cast(round(satisfied_count * 100 / rated_count, 2) as decimal(18, 2)) as observed,
    null::decimal(18, 2) as expected,
    cast($pct as decimal(18, 2)) as threshold,
    $as_of::timestamp - interval 30 day as window_from,
    $as_of::timestamp as window_to,
from counted
where
    rated_count >= $min_rated
    and satisfied_count * 100 < cast($pct as decimal(9, 4)) * rated_count
order by community
