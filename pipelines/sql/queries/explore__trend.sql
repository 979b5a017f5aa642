-- Explorer: tickets reported per $grain (day | week | month; weeks start on Monday) in
-- $date_from..$date_to, with closure and on-time rates judged at $now (definitions as in
-- explore__summary).
with filtered as (
    select
        date_trunc($grain, reported_at) as bucket,
        coalesce(closed_at <= $now, false) as is_closed,
        coalesce(closed_at <= $now and closed_at <= deadline_at, false) as is_on_time,
        (closed_at is null or closed_at > $now) and $now > deadline_at as is_overdue,
    from tickets
    where
        reported_at >= $date_from
        and reported_at < $date_to + interval 1 day
        and /*filters*/
),

final as (
    select
        cast(bucket as date) as period_start,
        count(*) as reported_count,
        count(*) filter (where is_closed) as closed_count,
        count(*) filter (where is_on_time) as on_time_count,
        count(*) filter (where is_overdue) as overdue_count,
        round(100.0 * closed_count / nullif(reported_count, 0), 1) as closure_pct,
        round(100.0 * on_time_count / nullif(closed_count + overdue_count, 0), 1)
            as on_time_pct,
    from filtered
    group by bucket
)

select * from final
order by period_start
