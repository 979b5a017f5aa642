-- Wall, closure view: closure and on-time rates judged at $now per month of report, for
-- the months from $live_from up to (not including) $until that have tickets (same
-- definitions as wall__closure_month). These are the trend's months not settled at $now
-- (wall__closure_stored), a short reported_at range; the caller stops before the month
-- of $now when it has that month's figures already (the total of wall__closure_month).
-- Months are grouped as integers (year * 12 + month - 1): much cheaper than
-- date_trunc over millions of timestamps.
with recent as (
    select
        year(reported_at) * 12 + month(reported_at) - 1 as month_no,
        closed_at_asof(closed_at, $now) as is_closed,
        on_time_at_asof(closed_at, deadline_at, $now) as is_on_time,
        overdue_at_asof(closed_at, deadline_at, $now) as is_overdue,
    from tickets
    where
        reported_at >= $live_from
        and reported_at < $until
        and reported_at <= $now
        and ($community is null or community = $community)
),

counted as (
    select
        month_no,
        count(*) as reported_count,
        count(*) filter (where is_closed) as closed_count,
        count(*) filter (where is_on_time) as on_time_count,
        count(*) filter (where is_overdue) as overdue_count,
    from recent
    group by month_no
),

final as (
    select
        make_date(
            cast(month_no // 12 as integer), cast(month_no % 12 + 1 as integer), 1
        ) as month_start,
        reported_count,
        rate_pct(closed_count, reported_count) as closure_pct,
        rate_pct(on_time_count, closed_count + overdue_count) as on_time_pct,
    from counted
)

select * from final
order by month_start
