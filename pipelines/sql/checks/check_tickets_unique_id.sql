-- severity: error
-- after loads of: tickets
-- scope: tickets.ticket_id
-- One row per ticket: the loader keeps the latest state of each ticket_id.
select ticket_id, count(*) as copies
from tickets
group by ticket_id
having count(*) > 1
