-- Explorer trend (explore__trend.sql's frame) from the marts of migration 0020 and the few
-- tickets they cannot judge: run by pipelines/queries/explore.py only when the filters are
-- the marts' own (/*mart_filters*/, `$rollup` as for explore__summary_mart.sql). The dates
-- are whole days, so every reported day comes from the marts but for the tickets closed or
-- due on the as-of's day ($cur_day), which are judged here with the macros of migration
-- 0006 (sql/fragments/explore_mart_*.sql, as the summary does).
with chosen as materialized (
    /*mart_tickets(cur)*/
),

days as (
    /*mart_counts(cur)*/
    union all
    /*mart_judged*/
),

summed as (
    select
        cast(date_trunc($grain, reported_on) as date) as period_start,
        cast(sum(reported_count) as bigint) as reported_count,
        cast(sum(closed_count) as bigint) as closed_count,
        cast(sum(on_time_count) as bigint) as on_time_count,
        cast(sum(overdue_count) as bigint) as overdue_count,
    from days
    group by period_start
),

final as (
    select
        *,
        rate_pct(closed_count, reported_count) as closure_pct,
        rate_pct(on_time_count, closed_count + overdue_count) as on_time_pct,
    from summed
)

select * from final
order by period_start
