-- Wall, levels view: the newest reports up to $now for the scrolling ticker. The
-- description (phone and ID numbers masked by the loader, names not) is read only when
-- the center chose to show it ($with_description, WALL_TICKER_TEXT=description).
with newest as (
    select
        ticket_id,
        reported_at,
        community,
        grid,
        category,
        level,
        case when $with_description then description end as description,
    from tickets
    where
        reported_at <= $now
        and reported_at >= $since
        and ($community is null or community = $community)
)

select * from newest
order by reported_at desc, ticket_id desc
limit $limit
