-- Wall, levels view: the newest reports up to $now for the scrolling ticker. The
-- description was masked by the loader (phone numbers, ids), so it may be shown.
with newest as (
    select
        ticket_id,
        reported_at,
        community,
        category,
        level,
        description,
    from tickets
    where
        reported_at <= $now
        and reported_at >= $since
        and ($community is null or community = $community)
)

select * from newest
order by reported_at desc, ticket_id desc
limit $limit
