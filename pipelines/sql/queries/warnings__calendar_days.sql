-- The working-day calendar for the anomaly window: working day (make-up Saturdays
-- included), and whether a day off is a public holiday (note names it) or a weekend.
select day, is_workday, coalesce(note, '') as note,
from dim_calendar
where day between $day_from and $day_to
order by day
