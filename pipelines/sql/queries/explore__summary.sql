-- Explorer KPIs for three periods: the selected one ($cur_start..$cur_end), the previous
-- period of the same length and the same dates last year, like for like: each compared
-- period covers the same span as the selected one (which ends at the data cut-off while
-- it runs) and is judged at the same distance after its own end ($prev_as_of,
-- $ly_as_of; the selected one at $now), so an old period's closure and overdue are not
-- those of a settled one. Windows come from pipelines.metrics.windows.
-- Each period is its own range scan, so zone maps skip the months between them (at
-- 10M, "this month": 3 row groups, not 42); a ticket in two overlapping windows counts
-- in both (今年以来's previous period is last year's). Each period is also its own
-- ungrouped aggregate with its as-of a constant (one hash aggregate over the three
-- periods with a per-row as-of took about 10% more CPU, docs/benchmarks.md). The counts
-- are written once, in sql/fragments/explore_period_counts.sql; the filters, status
-- included, apply at each period's own as-of.
with current_tickets as (
    select *
    from tickets
    where in_window(reported_at, $cur_start, $cur_end)
        and /*filters_at($now)*/
),

previous_tickets as (
    select *
    from tickets
    where in_window(reported_at, $prev_start, $prev_end)
        and /*filters_at($prev_as_of)*/
),

last_year_tickets as (
    select *
    from tickets
    where in_window(reported_at, $ly_start, $ly_end)
        and /*filters_at($ly_as_of)*/
),

counted as (
    select 1 as period_order, /*period_counts_at($now)*/ from current_tickets
    union all
    select 2 as period_order, /*period_counts_at($prev_as_of)*/ from previous_tickets
    union all
    select 3 as period_order, /*period_counts_at($ly_as_of)*/ from last_year_tickets
),

periods as (
    select * from (
        values
            (1, 'current', $cur_start, $cur_end, $now),
            (2, 'previous', $prev_start, $prev_end, $prev_as_of),
            (3, 'last_year', $ly_start, $ly_end, $ly_as_of)
    ) as p (period_order, period, period_from, period_end, as_of)
),

final as (
    select
        periods.period,
        cast(periods.period_from as date) as period_from,
        cast(periods.period_end as date) as period_to,
        cast(periods.period_end as timestamp) as period_end,
        cast(periods.as_of as timestamp) as as_of,
        /*summary_figures*/
        round(median_close_hours, 1) as median_close_hours,
        periods.period_order,
    from periods
    left join counted on counted.period_order = periods.period_order
)

select * exclude (period_order) from final
order by period_order
