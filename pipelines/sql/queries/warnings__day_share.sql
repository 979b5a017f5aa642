-- Share of the baseline days' reports made by the cut-off's time of day: how much of a
-- normal day the cut-off day has seen (1 when the cut-off is the day's end).
select
    count(*) as reports,
    count(*) filter (where reported_at::time <= $cutoff::time) as reports_by_then,
from tickets
where reported_at >= $day_from and reported_at < $cutoff::date
