-- depends on: tickets
-- Closed tickets per reported day, day of closure and hours to close rounded as the
-- summary shows them, at four grains of community, category and level (migration 0020):
-- the summary's median (explore__summary_mart.sql) reads the bucket its middle
-- ticket(s) fall in.
select
    grouping(community, category, level) as rollup,
    cast(reported_at as date) as reported_on,
    community,
    category,
    level,
    cast(closed_at as date) as closed_on,
    round(epoch(closed_at - reported_at) / 3600.0, 1) as close_hours,
    count(*) as ticket_count,
from tickets
where closed_at is not null
group by grouping sets (
    (reported_on, community, category, level, closed_on, close_hours),
    (reported_on, category, closed_on, close_hours),
    (reported_on, level, closed_on, close_hours),
    (reported_on, closed_on, close_hours)
)
order by rollup, reported_on
