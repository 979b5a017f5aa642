-- Explorer trend (explore__trend.sql's frame) from the marts of migration 0020 and the few
-- tickets they cannot judge: run by pipelines/queries/explore.py only when the filters are
-- the marts' own (/*mart_filters*/, `$rollup` as for explore__summary_mart.sql). The dates
-- are whole days, so every reported day comes from the marts but for the tickets closed or
-- due on the as-of's day ($cur_day), which are judged here with the macros of migration
-- 0006 (sql/fragments/explore_mart_tickets.sql).
with chosen as materialized (
    /*mart_tickets(cur)*/
),

days as (
    select
        reported_on as day,
        reported_count as day_reported_count,
        case when closed_on < $cur_day then reported_count else 0 end as day_closed_count,
        case when closed_on < $cur_day then on_time_count else 0 end as day_on_time_count,
        case
            when (closed_on is null or closed_on > $cur_day) and deadline_on < $cur_day
                then reported_count
            else 0
        end as day_overdue_count,
    from ticket_summary_daily
    where rollup = $rollup
        and reported_on between $cur_full_from and $cur_full_to
        and closed_on is distinct from $cur_day
        and deadline_on is distinct from $cur_day
        and /*mart_filters*/
    union all
    select
        cast(reported_at as date),
        1,
        cast(closed_at_asof(closed_at, as_of) as int),
        cast(on_time_at_asof(closed_at, deadline_at, as_of) as int),
        cast(coalesce(overdue_at_asof(closed_at, deadline_at, as_of), false) as int),
    from chosen
),

final as (
    select
        cast(date_trunc($grain, day) as date) as period_start,
        cast(sum(day_reported_count) as bigint) as reported_count,
        cast(sum(day_closed_count) as bigint) as closed_count,
        cast(sum(day_on_time_count) as bigint) as on_time_count,
        cast(sum(day_overdue_count) as bigint) as overdue_count,
        rate_pct(closed_count, reported_count) as closure_pct,
        rate_pct(on_time_count, closed_count + overdue_count) as on_time_pct,
    from days
    group by period_start
)

select * from final
order by period_start
