-- Wall, top bar: years whose working days fell back to Monday-Friday because the
-- official calendar does not know them (deadlines in them may be wrong).
select distinct cast(year(day) as integer) as calendar_year
from dim_calendar
where not is_official
order by calendar_year
