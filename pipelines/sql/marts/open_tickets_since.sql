-- depends on: tickets
-- The horizon of open_tickets (migration 0019): the start of the day before the newest
-- report's day, so that the wall at its data cut-off, the alarm strip an hour earlier
-- and the explorer at the clock all read open_tickets. NULL without tickets.
select date_trunc('day', max(reported_at)) - interval 1 day as horizon_at,
from tickets
