-- level4_open and level3_unanswered: tickets of level $level open at $as_of (the metrics
-- layer's tickets_open_at, migration 0006) reported at least $hours hours before it
-- (exactly $hours fires) and, when $unanswered, with no response by then. One row per
-- ticket; observed: hours since the report.
select
    community,
    grid,
    category,
    compound,
    null::varchar as vote_id,
    null::varchar as source,
    ticket_id as subject,
    cast(round(date_diff('second', reported_at, $as_of::timestamp) / 3600, 2)
        as decimal(18, 2)) as observed,
    null::decimal(18, 2) as expected,
    cast(nullif($hours, 0) as decimal(18, 2)) as threshold,
    reported_at as window_from,
    $as_of::timestamp as window_to,
from tickets_open_at($as_of::timestamp)
where
    level = $level
    and reported_at <= $as_of::timestamp - to_seconds(cast($hours * 3600 as bigint))
    and (not $unanswered or open_at_asof(responded_at, $as_of::timestamp))
order by ticket_id
