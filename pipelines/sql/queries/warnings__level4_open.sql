-- level4_open: every level-4 ticket reported by $as_of and not closed at $as_of.
select
    community,
    grid,
    category,
    compound,
    null::varchar as vote_id,
    null::varchar as source,
    ticket_id as subject,
    1::decimal(18, 2) as observed,
    null::decimal(18, 2) as expected,
    null::decimal(18, 2) as threshold,
    reported_at as window_from,
    $as_of::timestamp as window_to,
from tickets
where
    level = 4
    and reported_at <= $as_of
    and (closed_at is null or closed_at > $as_of)
order by ticket_id
