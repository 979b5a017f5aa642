-- Wall, closure view: closure and on-time rates per month of report, the 12 months
-- ending with the month of $now (same definitions as wall__closure_by_level).
-- Months before $live_from are settled at $now (wall__closure_settled) and read from
-- wall_closure_monthly; later ones are counted from tickets, a short reported_at range.
-- Months are grouped as integers (year * 12 + month - 1): much cheaper than
-- date_trunc over millions of timestamps.
with months as (
    select cast(month_start as date) as month_start
    from range(
        cast($trend_start as timestamp),
        cast($month_start as timestamp) + interval 1 month,
        interval 1 month
    ) as t (month_start)
),

stored as (
    select
        year(month) * 12 + month(month) - 1 as month_no,
        cast(sum(reported_count) as bigint) as reported_count,
        cast(sum(closed_count) as bigint) as closed_count,
        cast(sum(on_time_count) as bigint) as on_time_count,
        cast(sum(overdue_count) as bigint) as overdue_count,
    from wall_closure_monthly
    where
        month >= $trend_start
        and month < $live_from
        and ($community is null or community = $community)
    group by month
),

recent as (
    select
        year(reported_at) * 12 + month(reported_at) - 1 as month_no,
        closed_at is not null and closed_at <= $now as is_closed,
        closed_at <= deadline_at as is_by_deadline,
        $now > deadline_at as is_past_deadline,
    from tickets
    where
        reported_at >= $live_from
        and reported_at <= $now
        and ($community is null or community = $community)
),

counted as (
    select
        month_no,
        count(*) as reported_count,
        count(*) filter (where is_closed) as closed_count,
        count(*) filter (where is_closed and is_by_deadline) as on_time_count,
        count(*) filter (where not is_closed and is_past_deadline) as overdue_count,
    from recent
    group by month_no
),

per_month as (
    select * from stored
    union all
    select * from counted
),

final as (
    select
        months.month_start,
        coalesce(per_month.reported_count, 0) as reported_count,
        round(
            100.0 * per_month.closed_count / nullif(per_month.reported_count, 0), 1
        ) as closure_pct,
        round(
            100.0 * per_month.on_time_count
            / nullif(per_month.closed_count + per_month.overdue_count, 0),
            1
        ) as on_time_pct,
    from months
    left join per_month
        on per_month.month_no
        = year(months.month_start) * 12 + month(months.month_start) - 1
)

select * from final
order by month_start
