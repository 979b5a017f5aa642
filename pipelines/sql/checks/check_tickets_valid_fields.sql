-- severity: error
-- after loads of: tickets
-- scope: tickets.ticket_id
-- What the loader quarantines must never be in tickets: levels outside 1-4, times before
-- the report, and a missing deadline (every loaded ticket's deadline is computed).
select ticket_id, level, reported_at, accepted_at, responded_at, escalated_at, closed_at,
    due_on, deadline_at
from tickets
where level not between 1 and 4
    or accepted_at < reported_at
    or responded_at < reported_at
    or escalated_at < reported_at
    or closed_at < reported_at
    or due_on is null
    or deadline_at <> due_on + interval 1 day - interval 1 microsecond
