-- Explorer KPIs for three periods, as explore__summary.sql computes them, from the marts
-- of migration 0020 and the few tickets they cannot judge (sql/fragments/
-- explore_mart_period.sql, docs/explorer.md). Run by pipelines/queries/explore.py only
-- when the filters are the marts' own (community, category, level); it falls back to
-- explore__summary.sql when a period's median straddles two 0.1-h buckets
-- (low_bucket <> high_bucket), which these counts cannot settle.
with counted as (
    select 1 as period_order, * from (/*mart_period(cur)*/)
    union all
    select 2 as period_order, * from (/*mart_period(prev)*/)
    union all
    select 3 as period_order, * from (/*mart_period(ly)*/)
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
        reported_count,
        closed_count,
        on_time_count,
        overdue_count,
        rated_count,
        satisfied_count,
        rate_pct(closed_count, reported_count) as closure_pct,
        rate_pct(on_time_count, closed_count + overdue_count) as on_time_pct,
        rate_pct(satisfied_count, rated_count) as satisfaction_pct,
        case when low_bucket = high_bucket then low_bucket end as median_close_hours,
        low_bucket is distinct from high_bucket as median_unsettled,
        periods.period_order,
    from periods
    join counted on counted.period_order = periods.period_order
)

select * exclude (period_order) from final
order by period_order
