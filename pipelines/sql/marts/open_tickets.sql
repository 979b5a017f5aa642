-- depends on: tickets, open_tickets_since, ticket_deadlines
-- Every ticket not closed by the horizon (open_tickets_since), with the columns the
-- "open" figures read (migration 0019, macro tickets_open_at): those open now and those
-- closed since the horizon, about 43k of 10M. Two disjoint scans rather than one OR, so
-- zone maps skip the row groups without such tickets.
with chosen as (
    select *
    from tickets
    where closed_at is null
    union all
    select *
    from tickets
    where closed_at > (select horizon_at from open_tickets_since)
)

select
    ticket_id,
    reported_at,
    accepted_at,
    responded_at,
    escalated_at,
    closed_at,
    level,
    category,
    community,
    grid,
    compound,
    source,
    handler,
    satisfaction,
    due_on,
    deadline_at,
from chosen
