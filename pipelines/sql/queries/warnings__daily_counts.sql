-- Anomaly input: tickets reported per day from $day_from up to the data cut-off $cutoff,
-- per community x category and per community x grid x category (is_grid). Days with no
-- ticket are absent (the detector counts them as 0). One grouped scan, never the rows.
select
    community,
    case when grouping(grid) = 0 then grid end as grid,
    category,
    grouping(grid) = 0 as is_grid,
    reported_at::date as day,
    count(*) as reported,
from tickets
where reported_at >= $day_from and reported_at <= $cutoff
group by grouping sets (
    (community, category, reported_at::date),
    (community, grid, category, reported_at::date)
)
having grouping(grid) = 1 or grid is not null
order by community, category, grid nulls first, day
