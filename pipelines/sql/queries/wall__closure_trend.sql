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
        closed_at is not null and closed_at <= $now as is_closed,
        closed_at <= deadline_at as is_by_deadline,
        $now > deadline_at as is_past_deadline,
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
        count(*) filter (where is_closed and is_by_deadline) as on_time_count,
        count(*) filter (where not is_closed and is_past_deadline) as overdue_count,
    from recent
    group by month_no
),

final as (
    select
        make_date(
            cast(month_no // 12 as integer), cast(month_no % 12 + 1 as integer), 1
        ) as month_start,
        reported_count,
        round(100.0 * closed_count / nullif(reported_count, 0), 1) as closure_pct,
        round(
            100.0 * on_time_count / nullif(closed_count + overdue_count, 0), 1
        ) as on_time_pct,
    from counted
)

select * from final
order by month_start
