-- Wall, levels view: open level-3 and level-4 events at $now, newest report first (as
-- captioned: today's new events are on top whatever their level; the level is on each
-- row); serious_count is the number of such events before the limit.
with serious as (
    -- open = not closed yet, or closed after $now: two disjoint scans rather than one
    -- OR, so zone maps skip the row groups without open tickets
    select
        ticket_id,
        reported_at,
        level,
        community,
        category,
        deadline_at,
    from tickets
    where
        level >= 3
        and reported_at <= $now
        and closed_at is null
        and ($community is null or community = $community)
    union all
    select
        ticket_id,
        reported_at,
        level,
        community,
        category,
        deadline_at,
    from tickets
    where
        level >= 3
        and reported_at <= $now
        and closed_at > $now
        and ($community is null or community = $community)
),

final as (
    select
        ticket_id,
        reported_at,
        level,
        community,
        category,
        deadline_at,
        coalesce($now > deadline_at, false) as is_overdue,
        count(*) over () as serious_count,
    from serious
)

select * from final
order by reported_at desc, level desc, ticket_id
limit $limit
