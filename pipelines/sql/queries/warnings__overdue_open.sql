-- overdue_open: per community, tickets open at $as_of whose deadline has passed
-- (deadline_at from the working-day calendar); fires above $count.
select
    community,
    null::varchar as grid,
    null::varchar as category,
    null::varchar as compound,
    null::varchar as vote_id,
    null::varchar as source,
    null::varchar as subject,
    count(*)::decimal(18, 2) as observed,
    null::decimal(18, 2) as expected,
    cast($count as decimal(18, 2)) as threshold,
    min(deadline_at) as window_from,
    $as_of::timestamp as window_to,
from tickets
where
    reported_at <= $as_of
    and (closed_at is null or closed_at > $as_of)
    and deadline_at < $as_of
group by community
having count(*) > $count
order by community
