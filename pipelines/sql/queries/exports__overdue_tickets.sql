-- overdue_tickets: tickets reported in the period (dates inclusive) that are still open
-- at $as_of and past their deadline (open and $as_of > deadline_at). Tickets without a
-- deadline (dates outside dim_calendar) cannot be judged and are left out.
-- days_overdue counts calendar days after the due date: 1 on the day after it.
with tickets as (
    select * from tickets
    where
        reported_at >= $date_from
        and reported_at < $date_to + interval 1 day
        and ($community is null or community = $community)
        and ($compound is null or compound = $compound)
),

overdue as (
    select * from tickets
    where overdue_at_asof(closed_at, deadline_at, $as_of)  -- metric layer macro (0006)
),

final as (
    select
        ticket_id,
        community,
        grid,
        category,
        level,
        reported_at,
        due_on as deadline,
        date_diff('day', due_on, cast($as_of as date)) as days_overdue,
    from overdue
)

select * from final
order by days_overdue desc, community, ticket_id
