-- Explorer: one ticket's lifecycle for its timeline (null when there is no such ticket).
select
    ticket_id,
    level,
    category,
    community,
    grid,
    compound,
    source,
    handler,
    satisfaction,
    description,
    reported_at,
    accepted_at,
    responded_at,
    escalated_at,
    closed_at,
    due_on,
    deadline_at,
    is_calendar_fallback,
from tickets
where ticket_id = $ticket_id
