-- Wall, closure view: tickets open at $now and past their deadline, the most overdue
-- first (the list someone must act on now); overdue_total counts all of them.
with overdue as (
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
        reported_at <= $now
        and closed_at is null
        and $now > deadline_at
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
        reported_at <= $now
        and closed_at > $now
        and $now > deadline_at
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
        cast(
            date_diff('minute', deadline_at, cast($now as timestamp)) as bigint
        ) as overdue_minutes,
        count(*) over () as overdue_total,
    from overdue
)

select * from final
order by deadline_at, level desc, ticket_id
limit $limit
