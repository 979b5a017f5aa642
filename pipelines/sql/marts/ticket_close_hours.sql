-- depends on: tickets
-- Closed tickets per reported day, category, level, day of closure and hours to close
-- rounded as the summary shows them (migrations 0020, 0022): the summary's median
-- (explore__summary_mart.sql) reads the bucket its middle ticket(s) fall in. One grain:
-- these rows are nearly as many per category or level as per both, so rollups would
-- cost a load more than they save a summary (docs/explorer.md).
select
    cast(reported_at as date) as reported_on,
    category,
    level,
    cast(closed_at as date) as closed_on,
    round(epoch(closed_at - reported_at) / 3600.0, 1) as close_hours,
    count(*) as ticket_count,
from tickets
where closed_at is not null
group by all
order by reported_on
