-- Explorer KPIs for three periods, as explore__summary.sql computes them, from the marts
-- of migration 0020 and the few tickets they cannot judge (docs/explorer.md). Run by
-- pipelines/queries/explore.py only when the filters are the marts' own (category,
-- level: /*mart_filters*/ is those in use, `$rollup` ticket_summary_daily's rows for
-- them); it falls back to explore__summary.sql when a period's median straddles two
-- 0.1-h buckets (median_unsettled), which these counts cannot settle.
--
-- Each period p is [$p_start, $p_end] judged at $p_as_of, on day $p_day. Its whole
-- reported days, $p_full_from..$p_full_to, come from the marts, but for tickets closed
-- or due on $p_day; those and the tickets of a partial day come from `tickets`, judged
-- with the macros of migration 0006 (sql/fragments/explore_mart_*.sql, spliced once per
-- period). Unions and one aggregate per figure, no joins between the parts: planning a
-- join of nine parts cost more CPU than running them (docs/benchmarks.md).
with chosen as materialized (
    /*mart_tickets(cur)*/
    union all
    /*mart_tickets(prev)*/
    union all
    /*mart_tickets(ly)*/
),

counted as (
    select
        period_order,
        cast(sum(reported_count) as bigint) as reported_count,
        cast(sum(closed_count) as bigint) as closed_count,
        cast(sum(on_time_count) as bigint) as on_time_count,
        cast(sum(overdue_count) as bigint) as overdue_count,
        cast(sum(rated_count) as bigint) as rated_count,
        cast(sum(satisfied_count) as bigint) as satisfied_count,
    from (
        /*mart_counts(cur)*/
        union all
        /*mart_counts(prev)*/
        union all
        /*mart_counts(ly)*/
        union all
        /*mart_judged*/
    )
    group by period_order
),

-- hours to close of the tickets closed by the as-of, rounded as shown: whole days'
-- closed before the as-of's day from the mart, the others (partial days, closed that
-- day) here
hours as (
    select period_order, close_hours, sum(ticket_count) as ticket_count,
    from (
        /*mart_hours(cur)*/
        union all
        /*mart_hours(prev)*/
        union all
        /*mart_hours(ly)*/
        union all
        select period_order, round(epoch(closed_at - reported_at) / 3600.0, 1), 1,
        from chosen
        where closed_at <= as_of
            and (reported_at < full_start or reported_at >= full_stop
                 or closed_at >= day_start)
    )
    group by period_order, close_hours
),

-- the median is the middle ticket's hours (odd count) or the mean of the two middle
-- ones: the buckets of the tickets at 0-based ranks (n-1)//2 and n//2
ranked as (
    select
        period_order,
        close_hours,
        sum(ticket_count) over (partition by period_order order by close_hours) as up_to,
        sum(ticket_count) over (partition by period_order) as total,
    from hours
),

middle as (
    select
        period_order,
        min(close_hours) filter (where up_to > (total - 1) // 2) as low_bucket,
        min(close_hours) filter (where up_to > total // 2) as high_bucket,
    from ranked
    group by period_order
),

periods as (
    select * from (
        values
            (1, 'current', $cur_start, $cur_end, $cur_as_of),
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
        case when low_bucket = high_bucket then low_bucket end as median_close_hours,
        low_bucket is distinct from high_bucket as median_unsettled,
        periods.period_order,
    from periods
    left join counted on counted.period_order = periods.period_order
    left join middle on middle.period_order = periods.period_order
)

select * exclude (period_order) from final
order by period_order
