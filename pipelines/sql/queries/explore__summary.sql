-- Explorer KPIs for three periods in one scan: the selected one ($date_from..$date_to,
-- dates inclusive), the previous period of the same length, and the same dates last year.
-- Judged at $now (macros of migration 0006, the metric layer's definitions): closure rate = closed / reported; on-time rate = closed by deadline_at
-- / (closed + open past deadline_at), the wall's definition; satisfaction = satisfied /
-- rated; hours to close = closed_at - reported_at, closed tickets only.
with tickets_in_periods as (
    select
        case
            when reported_at >= $date_from and reported_at < $date_to + interval 1 day
                then 'current'
            when reported_at >= $prev_from and reported_at < $prev_to + interval 1 day
                then 'previous'
            when reported_at >= $ly_from and reported_at < $ly_to + interval 1 day
                then 'last_year'
        end as period,
        reported_at,
        closed_at,
        deadline_at,
        satisfaction,
    from tickets
    where
        reported_at >= least($date_from, $prev_from, $ly_from)
        and reported_at < greatest($date_to, $prev_to, $ly_to) + interval 1 day
        and /*filters*/
),

flags as (
    select
        period,
        closed_at_asof(closed_at, $now) as is_closed,
        on_time_at_asof(closed_at, deadline_at, $now) as is_on_time,
        overdue_at_asof(closed_at, deadline_at, $now) as is_overdue,
        satisfaction,
        case when closed_at <= $now
            then epoch(closed_at - reported_at) / 3600.0 end as close_hours,
    from tickets_in_periods
    where period is not null
),

counted as (
    select
        period,
        count(*) as reported_count,
        count(*) filter (where is_closed) as closed_count,
        count(*) filter (where is_on_time) as on_time_count,
        count(*) filter (where is_overdue) as overdue_count,
        count(*) filter (where satisfaction is not null) as rated_count,
        count(*) filter (where satisfaction = 'satisfied') as satisfied_count,
        median(close_hours) as median_close_hours,
    from flags
    group by period
),

periods as (
    select * from (
        values
            (1, 'current', $date_from, $date_to),
            (2, 'previous', $prev_from, $prev_to),
            (3, 'last_year', $ly_from, $ly_to)
    ) as p (period_order, period, period_from, period_to)
),

final as (
    select
        periods.period,
        cast(periods.period_from as date) as period_from,
        cast(periods.period_to as date) as period_to,
        coalesce(reported_count, 0) as reported_count,
        coalesce(closed_count, 0) as closed_count,
        coalesce(on_time_count, 0) as on_time_count,
        coalesce(overdue_count, 0) as overdue_count,
        coalesce(rated_count, 0) as rated_count,
        coalesce(satisfied_count, 0) as satisfied_count,
        rate_pct(closed_count, reported_count) as closure_pct,
        rate_pct(on_time_count, closed_count + overdue_count) as on_time_pct,
        rate_pct(satisfied_count, rated_count) as satisfaction_pct,
        round(median_close_hours, 1) as median_close_hours,
        periods.period_order,
    from periods
    left join counted on counted.period = periods.period
)

select * exclude (period_order) from final
order by period_order
