-- Wall, closure view: per month from $trend_start to $month_start, the counts stored in
-- wall_closure_monthly (for $community, or all communities) as closure_pct and
-- on_time_pct, and is_settled: whether they hold at $now, i.e. every ticket of the
-- month settled before it. The trend reads the settled months before the first
-- unsettled one from here and counts the later ones from tickets
-- (wall__closure_trend). A month the community has no row in has reported_count 0, as
-- a month without tickets.
with stored as (
    select
        *,
        $community is null or community = $community as is_chosen,
    from wall_closure_monthly
    where
        month >= $trend_start
        and month <= $month_start
),

per_month as (
    -- settled_after is the month's, the same on each of its rows
    select
        month,
        max(settled_after) < $now as is_settled,
        cast(coalesce(sum(reported_count) filter (where is_chosen), 0) as bigint)
            as reported_count,
        cast(coalesce(sum(closed_count) filter (where is_chosen), 0) as bigint)
            as closed_count,
        cast(coalesce(sum(on_time_count) filter (where is_chosen), 0) as bigint)
            as on_time_count,
        cast(coalesce(sum(overdue_count) filter (where is_chosen), 0) as bigint)
            as overdue_count,
    from stored
    group by month
),

final as (
    select
        month as month_start,
        is_settled,
        reported_count,
        rate_pct(closed_count, reported_count) as closure_pct,
        rate_pct(on_time_count, closed_count + overdue_count) as on_time_pct,
    from per_month
)

select * from final
order by month_start
