-- level3_unanswered: level-3 tickets with no response and not closed at $as_of, reported
-- at least $hours hours before it (exactly $hours fires). Observed: hours since the report.
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
    cast($hours as decimal(18, 2)) as threshold,
    reported_at as window_from,
    $as_of::timestamp as window_to,
from tickets
where
    level = 3
    and reported_at <= $as_of::timestamp - to_seconds(cast($hours * 3600 as bigint))
    and (responded_at is null or responded_at > $as_of)
    and (closed_at is null or closed_at > $as_of)
order by ticket_id
