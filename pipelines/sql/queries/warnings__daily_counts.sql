-- Anomaly input: tickets reported per day from $day_from up to the data cut-off $cutoff,
-- per community x category and per community x grid x category (is_grid): one row per
-- cell, its days as offsets from $day_from with their counts, in no particular order
-- (days with no ticket are absent: the detector counts them as 0; a list ordered by day
-- cost a third of the query at 10M). One grouped scan of the window's row groups, never
-- the rows; cells in a fixed order, so the same data gives the same warnings.
with daily as (
    select
        community,
        case when grouping(grid) = 0 then grid end as grid,
        category,
        grouping(grid) = 0 as is_grid,
        date_diff('day', $day_from::date, reported_at::date) as day_index,
        count(*) as reported,
    from tickets
    where reported_at >= $day_from and reported_at <= $cutoff
    group by grouping sets (
        (community, category, reported_at::date),
        (community, grid, category, reported_at::date)
    )
    having grouping(grid) = 1 or grid is not null
)

select
    is_grid,
    community,
    coalesce(grid, '') as grid,
    category,
    list({'day_index': day_index, 'reported': reported}) as days,
from daily
group by is_grid, community, grid, category
order by is_grid, community, grid, category
