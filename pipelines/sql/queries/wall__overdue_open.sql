-- Wall, closure view: tickets open at $now and past their deadline (metric overdue_open,
-- any report date: the wall's only "超期"), the most recently overdue first (what
-- became overdue today is on top, not a level-1 ticket 89 days past its limit);
-- overdue_total counts all of them, overdue_l1..l4 per level.
-- The count and the first $limit rows are two reads of `overdue` (not materialized):
-- the count carries one column, and the top-N alone lets DuckDB skip row groups whose
-- deadlines are all earlier than its current last row (a dynamic filter), which a window
-- count over every overdue row with all its columns prevents.
with overdue as not materialized (
    select
        ticket_id,
        reported_at,
        level,
        community,
        category,
        deadline_at,
    from tickets_open_at($now)
    where
        $now > deadline_at
        and ($community is null or community = $community)
),

overdue_count as (
    select
        count(*) as overdue_total,
        count(*) filter (where level = 1) as overdue_l1,
        count(*) filter (where level = 2) as overdue_l2,
        count(*) filter (where level = 3) as overdue_l3,
        count(*) filter (where level = 4) as overdue_l4,
    from overdue
),

most_overdue as (
    select *
    from overdue
    order by deadline_at desc, level desc, ticket_id
    limit $limit
),

final as (
    select
        most_overdue.ticket_id,
        most_overdue.reported_at,
        most_overdue.level,
        most_overdue.community,
        most_overdue.category,
        most_overdue.deadline_at,
        cast(
            date_diff('minute', most_overdue.deadline_at, cast($now as timestamp))
            as bigint
        ) as overdue_minutes,
        overdue_count.*,
    from most_overdue
    cross join overdue_count
)

select * from final
order by deadline_at desc, level desc, ticket_id
