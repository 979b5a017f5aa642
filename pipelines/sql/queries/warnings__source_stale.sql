-- source_stale: per configured source, hours from its newest record to $as_of; fires
-- above the source's limit. Newest record: tickets max(updated_at, reported_at); ledger
-- the end of its latest booking day; population, ballots, engagement their timestamps.
with newest as (
    select 'tickets' as source, max(coalesce(updated_at, reported_at)) as newest_at
    from tickets
    union all
    select 'ledger', max(booked_on)::timestamp + interval 1 day from ledger_entries
    union all
    select 'population', max(updated_at) from residents
    union all
    select 'ballots', max(cast_at) from ballots
    union all
    select 'engagement', max(occurred_at) from engagement
),

limits as (
    select unnest($sources::varchar[]) as source, unnest($hours::double[]) as hours
),

aged as (
    select
        n.source,
        n.newest_at,
        l.hours,
        date_diff('second', n.newest_at, $as_of::timestamp) / 3600 as age_hours,
    from newest as n
    inner join limits as l on l.source = n.source
    where n.newest_at is not null
)

select
    null::varchar as community,
    null::varchar as grid,
    null::varchar as category,
    null::varchar as compound,
    null::varchar as vote_id,
    source,
    null::varchar as subject,
    cast(round(age_hours, 2) as decimal(18, 2)) as observed,
    null::decimal(18, 2) as expected,
    cast(hours as decimal(18, 2)) as threshold,
    newest_at as window_from,
    $as_of::timestamp as window_to,
from aged
where age_hours > hours
order by source
