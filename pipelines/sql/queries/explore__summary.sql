-- Explorer KPIs for three periods in one scan: the selected one ($cur_start..$cur_end),
-- the previous period of the same length and the same dates last year, like for like:
-- each compared period covers the same span as the selected one (which ends at the data
-- cut-off while it runs) and is judged at the same distance after its own end
-- ($prev_as_of, $ly_as_of; the selected one at $now), so an old period's closure and
-- overdue are not those of a settled one. Windows come from pipelines.metrics.windows.
-- Definitions are the metric layer's macros (migration 0006): closure rate = closed /
-- reported; on-time rate = closed by deadline_at / (closed + open past deadline_at);
-- satisfaction = satisfied / rated; hours to close = closed_at - reported_at.
-- Each period is its own range scan (a ticket in two windows counts in the first), so
-- zone maps skip the months between them: one scan from last year's start to now read
-- every ticket of the year between (at 10M, "this month": 42 row groups, now 3).
with tickets_in_periods as (
    select 'current' as period, *,
    from tickets
    where in_window(reported_at, $cur_start, $cur_end)
    union all
    select 'previous' as period, *,
    from tickets
    where in_window(reported_at, $prev_start, $prev_end)
        and not in_window(reported_at, $cur_start, $cur_end)
    union all
    select 'last_year' as period, *,
    from tickets
    where in_window(reported_at, $ly_start, $ly_end)
        and not in_window(reported_at, $cur_start, $cur_end)
        and not in_window(reported_at, $prev_start, $prev_end)
),

judged as (
    -- the filters, status included, apply at each period's own as-of
    select *
    from (
        select
            *,
            case period
                when 'current' then cast($now as timestamp)
                when 'previous' then cast($prev_as_of as timestamp)
                else cast($ly_as_of as timestamp)
            end as as_of,
        from tickets_in_periods
        where period is not null
    )
    where /*filters_as_of*/
),

flags as (
    select
        period,
        closed_at_asof(closed_at, as_of) as is_closed,
        on_time_at_asof(closed_at, deadline_at, as_of) as is_on_time,
        overdue_at_asof(closed_at, deadline_at, as_of) as is_overdue,
        satisfaction,
        case when closed_at <= as_of
            then epoch(closed_at - reported_at) / 3600.0 end as close_hours,
    from judged
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
