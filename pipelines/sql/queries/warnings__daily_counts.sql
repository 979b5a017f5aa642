-- Anomaly input: tickets reported per day from $day_from up to the data cut-off $cutoff,
-- per community x grid x category (grid null: tickets without one): one row per cell, its
-- days as offsets from $day_from with their counts, in no particular order (days with no
-- ticket are absent: the detector counts them as 0; a list ordered by day cost a third of
-- the query at 10M). The community x category cells are these rows summed
-- (warnings_engine._cells): counted here as well, with grouping sets, the lists cost
-- twice as much (0.14 s against 0.075 s at 10M). One grouped scan of the window's row
-- groups, never the rows; cells in a fixed order, so the same data gives the same
-- warnings.
with daily as (
    select
        community,
        grid,
        category,
        date_diff('day', $day_from::date, reported_at::date) as day_index,
        count(*) as reported,
    from tickets
    where reported_at >= $day_from and reported_at <= $cutoff
    group by community, grid, category, reported_at::date
)

select
    community,
    grid,
    category,
    list({'day_index': day_index, 'reported': reported}) as days,
from daily
group by community, grid, category
order by community, grid, category
