-- depends on: tickets, ticket_deadlines
-- The explorer summary's counts per reported day, day of closure and day of the
-- deadline, at four grains of category and level (migrations 0020, 0022; read by
-- explore__summary_mart.sql and explore__trend_mart.sql).
select
    grouping(category, level) as rollup,
    cast(reported_at as date) as reported_on,
    category,
    level,
    cast(closed_at as date) as closed_on,
    cast(deadline_at as date) as deadline_on,
    count(*) as reported_count,
    count(*) filter (where closed_at <= deadline_at) as on_time_count,
    count(satisfaction) as rated_count,
    count(*) filter (where satisfaction = 'satisfied') as satisfied_count,
from tickets
group by grouping sets (
    (reported_on, category, level, closed_on, deadline_on),
    (reported_on, category, closed_on, deadline_on),
    (reported_on, level, closed_on, deadline_on),
    (reported_on, closed_on, deadline_on)
)
order by rollup, reported_on
