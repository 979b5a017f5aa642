-- response_timeouts: per community, tickets reported in the 7 days up to $as_of whose
-- response was due by then (reported_at + $response_hours <= $as_of); late = no response
-- by the due time. Judged with at least $min_tickets due; fires above $pct percent.
with due as (
    select
        community,
        responded_at is null
        or responded_at > reported_at + to_hours($response_hours) as is_late,
    from tickets
    where
        reported_at > $as_of::timestamp - interval 7 day
        and reported_at + to_hours($response_hours) <= $as_of
),

counted as (
    select community, count(*) as due_count, count(*) filter (where is_late) as late_count,
    from due
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
    cast(round(late_count * 100 / due_count, 2) as decimal(18, 2)) as observed,
    null::decimal(18, 2) as expected,
    cast($pct as decimal(18, 2)) as threshold,
    $as_of::timestamp - interval 7 day as window_from,
    $as_of::timestamp as window_to,
from counted
where due_count >= $min_tickets and late_count * 100 > cast($pct as decimal(9, 4)) * due_count
order by community
